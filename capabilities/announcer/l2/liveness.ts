/**
 * Which agents are alive, from their Leases. Pure (the caller passes the clock).
 *
 * A node is live while the controller has SEEN a renewal within `deadAfterMs`, it is not
 * draining, and no live agent reports it down. We time renewals by when we observed them,
 * not by the renewTime they carry, so clock skew between nodes and the controller cannot
 * shorten the agent's fencing margin. A draining Lease (clean stop) counts as not live at
 * once: its IPs move before the agent goes.
 *
 * Down reports (issue 12): each agent's Lease carries `metallb.io/down`, the nodes its
 * quorum judges dead (heartbeats between agents, off the API server). That verdict is
 * authoritative and fast: the standby the agents chose already answers, and the controller
 * only records it. Expiry (30 s by default) is the backstop for a cluster with no quorum.
 *
 * No mass unannouncement: when more than half of the agents the controller last saw live
 * would go at once by expiry, the likelier story is that the controller stopped hearing
 * (a stalled Lease watch, an API server outage), not that half the cluster died; it holds
 * them live (`judgeLiveness`) until renewals are seen again or the condition clears. With
 * renewals every R seconds, a stalled watch does not make every Lease expire at the same
 * moment but over R; so "at once" is judged by the agents that are overdue (silent longer
 * than `overdueMs`, a missed renewal) when the first of them expires.
 */
export interface LeaseView {
  readonly node: string;
  readonly renewTime?: string;
  readonly draining: boolean;
  /** metallb.io/heartbeat-address: where to send this agent heartbeats. */
  readonly heartbeatAddress?: string;
  /** metallb.io/down: the nodes this agent's quorum judges down. */
  readonly down?: readonly string[];
}

interface Seen {
  renewTime?: string;
  seenAt: number;
  draining: boolean;
  heartbeatAddress?: string;
  down: readonly string[];
}

/** One agent as the liveness judgement sees it. */
export interface AgentState {
  /** When a renewal was last seen (0 = never). */
  readonly seenAt: number;
  readonly draining: boolean;
  /** A live agent reports it down. */
  readonly reportedDown: boolean;
}

export interface LivenessVerdict {
  readonly live: Set<string>;
  /** Expiry is suspended: most agents went quiet at once. */
  readonly holding: boolean;
  /** Kept live only because of the hold. */
  readonly held: string[];
}

/**
 * Live agents now, given those live at the previous judgement. Pure.
 * Expired = previously live, still not draining nor reported down, and no renewal seen
 * within deadAfterMs. If some are expired and more than half of the previously live agents
 * whose fate is up to expiry are overdue, hold: the expired ones stay live.
 */
export function judgeLiveness(
  agents: ReadonlyMap<string, AgentState>,
  previouslyLive: ReadonlySet<string>,
  now: number,
  deadAfterMs: number,
  overdueMs: number,
): LivenessVerdict {
  const fresh = (a: AgentState): boolean => a.seenAt > 0 && now - a.seenAt <= deadAfterMs;
  const live = new Set<string>();
  for (const [n, a] of agents) if (fresh(a) && !a.draining && !a.reportedDown) live.add(n);
  const byExpiry: string[] = [];
  const overdue: string[] = [];
  for (const n of previouslyLive) {
    const a = agents.get(n);
    if (!a || a.draining || a.reportedDown) continue;
    byExpiry.push(n);
    if (now - a.seenAt > overdueMs) overdue.push(n);
  }
  const expired = byExpiry.filter((n) => !live.has(n));
  if (expired.length === 0 || overdue.length * 2 <= byExpiry.length) return { live, holding: false, held: [] };
  for (const n of expired) live.add(n);
  return { live, holding: true, held: expired };
}

export class Liveness {
  private readonly seen = new Map<string, Seen>();
  /** Node -> when the controller first saw it reported down (for the failover histogram). */
  private readonly downSince = new Map<string, number>();
  /** Kept live by the hold at the last judgement. */
  private held: string[] = [];

  constructor(
    private readonly deadAfterMs: number,
    private readonly overdueMs: number = deadAfterMs / 2,
  ) {}

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
    this.seen.set(lease.node, {
      renewTime: lease.renewTime,
      seenAt,
      draining: lease.draining,
      heartbeatAddress: lease.heartbeatAddress,
      down: (lease.down ?? []).filter((n) => n !== lease.node),
    });
    this.reportedDown(now);
  }

  remove(node: string): void {
    this.seen.delete(node);
  }

  private fresh(s: Seen | undefined, now: number): boolean {
    return !!s && s.seenAt > 0 && now - s.seenAt <= this.deadAfterMs;
  }

  /** Nodes some live (fresh, not draining) agent reports down, with when we first saw it. */
  reportedDown(now: number): ReadonlyMap<string, number> {
    const reported = new Set<string>();
    for (const s of this.seen.values()) if (this.fresh(s, now) && !s.draining) s.down.forEach((n) => reported.add(n));
    for (const n of [...this.downSince.keys()]) if (!reported.has(n)) this.downSince.delete(n);
    for (const n of reported) if (!this.downSince.has(n)) this.downSince.set(n, now);
    return this.downSince;
  }

  /** The judgement of `judgeLiveness` over what was observed. */
  judge(now: number, previouslyLive: ReadonlySet<string>): LivenessVerdict {
    const down = this.reportedDown(now);
    const agents = (): Map<string, AgentState> =>
      new Map(
        [...this.seen].map(([n, s]) => [n, { seenAt: s.seenAt, draining: s.draining, reportedDown: down.has(n) }]),
      );
    let verdict = judgeLiveness(agents(), previouslyLive, now, this.deadAfterMs, this.overdueMs);
    if (this.held.length > 0 && !verdict.holding) {
      // The hold ends (renewals are seen again): the agents it kept get a fresh deadAfter from
      // now, as at start-up, rather than expiring before their next renewal can be seen.
      for (const n of this.held) {
        const s = this.seen.get(n);
        if (s && s.seenAt > 0 && !verdict.live.has(n)) s.seenAt = now;
      }
      verdict = judgeLiveness(agents(), previouslyLive, now, this.deadAfterMs, this.overdueMs);
    }
    this.held = verdict.held;
    return verdict;
  }

  /** Live, without the hold (fresh, not draining, not reported down). */
  isLive(node: string, now: number): boolean {
    const s = this.seen.get(node);
    return this.fresh(s, now) && !s!.draining && !this.reportedDown(now).has(node);
  }

  live(now: number): Set<string> {
    return new Set([...this.seen.keys()].filter((n) => this.isLive(n, now)));
  }

  /** When we last saw `node` renew (0 = never). */
  lastSeen(node: string): number {
    return this.seen.get(node)?.seenAt ?? 0;
  }

  /** When we first saw `node` reported down by a live agent (undefined: it is not). */
  downReportedAt(node: string): number | undefined {
    return this.downSince.get(node);
  }

  isDraining(node: string): boolean {
    return this.seen.get(node)?.draining ?? false;
  }

  /** Node -> heartbeat address, for every agent whose Lease names one (live or not). */
  heartbeatAddresses(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [n, s] of this.seen) if (s.heartbeatAddress) out.set(n, s.heartbeatAddress);
    return out;
  }
}
