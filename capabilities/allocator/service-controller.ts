/**
 * The Service reconciler: feeds Service and configuration events into the pure
 * allocation engine and writes its decisions out.
 *
 * Decisions are made one at a time, in memory, so two Services can never be
 * given one address; the API writes that publish them are pipelined (a bounded
 * number in flight) because they are the slow part. Nothing is decided until
 * the initial load has re-claimed every address already shown in Service status
 * (holders first), so a restart never moves or duplicates an IP.
 */
import type { V1Service } from "@kubernetes/client-node";
import type { Allocator } from "../shared/allocator/allocator";
import type { Assignment, Pool } from "../shared/allocator/types";
import { formatIP, ipEquals, type IP } from "../shared/net/ip";
import {
  ANNOTATION,
  annotation,
  ingressIPs,
  isHandled,
  legacyAnnotations,
  serviceKey,
  toServiceRequest,
} from "./service-request";

/** What the controller needs from the outside world; the real one talks to the API server. */
export interface ServiceWriter {
  /** Publishes the assignment (or its absence) in status.loadBalancer.ingress and the pool annotation. */
  writeStatus(svc: V1Service, ips: readonly string[], pool: string | undefined): Promise<void>;
  event(svc: V1Service, type: "Normal" | "Warning", reason: string, message: string): void;
  /** Called after each batch of decisions so pool status and metrics follow. */
  poolsChanged(poolNames: ReadonlySet<string>): void;
}

export interface ControllerOptions {
  loadBalancerClass?: string;
  /** API writes in flight at once. */
  maxInFlight?: number;
  log?: (msg: string, extra?: Record<string, unknown>) => void;
}

const usesNamespaceSelectors = (pools: readonly Pool[]): boolean =>
  pools.some((p) => (p.serviceAllocation?.namespaceSelectors?.length ?? 0) > 0);

const sameLabels = (a: Record<string, string>, b: Record<string, string>): boolean =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

const sameIPs = (a: readonly IP[], b: readonly IP[]): boolean =>
  a.length === b.length && a.every((ip) => b.some((o) => ipEquals(ip, o)));

export class ServiceController {
  private readonly services = new Map<string, V1Service>();
  private readonly namespaceLabels = new Map<string, Record<string, string>>();
  private readonly dirty = new Set<string>();
  private readonly inFlight = new Set<string>();
  private readonly touchedPools = new Set<string>();
  private loaded = false;
  private held = false;
  /** Some pool selects by namespace labels: a Service waits until its namespace is seen. */
  private selectsNamespaces = false;
  private draining = false;
  private writesInFlight = 0;
  /** Failed writes waiting for their retry. */
  private retrying = 0;
  private readonly waiters: Array<() => void> = [];
  private readonly maxInFlight: number;

  constructor(
    private readonly engine: Allocator,
    private readonly writer: ServiceWriter,
    private readonly opts: ControllerOptions = {},
  ) {
    this.maxInFlight = opts.maxInFlight ?? 64;
  }

  /**
   * Initial load: the full Service list, holders of addresses first (most addresses
   * first), so existing assignments are re-claimed before anything new is handed out.
   */
  load(
    pools: readonly Pool[],
    services: readonly V1Service[],
    namespaces: ReadonlyMap<string, Record<string, string>>,
  ): void {
    for (const [ns, labels] of namespaces) this.namespaceLabels.set(ns, labels);
    this.engine.setPools(pools);
    this.selectsNamespaces = usesNamespaceSelectors(pools);
    for (const svc of services) this.remember(svc);
    const order = [...this.services.values()].sort((a, b) => ingressIPs(b).length - ingressIPs(a).length);
    for (const svc of order) this.dirty.delete(serviceKey(svc));
    this.loaded = true;
    for (const svc of order) this.reconcile(serviceKey(svc));
    this.schedule();
  }

  onServiceUpsert(svc: V1Service): void {
    if (!this.remember(svc)) return;
    this.markDirty(serviceKey(svc));
  }

