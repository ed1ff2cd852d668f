/**
 * L2 owner election, controller side: a thin shell around election.ts. It keeps caches of
 * Services, Nodes, EndpointSlices, agent Leases and its own ServiceL2Status objects (fed by
 * the capability's Watch bindings), runs the election whenever any of them changes or a
 * node's Lease expires, and writes the result: one ServiceL2Status per announced Service.
 *
 * When an owner dies, its old ServiceL2Status is deleted before the new one is created, so
 * no agent ever sees two owners at once. A timer, not events, notices expiry: a dead agent
 * sends nothing.
 */
import type { V1EndpointSlice, V1Node, V1Service } from "@kubernetes/client-node";
import { K8s } from "kubernetes-fluent-client";
import { Log } from "pepr";
import { ServiceL2Status } from "../../../crds/register";
import { Backoff } from "../../shared/backoff";
import type { Config } from "../../shared/config";
import { configStore, startControllerConfig } from "../../shared/kube/controller-config";
import { recordNodeAssigned } from "../../shared/kube/events";
import { kubeHttp } from "../../shared/kube/http";
import { settings } from "../../shared/settings";
import { electOwners, type ElectionService } from "./election";
import { Lease } from "./lease-kind";
import { Liveness } from "./liveness";
import { failoverSeconds } from "./metrics";
import { endpointSliceEvents, nodeEvents, serviceEvents } from "../../shared/kube/watch-fanout";
import { cachedEndpointSlices, cachedNodes, cachedServices } from "../../shared/kube/cluster-cache";

const log = Log.child({ component: "l2-election" });
const LEASE_PREFIX = "metallb-agent-";
const DRAINING = "metallb.io/draining";
const SHARED = "metallb.io/allow-shared-ip";
export const deadAfterMs = Number(process.env.METALLB_L2_DEAD_AFTER_MS || 1500);
const CHECK_MS = 100;
/** A full pass now and then repairs anything an incremental pass could have missed. */
const RESYNC_MS = 30_000;

interface StatusRef {
  name: string;
  node: string;
}

const svcKey = (ns?: string, name?: string): string => `${ns ?? ""}/${name ?? ""}`;

class L2Controller {
  readonly services = new Map<string, V1Service>();
  readonly nodes = new Map<string, V1Node>();
  readonly slices = new Map<string, { service: string; nodes: Set<string> }>();
  readonly liveness = new Liveness(deadAfterMs);
  /** Service key -> its ServiceL2Status objects (normally one). */
  readonly statuses = new Map<string, StatusRef[]>();
  config?: Config;
  private live = new Set<string>();
  /**
   * What the next pass must look at: the Services whose own inputs changed, or everything
   * (`all`) after a change that can move any Service (nodes, liveness, configuration, a
   * failed pass). A Service event then costs one Service's election, not the cluster's.
   */
  private dirty = new Set<string>();
  private all = true;
  /** Services that carry allow-shared-ip: a change to one is a full pass (groups are elected together). */
  readonly sharing = new Set<string>();
  private running = false;
  private again = false;
  /** After a failed pass; jittered so a brownout's failures do not all retry together. */
  private readonly retry = new Backoff({ initialMs: 1000, maxMs: 10_000 });
  /** The one pending retry: passes that fail while it waits do not add timers of their own. */
  private retryTimer?: NodeJS.Timeout;
  private timer?: NodeJS.Timeout;
  private resyncTimer?: NodeJS.Timeout;
  started = false;

  /** One Service's inputs changed (the Service itself, its EndpointSlices). */
  touch(key: string): void {
    this.dirty.add(key);
    this.schedule();
  }

  /** Something every Service's election reads changed. */
  touchAll(): void {
    this.all = true;
    this.schedule();
  }

  schedule(): void {
    if (!this.started) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    setImmediate(() => void this.run());
  }

