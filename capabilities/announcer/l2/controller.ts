/**
 * L2 owner election, controller side: a thin shell around election.ts. It keeps caches of
 * Services, Nodes, EndpointSlices, agent Leases and its own ServiceL2Status objects (fed by
 * the capability's Watch bindings), runs the election whenever any of them changes or a
 * node's liveness changes, and writes the result: one ServiceL2Status per announced Service,
 * naming the owner and its ranked standbys.
 *
 * With agent-to-agent membership (issue 12) the agents decide failover among themselves:
 * when their quorum judges an owner dead, the first live standby answers at once, and each
 * agent's Lease reports the nodes its quorum judges down (metallb.io/down). The controller
 * then only RECORDS that: the owner moves to the first recorded standby that is still a
 * candidate, patched in place (status first, then the metallb.io/node label), so the node
 * that already answers never sees its record vanish. It also publishes what the agents need
 * to vote: the cluster key and the roster (membership.ts, roster.ts).
 *
 * Expiry (a Lease not renewed for METALLB_L2_DEAD_AFTER_MS, 30 s) is only the backstop for a
 * cluster with no L2 quorum, and it never unannounces en masse: when most agents go quiet
 * at once the controller holds still and re-lists the Leases (liveness.ts judgeLiveness).
 * A timer, not events, notices expiry: a dead agent sends nothing.
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
import { electOwners, type ElectionNode, type ElectionService } from "./election";
import { DEFAULT_SLACK, type Background } from "./spread";
import { Lease } from "./lease-kind";
import { Liveness, type LeaseView } from "./liveness";
import {
  KEY_SECRET,
  MEMBERSHIP_LABELS,
  MembershipPublisher,
  ROSTER_CONFIGMAP,
  ROSTER_KEY,
  rosterFromConfigMap,
  type MembershipStore,
} from "./membership";
import { failoverSeconds, holdingGauge, rosterVotersGauge } from "./metrics";
import { targetRoster } from "./roster";
import { planStatus, type StatusFields, type StatusRef } from "./status-plan";
import { endpointSliceEvents, nodeEvents, serviceEvents } from "../../shared/kube/watch-fanout";
import { cachedEndpointSlices, cachedNodes, cachedServices } from "../../shared/kube/cluster-cache";

const log = Log.child({ component: "l2-election" });
const LEASE_PREFIX = "metallb-agent-";
const DRAINING = "metallb.io/draining";
const HEARTBEAT_ADDRESS = "metallb.io/heartbeat-address";
const DOWN = "metallb.io/down";
const SHARED = "metallb.io/allow-shared-ip";

const envMs = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return process.env[name] && Number.isFinite(v) && v >= 0 ? v : fallback;
};
/** Expiry backstop: a node whose renewal was not seen for this long is dead. */
export const deadAfterMs = envMs("METALLB_L2_DEAD_AFTER_MS", 30_000);
/** How often agents renew their Lease (the agent reads the same variable). */
const leaseRenewMs = envMs("METALLB_LEASE_RENEW_MS", 10_000);
/** Silent past one missed renewal: "overdue", for the mass-expiry hold. */
const overdueMs = Math.min(deadAfterMs, 1.5 * leaseRenewMs);
/**
 * How long a node must be live and a roster voter before an address is moved to it to even
 * out the load: time to join the quorum and answer, so the make-before-break hand-over meets
 * an answering node.
 */
const SETTLED_MS = 5000;
/** The pause between two roster voter-set changes. */
const rosterStepMs = envMs("METALLB_L2_ROSTER_STEP_MS", 5000);
/** Ranked standbys named in each ServiceL2Status. */
const standbyCount = Math.floor(envMs("METALLB_L2_STANDBYS", 3));
/**
 * How far above the average a node's share of L2 addresses may go before addresses move
 * (spread.ts). Larger: fewer moves, a less even spread; 1 or more never moves an address
 * back to a returning node in a two-node cluster.
 */
const spreadSlack = envMs("METALLB_L2_SPREAD_SLACK", DEFAULT_SLACK);
const CHECK_MS = 100;
/** While holding, the Leases are re-listed this often (a stalled watch is repaired by a GET). */
const RELIST_MS = 5000;
/** A full pass now and then repairs anything an incremental pass could have missed. */
const RESYNC_MS = 30_000;

