/**
 * BGP session planning, controller side: keeps one BGPSession per planned
 * (node, BGPPeer) and one ServiceBGPStatus per (Service, advertising node),
 * from the shared pure plan. Every change (config, Node, Service, EndpointSlice)
 * schedules one full, level-triggered reconcile; a periodic resync repairs
 * objects edited or deleted behind our back and refreshes the metrics.
 */
import type { V1EndpointSlice, V1Node, V1Service } from "@kubernetes/client-node";
import { Log } from "pepr";
import {
  endpointsByService,
  planNode,
  toPlanNode,
  toPlanService,
  type NodePlan,
  type PlanService,
} from "../../shared/bgp";
import { Backoff } from "../../shared/backoff";
import type { Config } from "../../shared/config";
import type { ConfigSnapshot } from "../../shared/kube/config-store";
import { configStore, startControllerConfig } from "../../shared/kube/controller-config";
import { recordNodeAssigned } from "../../shared/kube/events";
import { isTransient } from "../../shared/kube/retry";
import { settings } from "../../shared/settings";
import { endpointSliceEvents, nodeEvents, serviceEvents } from "../../shared/kube/watch-fanout";
import { cachedEndpointSlices, cachedNodes, cachedServices } from "../../shared/kube/cluster-cache";
import { ObjectCache } from "./cluster-view";
import { BGPKubeWriter, sessionReport } from "./kube-writer";
import { publishPending } from "./metrics";
import { pendingPrefixes } from "./pending";
import { desiredStatuses, diffStatuses } from "./service-statuses";
import { desiredSessions, MANAGED_BY, MANAGED_BY_LABEL, sessionAction } from "./sessions";

const log = Log.child({ component: "bgp-planner" });
const DEBOUNCE_MS = 100;
const RESYNC_MS = 15_000;
const MAX_IN_FLIGHT = 16;

