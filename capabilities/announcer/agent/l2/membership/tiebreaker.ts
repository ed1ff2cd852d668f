/**
 * The API server's vote in L2 membership, cast through one shared Lease
 * (`metallb-l2-tiebreaker`) that at most one agent holds at a time. Used when the roster has
 * an even number of agents, so that a two-node cluster survives the death of either node and
 * the two halves of an even split cannot both win.
 *
 * Exclusive by construction: every write is a compare-and-swap on the resourceVersion we
 * read; the holder counts the vote only until `sent + duration - margin` of its last
 * successful renewal (timed from when it SENT it), and another agent takes the Lease only
 * after watching one resourceVersion stay unchanged for a whole duration on its own clock
 * (as client-go's leader election does), so the two intervals never overlap whatever the
 * clocks read. Per node this is one write per renewal period, by the holder only.
 */
import { ApiError, type AgentKube } from "../../kube";
import { microTime } from "../../lease";

export const TIEBREAKER_LEASE = "metallb-l2-tiebreaker";

export interface TiebreakerOptions {
  namespace: string;
  node: string;
  durationMs: number;
  /** The holder renews this often; others read this often. */
  renewMs: number;
  /** Taken off the holder's validity for clock-rate drift and scheduling. */
  marginMs: number;
}

interface LeaseObject {
  metadata: { resourceVersion?: string };
  spec?: { holderIdentity?: string; leaseTransitions?: number };
}

export type Held = { since: number; until: number } | undefined;

export class TiebreakerLease {
  private enabled = false;
  private held: Held;
  private observed?: { rv: string; at: number };
  private timer?: NodeJS.Timeout;
  private expiry?: NodeJS.Timeout;
  private stopped = false;
  private readonly path: string;

  constructor(
    private readonly kube: AgentKube,
    private readonly opts: TiebreakerOptions,
    private readonly onChange: (held: Held) => void,
    private readonly clock: () => number,
    private readonly now: () => number = Date.now,
    private readonly log: (msg: string) => void = () => {},
  ) {
    this.path = `/apis/coordination.k8s.io/v1/namespaces/${opts.namespace}/leases/${TIEBREAKER_LEASE}`;
  }

  /** Compete for the Lease (the roster has a tie-breaker and we are a voter) or not. */
  setEnabled(enabled: boolean): void {
    if (enabled === this.enabled) return;
    this.enabled = enabled;
    clearTimeout(this.timer);
    if (enabled) void this.tick();
    else this.release();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.expiry);
  }

  private release(): void {
    clearTimeout(this.expiry);
    if (this.held) {
      this.held = undefined;
      this.onChange(undefined);
    }
  }

  private async tick(): Promise<void> {
    if (this.stopped || !this.enabled) return;
    try {
      await this.attempt();
    } catch (err) {
      this.log(`tie-breaker Lease: ${(err as Error).message}`);
    }
    if (!this.stopped && this.enabled)
      this.timer = setTimeout(
        () => void this.tick(),
        this.held ? this.opts.renewMs : Math.min(this.opts.renewMs, 2000),
      );
  }

  private async attempt(): Promise<void> {
    let lease: LeaseObject | undefined;
    try {
      lease = await this.kube.send<LeaseObject>("GET", this.path, undefined, undefined, 5000);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    }
    const sentAt = this.clock();
    if (!lease) {
      await this.kube.send<LeaseObject>(
        "POST",
        `/apis/coordination.k8s.io/v1/namespaces/${this.opts.namespace}/leases`,
        this.body(0),
        undefined,
        5000,
      );
      return this.granted(sentAt);
    }
    const rv = lease.metadata.resourceVersion ?? "";
    const holder = lease.spec?.holderIdentity ?? "";
    if (holder === this.opts.node && this.held) return this.write(rv, lease, sentAt, false);
    if (this.observed?.rv !== rv) this.observed = { rv, at: this.clock() };
    // Ours from an earlier run, free, or unchanged for a whole duration: take it.
    if (holder === this.opts.node || holder === "" || this.clock() - this.observed.at >= this.opts.durationMs)
      return this.write(rv, lease, sentAt, true);
  }

  private body(transitions: number): unknown {
    const at = microTime(this.now());
    return {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: {
        name: TIEBREAKER_LEASE,
        namespace: this.opts.namespace,
        labels: { "app.kubernetes.io/name": "metallb-pepr", "app.kubernetes.io/component": "l2-membership" },
      },
      spec: {
        holderIdentity: this.opts.node,
        leaseDurationSeconds: Math.ceil(this.opts.durationMs / 1000),
        acquireTime: at,
        renewTime: at,
        leaseTransitions: transitions,
      },
    };
  }

  private async write(rv: string, lease: LeaseObject, sentAt: number, acquire: boolean): Promise<void> {
    const at = microTime(this.now());
    const patch = [
      { op: "test", path: "/metadata/resourceVersion", value: rv },
      { op: "add", path: "/spec/holderIdentity", value: this.opts.node },
      { op: "add", path: "/spec/renewTime", value: at },
      { op: "add", path: "/spec/leaseDurationSeconds", value: Math.ceil(this.opts.durationMs / 1000) },
      ...(acquire
        ? [
            { op: "add", path: "/spec/acquireTime", value: at },
            { op: "add", path: "/spec/leaseTransitions", value: (lease.spec?.leaseTransitions ?? 0) + 1 },
          ]
        : []),
    ];
    try {
      await this.kube.send("PATCH", this.path, patch, "application/json-patch+json", 5000);
    } catch (err) {
      if (err instanceof ApiError && (err.status === 409 || err.status === 422)) {
        this.observed = undefined; // someone else wrote it: watch the new version for a whole duration
        this.release();
        return;
      }
      throw err;
    }
    this.granted(sentAt);
  }

  private granted(sentAt: number): void {
    const until = sentAt + this.opts.durationMs - this.opts.marginMs;
    const since = this.held?.since ?? this.clock();
    this.held = { since, until };
    clearTimeout(this.expiry);
    this.expiry = setTimeout(() => this.release(), Math.max(0, until - this.clock()));
    this.onChange(this.held);
  }
}