/** The writes of ServiceL2Status objects; the real one talks to the API server. */
export interface StatusWriter {
  /** Creates the object for a Service; returns its name. */
  create(key: string, status: StatusFields): Promise<string>;
  /** Rewrites its status; with `relabel`, then its metallb.io/node label. */
  update(name: string, key: string, status: StatusFields, relabel: boolean): Promise<void>;
  /** Deletes it (gone already is fine). */
  remove(name: string): Promise<void>;
}

const svcKey = (ns?: string, name?: string): string => `${ns ?? ""}/${name ?? ""}`;

class L2Controller {
  readonly services = new Map<string, V1Service>();
  readonly nodes = new Map<string, V1Node>();
  readonly slices = new Map<string, { service: string; nodes: Set<string> }>();
  readonly liveness = new Liveness(deadAfterMs, overdueMs);
  /** Service key -> its ServiceL2Status objects (normally one). */
  readonly statuses = new Map<string, StatusRef[]>();
  config?: Config;
  private live = new Set<string>();
  /** When each live node became live this time. */
  private readonly liveSince = new Map<string, number>();
  /** Roster voters as last published. */
  private voters = new Set<string>();
  /** Live voters for SETTLED_MS: the nodes a rebalancing move may go to. */
  private settled = new Set<string>();
  /** Expiry is suspended (most agents went quiet at once). */
  private holding = false;
  private relistTimer?: NodeJS.Timeout;
  membership?: MembershipPublisher;
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

  constructor(
    private readonly writer: StatusWriter,
    private readonly relist: () => Promise<void>,
  ) {}

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

  /** The roster as published; the next expiry check re-judges which nodes are settled. */
  setVoters(voters: readonly string[]): void {
    this.voters = new Set(voters);
  }

  /** The expiry check: only when the set of live (or settled) agents changes is there work. */
  tick(): void {
    if (this.judge(Date.now())) this.touchAll();
  }

  /** Judges liveness now; true when the live set changed. */
  private judge(now: number): boolean {
    const verdict = this.liveness.judge(now, this.live);
    this.setHolding(verdict.holding, verdict.held);
    const live = verdict.live;
    const same = live.size === this.live.size && [...live].every((n) => this.live.has(n));
    this.live = live;
    for (const n of live) if (!this.liveSince.has(n)) this.liveSince.set(n, now);
    for (const n of this.liveSince.keys()) if (!live.has(n)) this.liveSince.delete(n);
    const settled = new Set(
      [...live].filter((n) => this.voters.has(n) && now - (this.liveSince.get(n) ?? now) >= SETTLED_MS),
    );
    const sameSettled = settled.size === this.settled.size && [...settled].every((n) => this.settled.has(n));
    this.settled = settled;
    return !same || !sameSettled;
  }