  private async run(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.reconcile();
      } while (this.again);
      this.retry.reset();
    } catch (err) {
      const delay = this.retry.next();
      log.error({ err, retryInMs: delay }, "L2 reconcile failed; retrying");
      this.all = true;
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.schedule(), delay);
    } finally {
      this.running = false;
    }
  }

  /** The expiry check: only when the set of live agents changes is there work. */
  tick(): void {
    const live = this.liveness.live(Date.now());
    if (live.size === this.live.size && [...live].every((n) => this.live.has(n))) return;
    this.touchAll();
  }

  startTimer(): void {
    clearInterval(this.timer);
    this.timer = setInterval(() => this.tick(), CHECK_MS);
    // A retried start-up calls this again: one resync timer, not one per attempt.
    clearInterval(this.resyncTimer);
    this.resyncTimer = setInterval(() => this.touchAll(), RESYNC_MS).unref();
  }

  /** The Services to elect this pass; undefined = all of them. */
  private scope(): Set<string> | undefined {
    const dirty = this.dirty;
    const all = this.all;
    this.dirty = new Set();
    this.all = false;
    return all ? undefined : dirty;
  }

  private electionServices(scope: Set<string> | undefined): ElectionService[] {
    const out: ElectionService[] = [];
    const entries = scope ? [...scope].flatMap((k) => (this.services.has(k) ? [[k, this.services.get(k)!] as const] : [])) : this.services;
    for (const [key, s] of entries) {
      out.push({
        key,
        labels: s.metadata?.labels ?? {},
        ips: (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter((ip): ip is string => !!ip),
        shared: !!s.metadata?.annotations?.[SHARED],
        local: s.spec?.externalTrafficPolicy === "Local",
      });
    }
    return out;
  }

  private async reconcile(): Promise<void> {
    const now = Date.now();
    this.live = this.liveness.live(now);
    const config = this.config;
    if (!config) return;
    const scope = this.scope();
    const endpointNodes = new Map<string, Set<string>>();
    for (const s of this.slices.values()) {
      const set = endpointNodes.get(s.service) ?? new Set<string>();
      s.nodes.forEach((n) => set.add(n));
      endpointNodes.set(s.service, set);
    }
    const currentOwners = new Map<string, string>();
    for (const [key, refs] of this.statuses) if (refs.length > 0) currentOwners.set(key, refs[0].node);
    const desired = electOwners({
      services: this.electionServices(scope),
      pools: config.pools,
      l2Advertisements: config.l2Advertisements,
      nodes: [...this.nodes.values()].map((n) => ({
        name: n.metadata!.name!,
        labels: n.metadata?.labels ?? {},
        networkUnavailable: (n.status?.conditions ?? []).some(
          (c) => c.type === "NetworkUnavailable" && c.status === "True",
        ),
      })),
      liveAgents: this.live,
      endpointNodes,
      currentOwners,
      ignoreExcludeLBLabel: settings.ignoreExcludeLBLabel,
    });
    const work: Promise<void>[] = [];
    for (const key of scope ?? new Set([...this.statuses.keys(), ...desired.keys()])) {
      const want = desired.get(key);
      const have = this.statuses.get(key) ?? [];
      const keep = want?.node !== undefined ? have.find((r) => r.node === want.node) : undefined;
      const stale = have.filter((r) => r !== keep);
      if (stale.length === 0 && (keep || want?.node === undefined)) continue;
      work.push(
        this.move(
          key,
          stale,
          keep ? undefined : want?.node === undefined ? undefined : { node: want.node, interfaces: want.interfaces },
          now,
        ),
      );
    }
    await Promise.all(work);
  }

  /** Deletes `stale` statuses of one Service, then creates the new owner's one. */
  private async move(
    key: string,
    stale: StatusRef[],
    create: { node: string; interfaces: readonly string[] } | undefined,
    now: number,
  ): Promise<void> {
    const ns = settings.namespace;
    const base = `/apis/metallb.io/v1beta1/namespaces/${ns}/servicel2statuses`;
    for (const ref of stale) {
      await kubeHttp()
        .send("DELETE", `${base}/${ref.name}`)
        .catch((err: { status?: number }) => {
          if (err.status !== 404) throw err;
        });
      this.removeStatus(key, ref.name);
    }
    if (!create) return;
    const [serviceNamespace, serviceName] = key.split("/");
    const status = {
      node: create.node,
      serviceName,
      serviceNamespace,
      interfaces: create.interfaces.map((name) => ({ name })),
    };
    const obj = await kubeHttp().send<{ metadata: { name: string } }>("POST", base, {
      apiVersion: "metallb.io/v1beta1",
      kind: "ServiceL2Status",
      metadata: {
        generateName: "l2-",
        namespace: ns,
        labels: {
          "metallb.io/node": create.node,
          "metallb.io/service-name": serviceName,
          "metallb.io/service-namespace": serviceNamespace,
        },
      },
      spec: {},
    });
    this.statuses.set(key, [...(this.statuses.get(key) ?? []), { name: obj.metadata.name, node: create.node }]);
    await kubeHttp().mergePatch(`${base}/${obj.metadata.name}/status`, { status });
    for (const old of stale) {
      if (
        !this.liveness.isLive(old.node, now) &&
        !this.liveness.isDraining(old.node) &&
        this.liveness.lastSeen(old.node) > 0
      ) {
        failoverSeconds.observe((Date.now() - this.liveness.lastSeen(old.node)) / 1000);
      }
    }
    const svc = this.services.get(key);
    if (svc) void recordNodeAssigned(svc, create.node, "layer2");
    log.info({ service: key, node: create.node, from: stale.map((s) => s.node) }, "L2 owner assigned");
  }

  private removeStatus(key: string, name: string): void {
    const left = (this.statuses.get(key) ?? []).filter((r) => r.name !== name);
    if (left.length > 0) this.statuses.set(key, left);
    else this.statuses.delete(key);
  }
}

