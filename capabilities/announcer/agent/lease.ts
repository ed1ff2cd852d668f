/**
 * The agent's node Lease (coordination.k8s.io/v1 `metallb-agent-<node>`): how the controller
 * learns that this node runs an agent, where its membership heartbeats go, whether it is
 * draining, and which nodes its quorum judges down (so the controller records a takeover the
 * agents already made).
 *
 * It is no longer what keeps an L2 address safe: agents fence themselves by quorum among
 * each other (l2/membership/). So it is renewed rarely (every 10 s by default: 0.1 API writes
 * per second per node), and a change of the reported facts is written at once. Every write is
 * a JSON patch that first tests the resourceVersion we last saw (compare-and-swap: a second
 * agent claiming this node's name makes both notice).
 */
import { EventEmitter } from "node:events";
import { ApiError, type AgentKube } from "./kube";

export const DRAINING_ANNOTATION = "metallb.io/draining";
export const HEARTBEAT_ADDRESS_ANNOTATION = "metallb.io/heartbeat-address";
export const DOWN_ANNOTATION = "metallb.io/down";
export const LEASE_PREFIX = "metallb-agent-";
export const leaseName = (node: string): string => `${LEASE_PREFIX}${node}`;

/** Kubernetes MicroTime: RFC 3339 with exactly six fractional digits. */
export const microTime = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");

export interface LeaseOptions {
  namespace: string;
  nodeName: string;
  renewMs: number;
  /** Where other agents send membership heartbeats to this node. */
  heartbeatAddress: string;
  /** Longest wait for one API request. */
  timeoutMs?: number;
}

interface LeaseObject {
  metadata: { resourceVersion?: string };
}

export interface LeaseKeeperEvents {
  /** A write to the Lease succeeded (for the writes-per-second metric). */
  written: [];
}

export class LeaseKeeper extends EventEmitter<LeaseKeeperEvents> {
  /** Successful writes. */
  writes = 0;
  private rv?: string;
  private draining = false;
  private down: string[] = [];
  /** The annotations of the last successful write: a change is written at once. */
  private written?: string;
  private timer?: NodeJS.Timeout;
  private inFlight = false;
  private again = false;
  private stopped = false;
  private readonly path: string;

  constructor(
    private readonly kube: AgentKube,
    private readonly opts: LeaseOptions,
    private readonly log: (msg: string) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {
    super();
    this.path = `/apis/coordination.k8s.io/v1/namespaces/${opts.namespace}/leases/${leaseName(opts.nodeName)}`;
  }

  start(): void {
    void this.tick();
  }

  /** The nodes our quorum judges down; written at once when the set changes. */
  reportDown(nodes: Iterable<string>): void {
    const sorted = [...nodes].sort();
    if (sorted.join(",") === this.down.join(",")) return;
    this.down = sorted;
    void this.renew();
  }

  /** Marks the Lease draining (clean stop); resolves once that write succeeded. */
  async drain(): Promise<void> {
    this.draining = true;
    const deadline = this.now() + 3000;
    while (this.now() < deadline && !this.stopped) {
      if ((await this.renew()) && this.written === JSON.stringify(this.annotations())) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private annotations(): Record<string, string> {
    return {
      [DRAINING_ANNOTATION]: String(this.draining),
      [HEARTBEAT_ADDRESS_ANNOTATION]: this.opts.heartbeatAddress,
      [DOWN_ANNOTATION]: this.down.join(","),
    };
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const ok = await this.renew();
    // A failed write is retried sooner than the renewal period, so a reported change lands.
    const next =
      ok && this.written === JSON.stringify(this.annotations()) ? this.opts.renewMs : Math.min(this.opts.renewMs, 1000);
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), next);
  }

  /** One write of the current facts; true when it succeeded. */
  private async renew(): Promise<boolean> {
    if (this.inFlight) {
      this.again = true;
      return false;
    }
    this.inFlight = true;
    const sentAt = this.now();
    const annotations = this.annotations();
    const timeout = this.opts.timeoutMs ?? 5000;
    try {
      if (this.rv === undefined) await this.createOrRead(sentAt, annotations);
      else {
        await this.casPatch(
          [
            { op: "replace", path: "/spec/renewTime", value: microTime(sentAt) },
            { op: "add", path: "/metadata/annotations", value: annotations },
          ],
          timeout,
        );
      }
      this.writes++;
      this.written = JSON.stringify(annotations);
      this.emit("written");
      return true;
    } catch (err) {
      // A failed test means someone else wrote our Lease: read it again and retry.
      if (err instanceof ApiError && err.status >= 400 && err.status < 500) this.rv = undefined;
      this.log(`lease write failed: ${(err as Error).message}`);
      return false;
    } finally {
      this.inFlight = false;
      if (this.again && !this.stopped) {
        this.again = false;
        if (this.written !== JSON.stringify(this.annotations())) void this.renew();
      }
    }
  }

  private async createOrRead(sentAt: number, annotations: Record<string, string>): Promise<void> {
    const timeout = this.opts.timeoutMs ?? 5000;
    const body = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: {
        name: leaseName(this.opts.nodeName),
        namespace: this.opts.namespace,
        labels: {
          "app.kubernetes.io/name": "metallb-pepr",
          "app.kubernetes.io/component": "agent",
          "metallb.io/node": this.opts.nodeName,
        },
        annotations,
      },
      spec: {
        holderIdentity: this.opts.nodeName,
        leaseDurationSeconds: Math.max(1, Math.ceil((3 * this.opts.renewMs) / 1000)),
        acquireTime: microTime(sentAt),
        renewTime: microTime(sentAt),
      },
    };
    try {
      const created = await this.kube.send<LeaseObject>(
        "POST",
        `/apis/coordination.k8s.io/v1/namespaces/${this.opts.namespace}/leases`,
        body,
        undefined,
        timeout,
      );
      this.rv = created.metadata.resourceVersion;
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 409)) throw err;
      const existing = await this.kube.send<LeaseObject>("GET", this.path, undefined, undefined, timeout);
      this.rv = existing.metadata.resourceVersion;
      // The read is not a renewal: renew with a CAS patch now, so the write counts.
      await this.casPatch(
        [
          { op: "replace", path: "/spec/renewTime", value: microTime(sentAt) },
          { op: "replace", path: "/spec/holderIdentity", value: this.opts.nodeName },
          { op: "replace", path: "/spec/leaseDurationSeconds", value: body.spec.leaseDurationSeconds },
          { op: "add", path: "/metadata/annotations", value: annotations },
        ],
        timeout,
      );
    }
  }

  /** A JSON patch that first tests the resourceVersion we last saw (compare-and-swap); keeps the new one. */
  private async casPatch(ops: Array<{ op: string; path: string; value: unknown }>, timeoutMs: number): Promise<void> {
    const patch = [{ op: "test", path: "/metadata/resourceVersion", value: this.rv }, ...ops];
    const lease = await this.kube.send<LeaseObject>(
      "PATCH",
      this.path,
      patch,
      "application/json-patch+json",
      timeoutMs,
    );
    this.rv = lease.metadata.resourceVersion;
  }
}
