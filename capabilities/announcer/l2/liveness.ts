/**
 * Which agents are alive, from their Leases. Pure (the caller passes the clock).
 *
 * A node is live while the controller has SEEN a renewal within `deadAfterMs`. We time
 * renewals by when we observed them, not by the renewTime they carry, so clock skew
 * between nodes and the controller cannot shorten the agent's fencing margin. A draining
 * Lease (clean stop) counts as not live at once: its IPs move before the agent goes.
 */
export interface LeaseView {
  readonly node: string;
  readonly renewTime?: string;
  readonly draining: boolean;
}

interface Seen {
  renewTime?: string;
  seenAt: number;
  draining: boolean;
}

export class Liveness {
  private readonly seen = new Map<string, Seen>();

  constructor(private readonly deadAfterMs: number) {}

  /**
   * Records a Lease as read from the API server. At start-up (`initial`) a renewal older
   * than deadAfter by the Lease's own clock is not taken as a sign of life.
   */
  observe(lease: LeaseView, now: number, initial = false): void {
    const prev = this.seen.get(lease.node);
    let seenAt = prev?.seenAt ?? 0;
    if (!prev || prev.renewTime !== lease.renewTime) {
      const stamped = lease.renewTime ? Date.parse(lease.renewTime) : NaN;
      seenAt = initial && !(now - stamped <= this.deadAfterMs) ? 0 : now;
    }
    this.seen.set(lease.node, { renewTime: lease.renewTime, seenAt, draining: lease.draining });
  }

  remove(node: string): void {
    this.seen.delete(node);
  }

  isLive(node: string, now: number): boolean {
    const s = this.seen.get(node);
    return !!s && !s.draining && s.seenAt > 0 && now - s.seenAt <= this.deadAfterMs;
  }

  live(now: number): Set<string> {
    return new Set([...this.seen.keys()].filter((n) => this.isLive(n, now)));
  }

  /** When we last saw `node` renew (0 = never). */
  lastSeen(node: string): number {
    return this.seen.get(node)?.seenAt ?? 0;
  }

  isDraining(node: string): boolean {
    return this.seen.get(node)?.draining ?? false;
  }
}