  private setHolding(holding: boolean, held: readonly string[]): void {
    if (holding === this.holding) return;
    this.holding = holding;
    holdingGauge.set(holding ? 1 : 0);
    clearInterval(this.relistTimer);
    if (holding) {
      log.warn(
        { held, deadAfterMs },
        "most L2 agents went quiet at once: holding their addresses where they are and re-listing Leases",
      );
      const relist = () =>
        void this.relist().catch((err: unknown) => log.warn({ err }, "re-listing agent Leases failed"));
      relist();
      this.relistTimer = setInterval(relist, RELIST_MS);
      this.relistTimer.unref?.();
    } else log.info("L2 agents heard again: expiry resumes");
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
    const entries = scope
      ? [...scope].flatMap((k) => (this.services.has(k) ? [[k, this.services.get(k)!] as const] : []))
      : this.services;
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

  /** For a scoped pass: how many announced IPs each node holds among the Services outside it. */
  private backgroundLoad(scope: ReadonlySet<string>): Background {
    const inScope = new Set<string>();
    for (const key of scope) {
      const ip = this.services.get(key)?.status?.loadBalancer?.ingress?.[0]?.ip;
      if (ip) inScope.add(ip);
    }
    const owners = new Map<string, string>();
    for (const [key, refs] of this.statuses) {
      const ip = this.services.get(key)?.status?.loadBalancer?.ingress?.[0]?.ip;
      if (refs.length === 0 || scope.has(key) || !ip || inScope.has(ip)) continue;
      owners.set(ip, refs[0].node);
    }
    const load = new Map<string, number>();
    for (const node of owners.values()) load.set(node, (load.get(node) ?? 0) + 1);
    return { load, groups: owners.size };
  }

  private electionNodes(): ElectionNode[] {
    return [...this.nodes.values()].map((n) => ({
      name: n.metadata!.name!,
      labels: n.metadata?.labels ?? {},
      networkUnavailable: (n.status?.conditions ?? []).some(
        (c) => c.type === "NetworkUnavailable" && c.status === "True",
      ),
    }));
  }

  private async reconcile(): Promise<void> {
    const now = Date.now();
    this.judge(now);
    const config = this.config;
    if (!config) return;
    const nodes = this.electionNodes();
    // The roster: cheap (one pass over the nodes), and the publisher writes only changes.
    this.membership?.setTarget(
      targetRoster({
        heartbeatAddresses: this.liveness.heartbeatAddresses(),
        nodes,
        l2Advertisements: config.l2Advertisements,
        ignoreExcludeLBLabel: settings.ignoreExcludeLBLabel,
      }),
    );
    const scope = this.scope();
    const endpointNodes = new Map<string, Set<string>>();
    for (const s of this.slices.values()) {
      const set = endpointNodes.get(s.service) ?? new Set<string>();
      s.nodes.forEach((n) => set.add(n));
      endpointNodes.set(s.service, set);
    }
    const currentOwners = new Map<string, string>();
    const recordedStandbys = new Map<string, readonly string[]>();
    for (const [key, refs] of this.statuses) {
      if (refs.length === 0) continue;
      currentOwners.set(key, refs[0].node);
      recordedStandbys.set(key, refs[0].standbys);
    }
    const desired = electOwners({
      ...(scope ? { background: this.backgroundLoad(scope) } : {}),
      services: this.electionServices(scope),
      pools: config.pools,
      l2Advertisements: config.l2Advertisements,
      nodes,
      liveAgents: this.live,
      settledAgents: this.settled,
      slack: spreadSlack,
      endpointNodes,
      currentOwners,
      recordedStandbys,
      standbyCount,
      ignoreExcludeLBLabel: settings.ignoreExcludeLBLabel,
    });
    const work: Promise<void>[] = [];
    for (const key of scope ?? new Set([...this.statuses.keys(), ...desired.keys()])) {
      const plan = planStatus(desired.get(key), this.statuses.get(key) ?? []);
      if (plan) work.push(this.write(key, plan, now));
    }
    await Promise.all(work);
  }

  /** Carries out one Service's plan: deletions first, then the create or in-place update. */
  private async write(key: string, plan: NonNullable<ReturnType<typeof planStatus>>, now: number): Promise<void> {
    for (const ref of plan.remove) {
      await this.writer.remove(ref.name);
      this.removeStatus(key, ref.name);
    }
    let from: string | undefined;
    let to: string | undefined;
    if (plan.create) {
      const name = await this.writer.create(key, plan.create);
      this.statuses.set(key, [...(this.statuses.get(key) ?? []), { name, ...plan.create }]);
      to = plan.create.node;
      from = plan.remove[0]?.node;
    } else if (plan.update) {
      const { ref, status, move } = plan.update;
      try {
        await this.writer.update(ref.name, key, status, move);
        this.statuses.set(
          key,
          (this.statuses.get(key) ?? []).map((r) => (r.name === ref.name ? { name: ref.name, ...status } : r)),
        );
      } catch (err) {
        if ((err as { status?: number }).status !== 404) throw err;
        // Deleted behind our back: forget it and write the record anew.
        this.removeStatus(key, ref.name);
        const name = await this.writer.create(key, status);
        this.statuses.set(key, [...(this.statuses.get(key) ?? []), { name, ...status }]);
      }
      if (move) {
        to = status.node;
        from = ref.node;
      }
    }
    if (to === undefined) return;
    for (const old of new Set([from, ...plan.remove.map((r) => r.node)])) {
      if (old === undefined || old === to) continue;
      const since = this.liveness.downReportedAt(old) ?? this.liveness.lastSeen(old);
      if (!this.liveness.isLive(old, now) && !this.liveness.isDraining(old) && since > 0)
        failoverSeconds.observe((Date.now() - since) / 1000);
    }
    const svc = this.services.get(key);
    if (svc) void recordNodeAssigned(svc, to, "layer2");
    // A move away from a live, non-draining node is the spread evening out (spread.ts); the agents hand it over make-before-break.
    const rebalanced = from !== undefined && this.liveness.isLive(from, now) && !this.liveness.isDraining(from);
    log.info({ service: key, node: to, from, ...(rebalanced ? { reason: "spread" } : {}) }, "L2 owner assigned");
  }

  private removeStatus(key: string, name: string): void {
    const left = (this.statuses.get(key) ?? []).filter((r) => r.name !== name);
    if (left.length > 0) this.statuses.set(key, left);
    else this.statuses.delete(key);
  }
}

const statusBase = (): string => `/apis/metallb.io/v1beta1/namespaces/${settings.namespace}/servicel2statuses`;

/** ServiceL2Status writes through the API server. */
const kubeStatusWriter: StatusWriter = {
  async create(key, status) {
    const [serviceNamespace, serviceName] = key.split("/");
    const obj = await kubeHttp().send<{ metadata: { name: string } }>("POST", statusBase(), {
      apiVersion: "metallb.io/v1beta1",
      kind: "ServiceL2Status",
      metadata: {
        generateName: "l2-",
        namespace: settings.namespace,
        labels: {
          "metallb.io/node": status.node,
          "metallb.io/service-name": serviceName,
          "metallb.io/service-namespace": serviceNamespace,
        },
      },
      spec: {},
    });
    await kubeHttp().mergePatch(`${statusBase()}/${obj.metadata.name}/status`, {
      status: { ...statusBody(status), serviceName, serviceNamespace },
    });
    return obj.metadata.name;
  },
  async update(name, _key, status, relabel) {
    await kubeHttp().mergePatch(`${statusBase()}/${name}/status`, { status: statusBody(status) });
    if (relabel)
      await kubeHttp().mergePatch(`${statusBase()}/${name}`, {
        metadata: { labels: { "metallb.io/node": status.node } },
      });
  },
  async remove(name) {
    await kubeHttp()
      .send("DELETE", `${statusBase()}/${name}`)
      .catch((err: { status?: number }) => {
        if (err.status !== 404) throw err;
      });
  },
};

const statusBody = (s: StatusFields) => ({
  node: s.node,
  standbys: [...s.standbys],
  interfaces: s.interfaces.map((name) => ({ name })),
});

/** The roster ConfigMap and key Secret through the API server. */
const kubeMembershipStore: MembershipStore = {
  async readRoster() {
    const cm = await kubeHttp()
      .send<{ metadata?: { resourceVersion?: string }; data?: Record<string, string> }>(
        "GET",
        `/api/v1/namespaces/${settings.namespace}/configmaps/${ROSTER_CONFIGMAP}`,
      )
      .catch((err: { status?: number }) => {
        if (err.status === 404) return undefined;
        throw err;
      });
    return { roster: rosterFromConfigMap(cm), resourceVersion: cm?.metadata?.resourceVersion };
  },
  async writeRoster(text, resourceVersion) {
    const base = `/api/v1/namespaces/${settings.namespace}/configmaps`;
    const body = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: ROSTER_CONFIGMAP,
        namespace: settings.namespace,
        labels: MEMBERSHIP_LABELS,
        ...(resourceVersion ? { resourceVersion } : {}),
      },
      data: { [ROSTER_KEY]: text },
    };
    const out = resourceVersion
      ? await kubeHttp().send<{ metadata: { resourceVersion: string } }>("PUT", `${base}/${ROSTER_CONFIGMAP}`, body)
      : await kubeHttp().send<{ metadata: { resourceVersion: string } }>("POST", base, body);
    return out.metadata.resourceVersion;
  },
  async ensureKey(key) {
    await kubeHttp()
      .send("POST", `/api/v1/namespaces/${settings.namespace}/secrets`, {
        apiVersion: "v1",
        kind: "Secret",
        type: "Opaque",
        metadata: { name: KEY_SECRET, namespace: settings.namespace, labels: MEMBERSHIP_LABELS },
        data: { key: key.toString("base64") },
      })
      .catch((err: { status?: number }) => {
        if (err.status !== 409) throw err; // it exists: never rewritten
      });
  },
};