/** Runs fn over items with at most `limit` calls in flight; collects failures instead of stopping. */
async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<unknown[]> {
  const errors: unknown[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      await fn(item).catch((err: unknown) => void errors.push(err));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return errors;
}

export class SessionPlanner {
  readonly nodes = new ObjectCache<V1Node>();
  readonly services = new ObjectCache<V1Service>();
  readonly slices = new ObjectCache<V1EndpointSlice>();
  private config?: Config;
  private peerGenerations = new Map<string, number>();
  private loaded = false;
  private running = false;
  private again = false;
  /** After a failed pass (2 s ceiling doubling to 30 s, jittered); reset by a clean one. */
  private readonly retry = new Backoff({ initialMs: 2_000, maxMs: 30_000 });
  private timer?: NodeJS.Timeout;
  private lastConflicts = "";
  /**
   * Without BGPPeers there is nothing to plan; once a pass has found nothing of ours left
   * to delete, Service events skip the two lists a pass costs (the periodic resync still
   * looks). On a cluster using only L2 this keeps BGP out of every Service's path.
   */
  private clean = false;
  private resyncDue = false;

  constructor(private readonly writer: BGPKubeWriter) {}

  /** Any input changed: reconcile soon (bursts coalesce). */
  schedule(delay = DEBOUNCE_MS): void {
    if (!this.loaded) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), delay);
  }

  async load(): Promise<void> {
    const [nodes, services, slices] = [cachedNodes(), cachedServices(), cachedEndpointSlices()];
    nodes.forEach((n) => this.nodes.apply(n, "upsert"));
    services.forEach((s) => this.services.apply(s, "upsert"));
    slices.forEach((e) => this.slices.apply(e, "upsert"));
    this.useConfig(configStore.current() ?? (await startControllerConfig()));
    this.loaded = true;
    log.info({ nodes: nodes.length, services: services.length }, "BGP session planner loaded");
    await this.run();
  }

  /**
   * Takes the configuration store's model (bad objects already left out, each reported
   * by the store), with the generations of the BGPPeers behind it.
   */
  useConfig(snapshot: ConfigSnapshot): void {
    this.config = snapshot.resolution.config;
    this.peerGenerations = new Map(
      (snapshot.input.bgpPeers ?? []).map((p) => [p.metadata?.name ?? "", Number(p.metadata?.generation ?? 0)]),
    );
  }

  private async run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.again = false;
    let failed = false;
    try {
      failed = await this.reconcile();
    } catch (err) {
      // A busy or restarting API server (429, 5xx, no answer: e.g. "storage is (re)initializing"
      // right after the CRDs are installed) is expected and retried; anything else is an error.
      if (isTransient(err)) log.warn({ err: String(err) }, "BGP reconcile deferred (API server busy); retrying");
      else log.error({ err }, "BGP reconcile failed; retrying");
      failed = true;
    } finally {
      this.running = false;
    }
    if (!failed) this.retry.reset();
    if (this.again) this.schedule();
    else if (failed) this.schedule(this.retry.next());
  }

  /** The per-node plans for every known node. */
  plans(config: Config): Map<string, NodePlan> {
    const services = this.services
      .values()
      .map((s) => toPlanService(s, settings.loadBalancerClass))
      .filter((s): s is PlanService => s !== undefined);
    const endpoints = endpointsByService(this.slices.values());
    const out = new Map<string, NodePlan>();
    for (const n of this.nodes.values()) {
      const node = toPlanNode(n);
      out.set(node.name, planNode({ config, node, services, endpoints, settings }));
    }
    return out;
  }

  /** One full pass; true when some write failed (a retry follows). */
  private async reconcile(): Promise<boolean> {
    const config = this.config;
    if (!config) return false;
    const resync = this.resyncDue;
    this.resyncDue = false;
    if (config.peers.length === 0 && this.clean && !resync) return false;
    const nodes = this.nodes.values().map(toPlanNode);
    const plans = this.plans(config);
    this.reportConflicts(plans);

    const errors: unknown[] = [];
    // Sessions.
    const desired = desiredSessions(config, nodes, this.peerGenerations);
    const existing = await this.writer.listSessions();
    const byName = new Map(existing.map((s) => [s.metadata?.name ?? "", s]));
    // Only sessions we created are ours to remove; a hand-made one is left alone.
    const toDelete = existing
      .filter((s) => s.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY)
      .map((s) => s.metadata?.name ?? "")
      .filter((n) => n && !desired.has(n));
    const toApply = [...desired.values()].filter((d) => sessionAction(d, byName.get(d.name)) !== "none");
    errors.push(...(await forEachLimited(toDelete, MAX_IN_FLIGHT, (n) => this.writer.deleteSession(n))));
    errors.push(
      ...(await forEachLimited(toApply, MAX_IN_FLIGHT, async (d) => {
        if (sessionAction(d, byName.get(d.name)) === "recreate") await this.writer.deleteSession(d.name);
        await this.writer.applySession(d);
      })),
    );
    if (toDelete.length || toApply.length)
      log.info({ applied: toApply.length, deleted: toDelete.length }, "BGP sessions reconciled");

    // ServiceBGPStatus objects, and an Event when a node starts announcing a Service.
    const changes = diffStatuses(desiredStatuses(plans), await this.writer.listStatuses());
    errors.push(...(await forEachLimited(changes.delete, MAX_IN_FLIGHT, (n) => this.writer.deleteStatus(n))));
    errors.push(
      ...(await forEachLimited(changes.patch, MAX_IN_FLIGHT, (p) => this.writer.patchStatus(p.name, p.desired))),
    );
    errors.push(
      ...(await forEachLimited(changes.create, MAX_IN_FLIGHT, async (want) => {
        await this.writer.createStatus(want);
        const svc = this.services.get(want.serviceNamespace, want.serviceName);
        if (svc) await recordNodeAssigned(svc, want.node, "bgp");
      })),
    );

    publishPending(
      pendingPrefixes(plans, existing.filter((s) => desired.has(s.metadata?.name ?? "")).map(sessionReport)),
    );
    for (const err of errors) log.warn({ err: String(err) }, "BGP write failed; will retry");
    this.clean = config.peers.length === 0 && errors.length === 0;
    return errors.length > 0;
  }

  private reportConflicts(plans: ReadonlyMap<string, NodePlan>): void {
    const all = [...plans].flatMap(([node, p]) => p.conflicts.map((c) => `node ${node}: ${c}`));
    const text = all.join("\n");
    if (text && text !== this.lastConflicts) log.warn({ conflicts: all }, "conflicting BGPAdvertisements");
    this.lastConflicts = text;
  }

  startResync(): void {
    setInterval(() => {
      this.resyncDue = true;
      this.schedule();
    }, RESYNC_MS).unref();
  }
}

const planner = new SessionPlanner(new BGPKubeWriter(settings.namespace));
let started = false;

// Subscribed at import, once: events that arrive before the initial list are cached,
// and a retried start-up does not subscribe twice.
const feed =
  <T extends { metadata?: object }>(cache: ObjectCache<T>) =>
  (obj: T, phase: "upsert" | "delete") => {
    if (cache.apply(obj, phase)) planner.schedule();
  };
nodeEvents.subscribe(feed(planner.nodes));
serviceEvents.subscribe(feed(planner.services));
endpointSliceEvents.subscribe(feed(planner.slices));
configStore.subscribe({
  changed: (snapshot) => {
    planner.useConfig(snapshot);
    planner.schedule();
  },
});

export async function startSessionPlanner(): Promise<void> {
  await planner.load();
  if (!started) planner.startResync();
  started = true;
}
