/**
 * The Service reconciler: feeds Service and configuration events into the pure
 * allocation engine and writes its decisions out.
 *
 * Decisions are made one at a time, in memory, so two Services can never be
 * given one address; the API writes that publish them are pipelined (a bounded
 * number in flight) because they are the slow part.
 *
 * The promises, and where they are kept:
 * - A restart never moves or duplicates an IP: `load` re-claims every address already
 *   in Service status (oldest Service first) before it decides anything new, so a
 *   Service missing an address (a PreferDualStack family, a pool shrunk past it) cannot
 *   take one another Service still shows.
 * - An address is released only for a reason the user can read in an Event on the
 *   Service: every path that takes one away says why.
 * - Freed addresses are offered to the waiting Services first come first served, and
 *   only until each of them is taken again: a delete with 1,000 Services waiting is one
 *   allocation, not 1,000 retries and 1,000 Events. Counting is by address, not by
 *   Service: a taker may share an address or take two, and a freed IPv6 address cannot
 *   serve an IPv4 waiter, so nobody is skipped while a freed address is still free. A
 *   Service's AllocationFailed Event is repeated only when its reason changes.
 * - What a status write returns is the newest copy of the Service: deciding again from
 *   the copy the watch has not yet replaced would release (and announce) twice.
 * - A failed status write is retried with jittered exponential back-off.
 */
import type { V1Service } from "@kubernetes/client-node";
import type { Allocator } from "../shared/allocator/allocator";
import { Backoff } from "../shared/backoff";
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
  /**
   * Publishes the assignment (or its absence) in status.loadBalancer.ingress and the pool
   * annotation. `eventsFirst`: the write takes away an address the Service shows, so the
   * Events already emitted (why it moves) must reach the API server before it: a crash in
   * between must not leave a moved address with no reason a user can read.
   */
  writeStatus(
    svc: V1Service,
    ips: readonly string[],
    pool: string | undefined,
    eventsFirst: boolean,
  ): Promise<V1Service | undefined>;
  event(svc: V1Service, type: "Normal" | "Warning", reason: string, message: string): void;
  /** Called after each batch of decisions so pool status and metrics follow. */
  poolsChanged(poolNames: ReadonlySet<string>): void;
}

export interface ControllerOptions {
  loadBalancerClass?: string;
  /** API writes in flight at once. */
  maxInFlight?: number;
  log?: (msg: string, extra?: Record<string, unknown>) => void;
  /** Status write retries: first ceiling and cap of the jittered back-off. */
  retryInitialMs?: number;
  retryMaxMs?: number;
}

const usesNamespaceSelectors = (pools: readonly Pool[]): boolean =>
  pools.some((p) => (p.serviceAllocation?.namespaceSelectors?.length ?? 0) > 0);

const sameLabels = (a: Record<string, string>, b: Record<string, string>): boolean =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

/** Oldest first (creation time, then name): who keeps an address if two ever showed it. */
const olderFirst = (a: V1Service, b: V1Service): number => {
  const ta = String(a.metadata?.creationTimestamp ?? "");
  const tb = String(b.metadata?.creationTimestamp ?? "");
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = serviceKey(a);
  const kb = serviceKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
};