/** A GET of every agent Lease, fed in as watch events would be (repairs a stalled watch). */
async function relistLeases(): Promise<void> {
  const list = await kubeHttp().send<{ items: Lease[] }>(
    "GET",
    `/apis/coordination.k8s.io/v1/namespaces/${settings.namespace}/leases`,
  );
  for (const l of list.items)
    onLeaseUpsert({ ...l, metadata: { ...l.metadata, namespace: settings.namespace } } as Lease);
}

const ctl = new L2Controller(kubeStatusWriter, relistLeases);

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

function leaseView(lease: Lease): LeaseView | undefined {
  const name = lease.metadata?.name ?? "";
  if (lease.metadata?.namespace !== settings.namespace || !name.startsWith(LEASE_PREFIX)) return undefined;
  const a = lease.metadata?.annotations ?? {};
  return {
    node: name.slice(LEASE_PREFIX.length),
    renewTime: lease.spec?.renewTime,
    draining: a[DRAINING] === "true",
    heartbeatAddress: a[HEARTBEAT_ADDRESS] || undefined,
    down: (a[DOWN] ?? "")
      .split(",")
      .map((n) => n.trim())
      .filter((n) => n !== ""),
  };
}
export function onLeaseUpsert(lease: Lease, initial = false): void {
  const view = leaseView(lease);
  if (!view) return;
  const address = ctl.liveness.heartbeatAddresses().get(view.node);
  ctl.liveness.observe(view, Date.now(), initial);
  if (address !== view.heartbeatAddress) ctl.touchAll(); // the roster
  ctl.tick(); // a renewal, a drain or a down report: judged now, not at the next check
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

/**
 * Starts the roster publisher in the background, retrying until it works: the election
 * must not wait on (or die with) the membership objects.
 */
async function startMembership(p: MembershipPublisher): Promise<void> {
  const backoff = new Backoff({ initialMs: 1000, maxMs: 30_000 });
  for (;;) {
    try {
      await p.start();
      return;
    } catch (err) {
      if (ctl.membership !== p) return; // replaced by a retried start-up
      const delay = backoff.next();
      log.warn({ err, retryInMs: delay }, "L2 membership (key Secret, roster ConfigMap) not ready; retrying");
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

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
    if (node && st.metadata?.name) {
      const ref: StatusRef = {
        name: st.metadata.name,
        node,
        standbys: st.status?.standbys ?? [],
        interfaces: (st.status?.interfaces ?? []).flatMap((i) => (i.name ? [i.name] : [])),
      };
      ctl.statuses.set(key, [...(ctl.statuses.get(key) ?? []), ref]);
    }
  }
  // The key and the roster the agents vote by; a failed start is retried with the rest.
  ctl.membership?.stop();
  ctl.membership = new MembershipPublisher(kubeMembershipStore, {
    stepMs: rosterStepMs,
    log: (level, msg, extra) => log[level](extra ?? {}, msg),
    published: (r) => {
      rosterVotersGauge.set(r.voters.length);
      ctl.setVoters(r.voters);
    },
  });
  void startMembership(ctl.membership);
  holdingGauge.set(0);
  ctl.started = true;
  ctl.startTimer();
  ctl.touchAll();
  log.info(
    {
      services: ctl.services.size,
      nodes: ctl.nodes.size,
      leases: leases.items.length,
      deadAfterMs,
      overdueMs,
      rosterStepMs,
      standbyCount,
      spreadSlack,
    },
    "L2 election started",
  );
}