const ctl = new L2Controller();

const isOurs = (svc: V1Service): boolean =>
  svc.spec?.type === "LoadBalancer" && (svc.spec?.loadBalancerClass ?? undefined) === settings.loadBalancerClass;

export function onServiceUpsert(svc: V1Service): void {
  const key = svcKey(svc.metadata?.namespace, svc.metadata?.name);
  if (isOurs(svc)) ctl.services.set(key, svc);
  else ctl.services.delete(key);
  // Sharers are elected as a group (before or after this change): a full pass.
  const wasSharing = ctl.sharing.has(key);
  if (svc.metadata?.annotations?.[SHARED]) ctl.sharing.add(key);
  else ctl.sharing.delete(key);
  if (wasSharing || ctl.sharing.has(key)) ctl.touchAll();
  else ctl.touch(key);
}
export function onServiceDelete(svc: V1Service): void {
  const key = svcKey(svc.metadata?.namespace, svc.metadata?.name);
  ctl.services.delete(key);
  if (ctl.sharing.delete(key)) ctl.touchAll();
  else ctl.touch(key);
}
export function onNodeUpsert(node: V1Node): void {
  ctl.nodes.set(node.metadata!.name!, node);
  ctl.touchAll();
}
export function onNodeDelete(node: V1Node): void {
  ctl.nodes.delete(node.metadata!.name!);
  ctl.touchAll();
}

function sliceView(slice: V1EndpointSlice): { service: string; nodes: Set<string> } | undefined {
  const name = slice.metadata?.labels?.["kubernetes.io/service-name"];
  if (!name) return undefined;
  const nodes = new Set<string>();
  for (const ep of slice.endpoints ?? []) {
    const c = ep.conditions ?? {};
    const serving = c.ready === undefined || c.ready === null || c.ready === true || c.serving === true;
    if (serving && ep.nodeName) nodes.add(ep.nodeName);
  }
  return { service: svcKey(slice.metadata?.namespace, name), nodes };
}
export function onEndpointSliceUpsert(slice: V1EndpointSlice): void {
  const key = svcKey(slice.metadata?.namespace, slice.metadata?.name);
  const before = ctl.slices.get(key)?.service;
  const view = sliceView(slice);
  if (view) ctl.slices.set(key, view);
  else ctl.slices.delete(key);
  if (before) ctl.touch(before);
  if (view) ctl.touch(view.service);
}
export function onEndpointSliceDelete(slice: V1EndpointSlice): void {
  const key = svcKey(slice.metadata?.namespace, slice.metadata?.name);
  const before = ctl.slices.get(key)?.service;
  ctl.slices.delete(key);
  if (before) ctl.touch(before);
}