const shownIPs = (svc: V1Service): string[] => ingressIPs(svc).map(formatIP);

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
  /**
   * Services that could not get an address, in the order they started waiting (a Map
   * keeps insertion order), with the reason last told to the user.
   */
  private readonly waiting = new Map<string, string>();
  /** Addresses freed since the waiting Services were last offered them. */
  private freed: IP[] = [];
  private readonly retryBackoff: Backoff;

  constructor(
    private readonly engine: Allocator,
    private readonly writer: ServiceWriter,
    private readonly opts: ControllerOptions = {},
  ) {
    this.maxInFlight = opts.maxInFlight ?? 64;
    this.retryBackoff = new Backoff({ initialMs: opts.retryInitialMs ?? 500, maxMs: opts.retryMaxMs ?? 30_000 });
  }

  /**
   * Initial load, in two passes. First every Service re-claims the addresses its status
   * shows (oldest first: if two ever showed one address, the older keeps it); nothing is
   * written. Only then is any Service reconciled, so nothing new can be handed out while
   * a holder has yet to re-claim its address.
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
    const order = [...this.services.values()].sort(olderFirst);
    for (const svc of order) this.reclaim(svc);
    this.dirty.clear();
    this.loaded = true;
    for (const svc of order) this.reconcile(serviceKey(svc));
    this.schedule();
  }

  /** Start-up's first pass: takes back what the status shows, if the configuration allows it. */
  private reclaim(svc: V1Service): void {
    const current = ingressIPs(svc);
    if (current.length === 0 || !isHandled(svc, this.opts.loadBalancerClass)) return;
    const namespace = svc.metadata?.namespace ?? "";
    if (this.selectsNamespaces && !this.namespaceLabels.has(namespace)) return;
    const req = toServiceRequest(svc, this.namespaceLabels.get(namespace));
    if (req.ok)
      this.engine.assign(req.value, current, {
        reclaim: true,
        fromPool: annotation(svc, ANNOTATION.allocatedFromPool),
      });
  }

  onServiceUpsert(svc: V1Service): void {
    if (!this.remember(svc)) return;
    this.markDirty(serviceKey(svc));
  }

  onServiceDelete(svc: V1Service): void {
    const key = serviceKey(svc);
    this.services.delete(key);
    this.waiting.delete(key);
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

  /** A new configuration (invalid pools frozen, never dropped): re-account assignments, revisit every Service. */
  onPools(pools: readonly Pool[]): void {
    this.held = false;
    if (!this.loaded) return;
    const change = this.engine.setPools(pools);
    this.selectsNamespaces = usesNamespaceSelectors(pools);
    for (const p of pools) this.touchedPools.add(p.name);
    for (const key of change.released) this.markDirty(key);
    for (const key of this.services.keys()) this.markDirty(key);
    // At once, not after the drain: with no pool or no Service left there is no drain, and a
    // deleted pool's metrics would stay (its alerts with them).
    this.writer.poolsChanged(new Set(pools.map((p) => p.name)));
  }

  /** Resolves when every decision is made and every write has settled (tests, benchmarks). */
  idle(): Promise<void> {
    if (this.dirty.size === 0 && this.writesInFlight === 0 && this.retrying === 0 && !this.draining)
      return Promise.resolve();
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
    this.offerFreed();
    this.draining = false;
    // Sharers woken or addresses freed while offering: another pass for them (Services with
    // a write in flight are revisited when it settles).
    const more = this.freed.length > 0 || [...this.dirty].some((key) => !this.inFlight.has(key));
    if (more && this.writesInFlight < this.maxInFlight) this.schedule();
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
      this.waiting.delete(key);
      // A Service that stopped being a LoadBalancer loses what we published; one of
      // another loadBalancerClass belongs to another implementation and is never touched.
      const stoppedBeingLB = svc.spec?.type !== "LoadBalancer";
      if (stoppedBeingLB && annotation(svc, ANNOTATION.allocatedFromPool) !== undefined) {
        if (shownIPs(svc).length)
          this.writer.event(
            svc,
            "Normal",
            "ClearAssignment",
            `Service is no longer of type LoadBalancer: released ${JSON.stringify(shownIPs(svc))}`,
          );
        this.publish(svc, [], undefined);
      }
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
      this.tellOnce(svc, "LoadBalancerFailed", req.error.message);
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
        this.writer.event(
          svc,
          "Normal",
          "ClearAssignment",
          wantsOtherPool
            ? `Service asks for pool "${request.pool}" (metallb.io/address-pool): releasing ${JSON.stringify(current.map(formatIP))} from pool "${held!.pool}"`
            : `Service asks for ${JSON.stringify(request.requestedIPs!.map(formatIP))} (metallb.io/loadBalancerIPs): releasing ${JSON.stringify(current.map(formatIP))}`,
        );
      } else {
        const kept = this.engine.assign(request, current, {
          reclaim: true,
          fromPool: annotation(svc, ANNOTATION.allocatedFromPool),
        });
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
      // Told once per reason; it waits for a freed address (or a configuration change).
      this.tellOnce(svc, "AllocationFailed", `Failed to allocate IP for "${key}": ${result.error.message}`);
      if (current.length) this.publish(svc, [], undefined);
      return;
    }
    this.waiting.delete(key);
    this.wakeSharers(result.value.sharingKey);
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
    if (this.waiting.size === 0) return;
    // What it freed may let waiting Services through: offer it to them in turn. An address
    // still shared by others is not free, but its ports are: its key's waiters may share it.
    for (const ip of held.ips) if (!this.engine.inUse(ip)) this.freed.push(ip);
    if (held.ips.some((ip) => this.engine.inUse(ip))) this.wakeSharers(held.sharingKey);
  }

  /**
   * A Warning that a Service is still without an address, once per distinct reason: a
   * Service waiting through a hundred releases is told once, and re-told only when the
   * reason changes. Marks it waiting, at the back of the queue if it is new there.
   */
  private tellOnce(svc: V1Service, reason: string, message: string): void {
    const key = serviceKey(svc);
    const text = `${reason}: ${message}`;
    if (this.waiting.get(key) === text) return;
    this.waiting.set(key, text);
    this.writer.event(svc, "Warning", reason, message);
  }

  /**
   * A Service just took an address under a sharing key: the waiting Services with that
   * key may share it now (no address was freed, so offerFreed would not ask them).
   */
  private wakeSharers(sharingKey: string): void {
    if (!sharingKey) return;
    for (const key of this.waiting.keys()) {
      const svc = this.services.get(key);
      if (svc && annotation(svc, ANNOTATION.allowSharedIP) === sharingKey) this.dirty.add(key);
    }
  }

  /**
   * Offers the addresses freed since the last call to the waiting Services, oldest
   * waiter first, until each freed address has found a taker or everyone was asked.
   * A Service that still cannot be served keeps its place and hears nothing new.
   */
  private offerFreed(): void {
    if (this.freed.length === 0) return;
    const offered = this.freed;
    this.freed = [];
    const stillFree = (): IP[] => offered.filter((ip) => !this.engine.inUse(ip));
    for (const key of [...this.waiting.keys()]) {
      if (stillFree().length === 0) return;
      if (this.writesInFlight >= this.maxInFlight) {
        // Takers still to come: offer the rest when a write slot frees up.
        this.freed.push(...stillFree());
        return;
      }
      const svc = this.services.get(key);
      if (!svc) {
        this.waiting.delete(key);
        continue;
      }
      if (this.inFlight.has(key)) {
        this.dirty.add(key); // asked again when its write settles
        continue;
      }
      this.reconcile(key);
    }
  }

  private publish(svc: V1Service, ips: readonly IP[], pool: string | undefined): void {
    const key = serviceKey(svc);
    const texts = ips.map(formatIP);
    this.inFlight.add(key);
    this.writesInFlight++;
    const shown = shownIPs(svc);
    const takesAway = shown.some((ip) => !texts.includes(ip));
    this.writer
      .writeStatus(svc, texts, pool, takesAway)
      .then((updated) => {
        this.retryBackoff.reset();
        // Not for a Service deleted meanwhile: its delete event may have come first.
        if (updated && this.services.has(key)) this.remember(updated);
      })
      .catch((err: unknown) => {
        // Gone meanwhile: its delete event releases the address; nothing to retry.
        if ((err as { status?: number }).status === 404) return;
        const delay = this.retryBackoff.next();
        this.opts.log?.("status write failed; will retry", { service: key, err: String(err), retryInMs: delay });
        // Retry after a pause, without holding one of the in-flight write slots meanwhile:
        // a burst of failures must not starve every other Service's write.
        this.retrying++;
        setTimeout(() => {
          this.retrying--;
          this.dirty.add(key);
          this.schedule();
        }, delay);
      })
      .finally(() => {
        this.inFlight.delete(key);
        this.writesInFlight--;
        if (this.dirty.size || this.freed.length) this.schedule();
        else this.notifyIdle();
      });
  }
}
