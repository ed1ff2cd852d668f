/**
 * The agent's liveness Lease (coordination.k8s.io/v1 `metallb-agent-<node>`) and its
 * self-fencing.
 *
 * Renewal: every `renewMs` a JSON patch that first tests the resourceVersion we last saw
 * (compare-and-swap: a second agent claiming this node's name makes both notice).
 * Fencing: the controller declares a node dead `deadAfter` after it last SAW a renewal,
 * which is after the renewal was SENT. We stop answering `fenceAfter` (< deadAfter) after
 * sending the last renewal that succeeded, so we are silent before the controller can
 * hand our IPs to another node, whatever the network or the API server did in between.
 * We resume only after a renewal succeeds again.
 */
import { EventEmitter } from "node:events";
import { ApiError, type AgentKube } from "./kube";

export const DRAINING_ANNOTATION = "metallb.io/draining";
export const LEASE_PREFIX = "metallb-agent-";
export const leaseName = (node: string): string => `${LEASE_PREFIX}${node}`;

/** Kubernetes MicroTime: RFC 3339 with exactly six fractional digits. */
export const microTime = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");

export interface LeaseOptions {
  namespace: string;
  nodeName: string;
  renewMs: number;
  fenceAfterMs: number;
}

interface LeaseObject {
  metadata: { resourceVersion?: string };
}

export interface LeaseKeeperEvents {
  fenced: [];
  unfenced: [];
  /** A write to the Lease succeeded (for the writes-per-second metric). */
  written: [];
}

export class LeaseKeeper extends EventEmitter<LeaseKeeperEvents> {
  /** True until the first renewal succeeds and whenever the last one is too old. */
  fenced = true;
  /** Successful writes, for the writes-per-second figure. */
  writes = 0;
  private rv?: string;
  private draining = false;
  private timer?: NodeJS.Timeout;
  private fenceTimer?: NodeJS.Timeout;
  private inFlight = false;
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

  /** Marks the Lease draining (clean stop); resolves once that write succeeded. */
  async drain(): Promise<void> {
    this.draining = true;
    const deadline = this.now() + 3000;
    while (this.now() < deadline && !this.stopped) {
      if (await this.renew()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.fenceTimer);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    await this.renew();
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), this.opts.renewMs);
  }

  /** One renewal attempt; true when it succeeded. */
  private async renew(): Promise<boolean> {
    if (this.inFlight) return false;
    this.inFlight = true;
    const sentAt = this.now();
    try {
      if (this.rv === undefined) await this.createOrRead(sentAt);
      else {
        const patch = [
          { op: "test", path: "/metadata/resourceVersion", value: this.rv },
          { op: "replace", path: "/spec/renewTime", value: microTime(sentAt) },
          { op: "add", path: "/metadata/annotations", value: { [DRAINING_ANNOTATION]: String(this.draining) } },
        ];
        const lease = await this.kube.send<LeaseObject>("PATCH", this.path, patch, "application/json-patch+json", this.opts.fenceAfterMs);
        this.rv = lease.metadata.resourceVersion;
      }
      this.writes++;
      this.emit("written");
      this.renewed(sentAt);
      return true;
    } catch (err) {
      // A failed test means someone else wrote our Lease: read it again and retry next tick.
      if (err instanceof ApiError && err.status >= 400 && err.status < 500) this.rv = undefined;
      this.log(`lease renewal failed: ${(err as Error).message}`);
      return false;
    } finally {
      this.inFlight = false;
    }
  }

  private async createOrRead(sentAt: number): Promise<void> {
    const body = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: {
        name: leaseName(this.opts.nodeName),
        namespace: this.opts.namespace,
        labels: { "app.kubernetes.io/name": "metallb-pepr", "app.kubernetes.io/component": "agent", "metallb.io/node": this.opts.nodeName },
        annotations: { [DRAINING_ANNOTATION]: String(this.draining) },
      },
      spec: { holderIdentity: this.opts.nodeName, leaseDurationSeconds: Math.max(1, Math.ceil(this.opts.fenceAfterMs / 1000)), acquireTime: microTime(sentAt), renewTime: microTime(sentAt) },
    };
    try {
      const created = await this.kube.send<LeaseObject>("POST", `/apis/coordination.k8s.io/v1/namespaces/${this.opts.namespace}/leases`, body, undefined, this.opts.fenceAfterMs);
      this.rv = created.metadata.resourceVersion;
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 409)) throw err;
      const existing = await this.kube.send<LeaseObject>("GET", this.path, undefined, undefined, this.opts.fenceAfterMs);
      this.rv = existing.metadata.resourceVersion;
      // The read is not a renewal: renew with a CAS patch now, so the write counts.
      const patch = [
        { op: "test", path: "/metadata/resourceVersion", value: this.rv },
        { op: "replace", path: "/spec/renewTime", value: microTime(sentAt) },
        { op: "replace", path: "/spec/holderIdentity", value: this.opts.nodeName },
        { op: "add", path: "/metadata/annotations", value: { [DRAINING_ANNOTATION]: String(this.draining) } },
      ];
      const lease = await this.kube.send<LeaseObject>("PATCH", this.path, patch, "application/json-patch+json", this.opts.fenceAfterMs);
      this.rv = lease.metadata.resourceVersion;
    }
  }

  private renewed(sentAt: number): void {
    clearTimeout(this.fenceTimer);
    const remaining = sentAt + this.opts.fenceAfterMs - this.now();
    if (remaining <= 0) return this.fence();
    this.fenceTimer = setTimeout(() => this.fence(), remaining);
    if (this.fenced) {
      this.fenced = false;
      this.emit("unfenced");
    }
  }

  private fence(): void {
    if (this.fenced) return;
    this.fenced = true;
    this.emit("fenced");
  }
}