  onServiceDelete(svc: V1Service): void {
    const key = serviceKey(svc);
    this.services.delete(key);
    this.markDirty(key);
  }

  onNamespace(name: string, labels: Record<string, string> | undefined): void {
    const known = this.namespaceLabels.get(name);
    if (labels && known && sameLabels(known, labels)) return; // a status or annotation update
    if (labels) this.namespaceLabels.set(name, labels);
    else this.namespaceLabels.delete(name);
    if (this.loaded) for (const [key, svc] of this.services) if (svc.metadata?.namespace === name) this.markDirty(key);
  }

  /**
   * A configuration change is on its way: make no decision until it arrives, or
   * a Service could be given an address from a pool that is being deleted.
   */
  holdForConfig(): void {
    this.held = true;
  }

  releaseHold(): void {
    this.held = false;
    if (this.dirty.size) this.schedule();
  }

  /** A new valid configuration: re-account existing assignments, then revisit every Service. */
  onPools(pools: readonly Pool[]): void {
    this.held = false;
    if (!this.loaded) return;
    const change = this.engine.setPools(pools);
    this.selectsNamespaces = usesNamespaceSelectors(pools);
    for (const p of pools) this.touchedPools.add(p.name);
    for (const key of change.released) this.markDirty(key);
    for (const key of this.services.keys()) this.markDirty(key);
  }

  /** Resolves when every decision is made and every write has settled (tests, benchmarks). */
  idle(): Promise<void> {
    if (this.dirty.size === 0 && this.writesInFlight === 0 && this.retrying === 0 && !this.draining) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Keeps the newest copy; false if the event is older than what we have. */
  private remember(svc: V1Service): boolean {
    const key = serviceKey(svc);
    const known = this.services.get(key);
    const rv = Number(svc.metadata?.resourceVersion ?? 0);
    if (known && Number(known.metadata?.resourceVersion ?? 0) > rv) return false;
    this.services.set(key, svc);
    return true;
  }

  private markDirty(key: string): void {
    this.dirty.add(key);
    if (this.loaded) this.schedule();
  }

  private schedule(): void {
    if (this.draining || this.held) return;
    this.draining = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    if (this.held) {
      // A hold that arrived after this drain was scheduled still applies.
      this.draining = false;
      return;
    }
    for (const key of this.dirty) {
      if (this.writesInFlight >= this.maxInFlight) break;
      if (this.inFlight.has(key)) continue; // revisited when its write settles
      this.dirty.delete(key);
      this.reconcile(key);
    }
    this.draining = false;
    this.flushPools();
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.dirty.size || this.writesInFlight || this.retrying) return;
    for (const w of this.waiters.splice(0)) w();
  }

  private flushPools(): void {
    if (this.touchedPools.size === 0) return;
    this.writer.poolsChanged(new Set(this.touchedPools));
    this.touchedPools.clear();
  }