function leaseView(lease: Lease): { node: string; renewTime?: string; draining: boolean } | undefined {
  const name = lease.metadata?.name ?? "";
  if (lease.metadata?.namespace !== settings.namespace || !name.startsWith(LEASE_PREFIX)) return undefined;
  return {
    node: name.slice(LEASE_PREFIX.length),
    renewTime: lease.spec?.renewTime,
    draining: lease.metadata?.annotations?.[DRAINING] === "true",
  };
}
export function onLeaseUpsert(lease: Lease, initial = false): void {
  const view = leaseView(lease);
  if (!view) return;
  const wasLive = ctl.liveness.isLive(view.node, Date.now());
  ctl.liveness.observe(view, Date.now(), initial);
  if (ctl.liveness.isLive(view.node, Date.now()) !== wasLive) ctl.touchAll();
}
export function onLeaseDelete(lease: Lease): void {
  const view = leaseView(lease);
  if (!view) return;
  ctl.liveness.remove(view.node);
  ctl.touchAll();
}

serviceEvents.subscribe((s, phase) => (phase === "upsert" ? onServiceUpsert(s) : onServiceDelete(s)));
nodeEvents.subscribe((n, phase) => (phase === "upsert" ? onNodeUpsert(n) : onNodeDelete(n)));
endpointSliceEvents.subscribe((e, phase) => (phase === "upsert" ? onEndpointSliceUpsert(e) : onEndpointSliceDelete(e)));

// The configuration store's model: a bad object is already left out (or frozen), so
// what is valid keeps being elected.
configStore.subscribe({
  changed: (snapshot) => {
    ctl.config = snapshot.resolution.config;
    ctl.touchAll();
  },
});

/** Initial load of everything the election reads, then the expiry timer. */
export async function startL2Election(): Promise<void> {
  const ns = settings.namespace;
  const [services, nodes, slices] = [cachedServices(), cachedNodes(), cachedEndpointSlices()];
  const [leases, statuses] = await Promise.all([
    K8s(Lease).InNamespace(ns).Get(),
    K8s(ServiceL2Status).InNamespace(ns).Get(),
  ]);
  ctl.config = (configStore.current() ?? (await startControllerConfig())).resolution.config;
  for (const s of services) {
    if (!isOurs(s)) continue;
    const key = svcKey(s.metadata?.namespace, s.metadata?.name);
    ctl.services.set(key, s);
    if (s.metadata?.annotations?.[SHARED]) ctl.sharing.add(key);
  }
  for (const n of nodes) ctl.nodes.set(n.metadata!.name!, n);
  for (const s of slices) {
    const v = sliceView(s);
    if (v) ctl.slices.set(svcKey(s.metadata?.namespace, s.metadata?.name), v);
  }
  for (const l of leases.items) onLeaseUpsert(l, true);
  for (const st of statuses.items) {
    const node = st.status?.node ?? st.metadata?.labels?.["metallb.io/node"];
    const key = svcKey(
      st.status?.serviceNamespace ?? st.metadata?.labels?.["metallb.io/service-namespace"],
      st.status?.serviceName ?? st.metadata?.labels?.["metallb.io/service-name"],
    );
    if (node && st.metadata?.name)
      ctl.statuses.set(key, [...(ctl.statuses.get(key) ?? []), { name: st.metadata.name, node }]);
  }
  ctl.started = true;
  ctl.startTimer();
  ctl.touchAll();
  log.info(
    { services: ctl.services.size, nodes: ctl.nodes.size, leases: leases.items.length, deadAfterMs },
    "L2 election started",
  );
}