  /** One convergence step for one Service (MetalLB's order, reference §3). */
  private reconcile(key: string): void {
    const svc = this.services.get(key);
    if (!svc) return this.release(key);
    if (!isHandled(svc, this.opts.loadBalancerClass)) {
      this.release(key);
      // A Service that stopped being a LoadBalancer loses what we published; one of
      // another loadBalancerClass belongs to another implementation and is never touched.
      const stoppedBeingLB = svc.spec?.type !== "LoadBalancer";
      if (stoppedBeingLB && annotation(svc, ANNOTATION.allocatedFromPool) !== undefined)
        this.publish(svc, [], undefined);
      return;
    }
    const namespace = svc.metadata?.namespace ?? "";
    // A Service can arrive before its (new) namespace: deciding without the namespace's
    // labels could pick the wrong pool. onNamespace revisits it when they arrive.
    if (this.selectsNamespaces && !this.namespaceLabels.has(namespace)) return;
    for (const legacy of legacyAnnotations(svc)) {
      this.writer.event(svc, "Warning", "deprecatedAnnotation", `Service uses deprecated annotation ${legacy}`);
    }
    const req = toServiceRequest(svc, this.namespaceLabels.get(namespace));
    if (!req.ok) {
      this.writer.event(svc, "Warning", "LoadBalancerFailed", req.error.message);
      return;
    }
    const request = req.value;
    const current = ingressIPs(svc);
    const held = this.engine.assignmentOf(key);

    if (current.length) {
      const wantsOtherPool = request.pool !== undefined && held !== undefined && held.pool !== request.pool;
      const wantsOtherIPs = request.requestedIPs !== undefined && !sameIPs(request.requestedIPs, current);
      if (wantsOtherPool || wantsOtherIPs) {
        this.release(key);
      } else {
        const kept = this.engine.assign(request, current);
        if (kept.ok) {
          this.touchedPools.add(kept.value.pool);
          this.maybeAddFamily(svc, kept.value);
          return;
        }
        this.release(key);
        this.writer.event(
          svc,
          "Normal",
          "ClearAssignment",
          `current IP for "${key}" not allowed by config, will attempt for new IP assignment: ${kept.error.message}`,
        );
      }
    } else if (held) {
      // We decided but the status write has not landed (or was reverted): publish again.
      this.publish(svc, held.ips, held.pool);
      return;
    }

    const result = request.requestedIPs
      ? this.engine.assign(request, request.requestedIPs)
      : this.engine.allocate(request);
    if (!result.ok) {
      this.writer.event(
        svc,
        "Warning",
        "AllocationFailed",
        `Failed to allocate IP for "${key}": ${result.error.message}`,
      );
      if (current.length) this.publish(svc, [], undefined);
      return;
    }
    this.touchedPools.add(result.value.pool);
    const ips = result.value.ips.map(formatIP);
    this.writer.event(svc, "Normal", "IPAllocated", `Assigned IP ${JSON.stringify(ips)}`);
    this.publish(svc, result.value.ips, result.value.pool);
  }

  /** PreferDualStack Services holding one family gain the other when their pool can give it. */
  private maybeAddFamily(svc: V1Service, held: Assignment): void {
    const stale = annotation(svc, ANNOTATION.allocatedFromPool) !== held.pool;
    if (svc.spec?.ipFamilyPolicy === "PreferDualStack" && held.ips.length === 1) {
      const grown = this.engine.addMissingFamily(held.serviceKey);
      if (grown.ok) {
        const added = grown.value.ips.find((ip) => !held.ips.some((h) => ipEquals(h, ip)))!;
        this.writer.event(svc, "Normal", "IPAllocated", `Assigned additional IP ${formatIP(added)}`);
        return this.publish(svc, grown.value.ips, grown.value.pool);
      }
    }
    if (stale) this.publish(svc, held.ips, held.pool);
  }

  private release(key: string): void {
    const held = this.engine.assignmentOf(key);
    if (!held) return;
    this.engine.release(key);
    this.touchedPools.add(held.pool);
    // A freed address may let a pending Service through.
    for (const [other, svc] of this.services) {
      if (other !== key && ingressIPs(svc).length === 0 && isHandled(svc, this.opts.loadBalancerClass))
        this.dirty.add(other);
    }
  }

  private publish(svc: V1Service, ips: readonly IP[], pool: string | undefined): void {
    const key = serviceKey(svc);
    const texts = ips.map(formatIP);
    this.inFlight.add(key);
    this.writesInFlight++;
    this.writer
      .writeStatus(svc, texts, pool)
      .catch((err: unknown) => {
        // Gone meanwhile: its delete event releases the address; nothing to retry.
        if ((err as { status?: number }).status === 404) return;
        this.opts.log?.("status write failed; will retry", { service: key, err: String(err) });
        // Retry after a pause, without holding one of the in-flight write slots meanwhile:
        // a burst of failures must not starve every other Service's write.
        this.retrying++;
        setTimeout(() => {
          this.retrying--;
          this.dirty.add(key);
          this.schedule();
        }, 1000);
      })
      .finally(() => {
        this.inFlight.delete(key);
        this.writesInFlight--;
        if (this.dirty.size) this.schedule();
        else this.notifyIdle();
      });
  }
}
