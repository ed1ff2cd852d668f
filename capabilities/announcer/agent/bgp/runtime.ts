/**
 * The agent's BGP side: one BgpSession per BGPSession object for this node (the
 * controller creates them, labelled metallb.io/node=<node>), routes from the shared
 * advertisement plan, and the live state written back to BGPSession status.
 *
 * - Start/stop/reconfigure: a session is keyed by object name; a change of its spec (or
 *   of its password) stops the old session cleanly (Cease, RFC 4486) and dials anew.
 * - Status: merge-patched through the pooled client on every state change and otherwise
 *   at most once per second per session.
 * - Graceful restart (RFC 4724 §3): sessions created in the first minute after the agent
 *   starts carry the Restart State bit, so a peer that kept our routes as stale waits for
 *   our End-of-RIB instead of dropping them.
 * - A password that cannot be read (Secret or BGPPeer GET failing) leaves a running
 *   session as it is and is read again after a back-off (password-retry.ts); only a
 *   session that never started reports the error as its status.
 * - METALLB_BGP_MAX_PREFIXES (settings.ts) bounds what each peer may announce.
 * - BFD (agent/bfd/coupling.ts): a session with spec.bfd runs BFD to its peer; BFD down tears it
 *   down; status.bfd shows the BFD state (null once BFD is gone).
 * - Drain (RFC 8326, graceful-shutdown.ts): a cordoned node's routes carry GRACEFUL_SHUTDOWN; an
 *   excluded node's carry it for METALLB_BGP_GRACEFUL_SHUTDOWN_SECONDS before they are withdrawn;
 *   stop() tags every route and waits that long (less time already tagged) before the Cease.
 *   A second stop() ends the wait.
 * - BGP unnumbered (spec.interface): one LinkLocalPeerFinder per interface learns the router's
 *   link-local address from its router advertisements and advertises ours. The session is
 *   dialled once the router is known, and dialled anew when another router appears there.
 */
import {
  endpointsByService,
  nodeExclusion,
  planNode,
  toPlanNode,
  toPlanService,
  type EndpointSliceLike,
  type NodeLike,
  type ServiceLike,
} from "../../../shared/bgp";
import type { BGPSession as BGPSessionObject, BGPSessionStatus } from "../../../../crds/types";
import { ConfigWatch } from "../config-watch";
import { projectEndpointSlice, projectService } from "../projections";
import { AgentKube } from "../kube";
import { Informer, type KubeObject } from "../../../shared/kube/informer";
import { bgpAnnouncements, metricsObserver, setGracefulShutdown } from "./metrics";
import { drainRoutes, nodeDrain, remainingWait, type NodeDrainState } from "./graceful-shutdown";
import { setAnnounced } from "../metrics";
import { PasswordRetries } from "./password-retry";
import { passwordFromSecret } from "../../../shared/config/password-secret";
import type { SpeakerState } from "../speaker-state";
import { readBgpSettings, type BgpSettings } from "./settings";
import { readSettings, type Settings } from "../../../shared/settings";
import { BgpSession, type AdvertisedRoute, type SessionConfig, type SessionSnapshot } from "./session";
import { formatCIDR, formatIP } from "../../../shared/net/ip";
import { BgpBfdCoupling, withBfdStatus } from "../bfd/coupling";
import { bfdMetricsObserver } from "../bfd/metrics";
import { BfdSessions } from "../bfd/sessions";
import { LinkLocalPeerFinder } from "./link-local-peer";
import { inOrderByKey } from "../../../shared/in-order";

/** Where the routes for each BGPPeer come from (the plan by default; tests may give their own). */
export interface RouteSource {
  routesFor(peer: string): readonly AdvertisedRoute[];
  /** Called whenever any peer's routes may have changed. */
  onChange(listener: () => void): void;
  /** Since when the routes carry GRACEFUL_SHUTDOWN (cordon, exclusion), if they do. */
  taggedSince?(): number | undefined;
  start(): void;
  stop(): void;
}

export interface BgpContext {
  readonly kube: AgentKube;
  readonly node: string;
  readonly namespace: string;
  readonly log: (msg: string, extra?: Record<string, unknown>) => void;
  readonly routes?: RouteSource;
  /** The agent's Service cache, shared with L2 (default: a watch of its own). */
  readonly services?: Informer<KubeObject & ServiceLike>;
  /** Status writer; default: a merge patch of the status subresource. */
  readonly writeStatus?: (name: string, status: BGPSessionStatus) => Promise<void>;
  /** Seconds after start during which new sessions set the GR Restart State bit (default 60). */
  readonly restartWindowSeconds?: number;
  /** Connect retry / backoff overrides (labs). */
  readonly connectRetryTime?: number;
  /** Stop cleanly (NOTIFICATION Cease to every peer) on SIGTERM/SIGINT, beside the agent's own drain. */
  readonly stopOnSignals?: boolean;
  /** This node's ConfigurationState: password Secrets that are missing or malformed show there. */
  readonly state?: SpeakerState;
  /** Finds the router on an unnumbered interface (default: router advertisements, link-local-peer.ts). */
  readonly linkLocalFinder?: (ifname: string) => LinkLocalFinder;
}

/** What the runtime needs of a LinkLocalPeerFinder. */
export type LinkLocalFinder = Pick<LinkLocalPeerFinder, "peer" | "onPeer" | "start" | "stop">;

export interface BgpRuntime {
  readonly sessions: ReadonlyMap<string, BgpSession>;
  stop(): Promise<void>;
}

const API = "/apis/metallb.io/v1beta1";
const STATUS_INTERVAL_MS = 1000;
const PASSWORD_SOURCE_ANNOTATION = "metallb.io/password-source";

type SessionObject = KubeObject & BGPSessionObject;

interface Entry {
  readonly key: string;
  readonly session: BgpSession;
  readonly peerName: string;
  timer?: NodeJS.Timeout;
  lastWrite: number;
  dirty: boolean;
  last?: SessionSnapshot;
}

/** This runtime's problems in the node's ConfigurationState, by BGPSession name. */
const STATE_SOURCE = "bgp/";

/** A password Secret the user must fix (missing, wrong type, no key), as opposed to a failed read. */
class PasswordProblem extends Error {}

/** The plan-backed route source: Services, EndpointSlices, this Node, and the configuration. */
export class PlanRouteSource implements RouteSource {
  private routes = new Map<string, AdvertisedRoute[]>();
  private listeners: Array<() => void> = [];
  private readonly services: Informer<KubeObject & ServiceLike>;
  private readonly ownServices: boolean;
  private readonly slices: Informer<KubeObject & EndpointSliceLike>;
  private readonly nodes: Informer<KubeObject & NodeLike & { spec?: { unschedulable?: boolean } }>;
  private readonly config: ConfigWatch;
  private scheduled?: NodeJS.Timeout;
  private lastConfigError?: string;
  private drain: NodeDrainState = {};
  private drainLast: { reason?: "cordoned" | "excluded"; holding: boolean } = { holding: false };
  private recheck?: NodeJS.Timeout;

  constructor(
    kube: AgentKube,
    private readonly node: string,
    namespace: string,
    private readonly log: (msg: string) => void,
    services?: Informer<KubeObject & ServiceLike>,
    private readonly settings: Pick<Settings, "loadBalancerClass" | "ignoreExcludeLBLabel"> = readSettings(),
    /** How long an excluded node's routes carry GRACEFUL_SHUTDOWN before they go. */
    private readonly gracefulShutdownMs = 0,
  ) {
    const changed = (): void => this.schedule();
    this.ownServices = !services;
    this.services = services ?? new Informer(kube, "/api/v1/services", () => undefined, log, projectService);
    this.services.listen(changed);
    this.config = new ConfigWatch(kube, namespace, changed, log);
    this.slices = new Informer(kube, "/apis/discovery.k8s.io/v1/endpointslices", changed, log, projectEndpointSlice);
    this.nodes = new Informer(
      kube,
      `/api/v1/nodes?fieldSelector=${encodeURIComponent(`metadata.name=${node}`)}`,
      changed,
      log,
    );
  }

  routesFor(peer: string): readonly AdvertisedRoute[] {
    return this.routes.get(peer) ?? [];
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  taggedSince(): number | undefined {
    return this.drain.taggedSince;
  }

  start(): void {
    if (this.ownServices) this.services.start();
    this.slices.start();
    this.nodes.start();
    this.config.start();
  }

  stop(): void {
    if (this.ownServices) this.services.stop();
    this.slices.stop();
    this.nodes.stop();
    this.config.stop();
    if (this.scheduled) clearTimeout(this.scheduled);
    clearTimeout(this.recheck);
  }

  private schedule(): void {
    this.scheduled ??= setTimeout(() => {
      this.scheduled = undefined;
      this.recompute();
    }, 20);
  }

  private recompute(): void {
    const parsed = this.config.current();
    const nodeObj = [...this.nodes.items.values()][0];
    if (parsed && !parsed.ok) {
      // Keep the routes planned from the last valid configuration; say why once per change.
      const why = parsed.errors.map((e) => e.message).join("; ");
      if (why !== this.lastConfigError) this.log(`BGP configuration invalid, keeping the last valid routes: ${why}`);
      this.lastConfigError = why;
      return;
    }
    this.lastConfigError = undefined;
    if (!parsed || !nodeObj) return;
    try {
      const services = [...this.services.items.values()].flatMap((s) => {
        // The controller's class filter, from the same environment (agent-manifests.ts):
        // a Service of another implementation is never advertised, whatever its status says.
        const p = toPlanService(s, this.settings.loadBalancerClass);
        return p ? [p] : [];
      });
      const node = toPlanNode(nodeObj);
      const input = {
        config: parsed.config,
        node,
        services,
        endpoints: endpointsByService(this.slices.items.values()),
      };
      const plan = planNode({ ...input, settings: { ignoreExcludeLBLabel: this.settings.ignoreExcludeLBLabel } });
      const now = Date.now();
      const excluded =
        !this.settings.ignoreExcludeLBLabel && nodeExclusion(node, { ignoreExcludeLBLabel: false }) === "nodeExcluded";
      // What is on the wire now; only looked at when the exclusion first appears.
      const announced = new Map(
        excluded && this.drain.excludedAt === undefined
          ? [...this.routes].map(([peer, rs]) => [peer, new Set(rs.map((r) => formatCIDR(r.prefix)))] as const)
          : [],
      );
      const drain = nodeDrain(
        this.drain,
        { cordoned: nodeObj.spec?.unschedulable === true, excluded, announced },
        now,
        this.gracefulShutdownMs,
      );
      this.drain = drain.state;
      // While an excluded node waits, its routes are planned as if it were not excluded,
      // limited to what it announced when the label appeared.
      const source = drain.hold ? planNode({ ...input, settings: { ignoreExcludeLBLabel: true } }) : plan;
      const next = new Map<string, AdvertisedRoute[]>();
      for (const [peer, routes] of source.routes) {
        const advertised = routes.map((r) => ({
          prefix: r.prefix,
          communities: r.communities,
          largeCommunities: r.largeCommunities,
          ...(r.localPref !== undefined ? { localPref: r.localPref } : {}),
          ...(r.linkBandwidth !== undefined ? { linkBandwidth: r.linkBandwidth } : {}),
        }));
        const keep = drain.hold ? (drain.hold.get(peer) ?? new Set<string>()) : undefined;
        next.set(peer, drainRoutes(advertised, drain.tag, keep));
      }
      this.routes = next;
      clearTimeout(this.recheck);
      if (drain.recheckAt !== undefined) this.recheck = setTimeout(() => this.schedule(), drain.recheckAt - now + 1);
      this.reportDrain(drain.reason, drain.hold !== undefined);
      // MetalLB's metallb_speaker_announced{protocol="bgp"}: what this node advertises to at least one peer.
      setAnnounced("bgp", this.node, bgpAnnouncements(services, plan.services));
    } catch (err) {
      this.log(`planning BGP routes: ${(err as Error).message}`);
      return;
    }
    for (const l of this.listeners) l();
  }

  /** One log line per change of drain state, and the metric. */
  private reportDrain(reason: "cordoned" | "excluded" | undefined, holding: boolean): void {
    const prev = this.drainLast;
    this.drainLast = { ...(reason ? { reason } : {}), holding };
    if (prev.holding && !holding) this.log("BGP graceful shutdown: the exclusion's wait is over; routes withdrawn");
    if (prev.reason === reason) return;
    setGracefulShutdown(new Set(reason ? [reason] : []));
    if (reason === "cordoned")
      this.log(
        "BGP graceful shutdown: node cordoned; its routes carry GRACEFUL_SHUTDOWN (65535:0, RFC 8326) until it is uncordoned",
      );
    else if (reason === "excluded")
      this.log(
        `BGP graceful shutdown: node excluded from external load balancers; its routes carry GRACEFUL_SHUTDOWN (65535:0, RFC 8326) for ${this.gracefulShutdownMs / 1000} s, then are withdrawn`,
      );
    else if (prev.reason === "cordoned")
      this.log("BGP graceful shutdown over: routes advertised without GRACEFUL_SHUTDOWN");
  }
}

/** BGPSession status from a session snapshot. */
export function statusOf(s: SessionSnapshot): BGPSessionStatus {
  const counters = (c: SessionSnapshot["sent"]) => ({
    ...c,
    total: c.open + c.update + c.keepalive + c.notification + c.routeRefresh,
  });
  return {
    state: s.state,
    since: s.since.toISOString(),
    ...(s.negotiatedHoldTime !== undefined ? { negotiatedHoldTime: s.negotiatedHoldTime } : {}),
    ...(s.negotiatedKeepaliveTime !== undefined ? { negotiatedKeepaliveTime: s.negotiatedKeepaliveTime } : {}),
    capabilities: [...s.capabilities],
    advertisedPrefixes: s.advertisedPrefixes,
    receivedPrefixes: s.receivedPrefixes,
    ...(s.lastError !== undefined ? { lastError: s.lastError } : {}),
    // null removes (merge patch) an address a former unnumbered session of this name left.
    peerAddress: s.linkLocalPeer ?? null,
    messages: { sent: counters(s.sent), received: counters(s.received) },
    lastUpdateTime: new Date().toISOString(),
  } as BGPSessionStatus;
}

export function startBGP(ctx: BgpContext): BgpRuntime {
  const started = Date.now();
  const settings = readBgpSettings();
  const sessions = new Map<string, BgpSession>();
  const entries = new Map<string, Entry>();
  const fingerprints = new Map<string, string>();
  const metrics = metricsObserver();
  // BFD beside each session whose spec has it (RFC 5882; agent/bfd/coupling.ts).
  const bfd = new BgpBfdCoupling(
    new BfdSessions(bfdMetricsObserver((level, m) => level !== "debug" && ctx.log(m))),
    (m, extra) => ctx.log(m, extra),
  );
  const routes =
    ctx.routes ??
    new PlanRouteSource(
      ctx.kube,
      ctx.node,
      ctx.namespace,
      (m) => ctx.log(m),
      ctx.services,
      readSettings(),
      settings.gracefulShutdownSeconds * 1000,
    );
  /** stop() has tagged every route for graceful shutdown (RFC 8326). */
  let stopTagged = false;
  const routesOf = (peer: string): readonly AdvertisedRoute[] =>
    stopTagged ? drainRoutes(routes.routesFor(peer), true) : routes.routesFor(peer);
  const sendStatus =
    ctx.writeStatus ??
    (async (name: string, status: BGPSessionStatus): Promise<void> => {
      const path = `${API}/namespaces/${ctx.namespace}/bgpsessions/${encodeURIComponent(name)}/status`;
      await ctx.kube.send("PATCH", path, { status }, "application/merge-patch+json");
    });
  /**
   * One session's status writes go out one after another: on a pooled client two PATCHes in
   * flight at once may land in either order, and a periodic "Established" write overtaken by
   * the "Idle" of a reconfiguration would leave the status saying Established for good.
   */
  const writeStatus = inOrderByKey(sendStatus);
  let stopping = false;
  let reconciling = Promise.resolve();
  /** BGP unnumbered: one finder per interface some session of this node runs over. */
  const finders = new Map<string, LinkLocalFinder>();
  const newFinder =
    ctx.linkLocalFinder ??
    ((ifname: string) => new LinkLocalPeerFinder(ifname, { log: (level, m) => level !== "debug" && ctx.log(m) }));
  /** Starts the finders the wanted sessions need and stops the others. */
  function keepFinders(wanted: Iterable<SessionObject>): void {
    const ifaces = new Set([...wanted].flatMap((o) => (o.spec?.interface ? [o.spec.interface] : [])));
    for (const [ifname, f] of finders)
      if (!ifaces.has(ifname)) {
        f.stop();
        finders.delete(ifname);
      }
    for (const ifname of ifaces) {
      if (finders.has(ifname)) continue;
      const f = newFinder(ifname);
      finders.set(ifname, f);
      // The finder logs the router it finds; a new one re-dials (the fingerprint holds its address).
      f.onPeer(() => schedule());
      f.start();
    }
  }
  /** The router's link-local address on an unnumbered session's interface, once known. */
  const linkLocalPeerOf = (obj: SessionObject): string | undefined => {
    const peer = obj.spec?.interface ? finders.get(obj.spec.interface)?.peer : undefined;
    return peer ? formatIP(peer.address) : undefined;
  };

  const flush = (e: Entry): void => {
    if (e.timer) clearTimeout(e.timer);
    e.timer = undefined;
    // Only the running entry writes: a stopped session's late snapshot must not overwrite its successor's.
    if (!e.last || !e.dirty || entries.get(e.key) !== e) return;
    e.dirty = false;
    e.lastWrite = Date.now();
    writeStatus(e.key, withBfdStatus(statusOf(e.last), bfd.status(e.key))).catch((err: Error) => {
      if (!/HTTP 404/.test(err.message)) ctx.log(`BGPSession ${e.key}: status write failed: ${err.message}`);
    });
  };

  const report = (e: Entry, s: SessionSnapshot, stateChanged: boolean): void => {
    e.last = s;
    e.dirty = true;
    metrics.snapshot(s);
    // Every state change is written (coalesced within the tick); the rest at most once a second.
    const wait = stateChanged ? 0 : Math.max(0, e.lastWrite + STATUS_INTERVAL_MS - Date.now());
    if (stateChanged && e.timer) (clearTimeout(e.timer), (e.timer = undefined));
    e.timer ??= setTimeout(() => flush(e), wait);
  };

  /** Starts or re-configures the session's BFD; a BFD state change is written at once. */
  const attachBfd = (e: Entry, obj: SessionObject): void =>
    void bfd.attach(e.key, bfdSpecOf(obj), e.session, () => e.last && report(e, e.session.snapshot(), true));
  /** BFD of an unnumbered session runs to the router's link-local address, in the interface's zone. */
  const bfdSpecOf = (obj: SessionObject): SessionObject["spec"] => {
    const iface = obj.spec?.interface;
    if (!iface) return obj.spec;
    const linkLocal = linkLocalPeerOf(obj);
    return linkLocal ? { ...obj.spec!, peerAddress: `${linkLocal}%${iface}` } : undefined;
  };

  async function password(obj: SessionObject): Promise<string | undefined> {
    const ref = obj.spec?.passwordSecretRef;
    if (ref) {
      const namespace = ref.namespace ?? ctx.namespace;
      const secret = await ctx.kube
        .send<{
          type?: string;
          data?: Record<string, string>;
        }>("GET", `/api/v1/namespaces/${namespace}/secrets/${encodeURIComponent(ref.name)}`)
        .catch((err: { status?: number }) => {
          if (err.status === 404) return undefined; // a configuration problem, not a failed read
          throw err;
        });
      const read = passwordFromSecret(secret, `"${namespace}"/"${ref.name}"`, ref.key ?? "password");
      if (!read.ok) throw new PasswordProblem(`BGPPeer "${obj.spec!.peer}": spec.passwordSecret: ${read.message}`);
      return read.password;
    }
    if (obj.metadata?.annotations?.[PASSWORD_SOURCE_ANNOTATION] === "BGPPeer") {
      const peer = await ctx.kube.send<{ spec?: { password?: string } }>(
        "GET",
        `${API.replace("v1beta1", "v1beta2")}/namespaces/${ctx.namespace}/bgppeers/${encodeURIComponent(obj.spec!.peer)}`,
      );
      return peer.spec?.password || undefined;
    }
    return undefined;
  }

  function configOf(obj: SessionObject, pw: string | undefined): SessionConfig | string {
    const s = obj.spec;
    const linkLocal = linkLocalPeerOf(obj);
    if (s?.interface && !linkLocal)
      return `BGP unnumbered: waiting for the router's IPv6 router advertisement on ${s.interface} (is the interface up, and does the router peer unnumbered on its end?)`;
    const peerAddress = s?.interface ? linkLocal : s?.peerAddress;
    if (!s || !peerAddress) return "spec.peerAddress is missing";
    if (s.myASN === undefined) return "spec.myASN is missing";
    const routerId = s.routerID ?? (s.sourceAddress && !s.sourceAddress.includes(":") ? s.sourceAddress : undefined);
    return {
      peerAddress,
      ...(s.interface ? { interface: s.interface } : {}),
      peerPort: s.peerPort ?? 179,
      localAS: s.myASN,
      ...(s.peerASN !== undefined ? { peerAS: s.peerASN } : {}),
      ...(s.dynamicASN !== undefined ? { dynamicASN: s.dynamicASN } : {}),
      // RFC 4271 §4.2: the BGP Identifier must be an IPv4 address; without one configured
      // we use the source address, else a stable value derived from the node name.
      routerId: routerId ?? derivedRouterId(ctx.node),
      ...(s.sourceAddress ? { sourceAddress: s.sourceAddress } : {}),
      holdTime: s.holdTime ?? 90,
      ebgpMultiHop: s.ebgpMultiHop ?? false,
      ...(s.dualStackAddressFamily ? { dualStackAddressFamily: true } : {}),
      ...(pw ? { password: pw } : {}),
      gracefulRestart: s.enableGracefulRestart ?? false,
      restarting: Date.now() - started < (ctx.restartWindowSeconds ?? 60) * 1000,
      ...(s.keepaliveTime !== undefined ? { keepaliveTime: s.keepaliveTime } : {}),
      // BGPPeer connectTime first; the labs' override only where the peer sets none.
      ...(s.connectTime !== undefined
        ? { connectRetryTime: s.connectTime }
        : ctx.connectRetryTime !== undefined
          ? { connectRetryTime: ctx.connectRetryTime }
          : {}),
      maxPrefixes: settings.maxPrefixes,
    };
  }

  async function stopEntry(key: string): Promise<void> {
    const e = entries.get(key);
    if (!e) return;
    entries.delete(key);
    sessions.delete(key);
    fingerprints.delete(key);
    retries.forget(key);
    void bfd.detach(key);
    if (e.timer) clearTimeout(e.timer);
    metrics.forget(e.session.peer);
    await Promise.race([e.session.stop(), new Promise((r) => setTimeout(r, 2000))]);
  }

  async function reconcile(): Promise<void> {
    const wanted = new Map<string, SessionObject>();
    for (const obj of informer.items.values()) {
      if (obj.spec?.node === ctx.node && obj.metadata?.name && !obj.metadata.deletionTimestamp)
        wanted.set(obj.metadata.name, obj);
    }
    for (const key of [...entries.keys()]) if (!wanted.has(key)) await stopEntry(key);
    keepFinders(wanted.values());
    ctx.state?.retain(STATE_SOURCE, new Set([...wanted.keys()].map((k) => STATE_SOURCE + k)));
    for (const [key, obj] of wanted) {
      let pw: string | undefined;
      try {
        pw = await password(obj);
      } catch (err) {
        // A Secret that is missing or malformed is the user's to fix: it shows in this node's
        // ConfigurationState too. A failed read (5xx, timeout) is not a configuration problem.
        if (err instanceof PasswordProblem) ctx.state?.set(STATE_SOURCE + key, err.message);
        const msg = `cannot read the BGP password: ${(err as Error).message}`;
        const delay = retries.failed(key);
        if (entries.has(key)) {
          // Its key is already on the socket and the router still expects it.
          ctx.log(`${msg}; the running session keeps its password, reading again in ${delay} ms`, { session: key });
          continue;
        }
        ctx.log(`${msg}; reading again in ${delay} ms`, { session: key });
        if (fingerprints.get(key) !== `error:${msg}`) {
          fingerprints.set(key, `error:${msg}`);
          writeStatus(key, { state: "Idle", lastError: msg, lastUpdateTime: new Date().toISOString() }).catch(
            () => undefined,
          );
        }
        continue;
      }
      if (retries.failures(key) > 0) ctx.log("BGP password read again", { session: key });
      retries.forget(key);
      ctx.state?.set(STATE_SOURCE + key, undefined);
      // spec.bfd is left out: a BFD change re-configures BFD (attachBfd), not the BGP session.
      // The router found on an unnumbered interface is part of what the session dials.
      const fp = JSON.stringify([{ ...obj.spec, bfd: undefined }, pw ?? "", linkLocalPeerOf(obj) ?? ""]);
      if (fingerprints.get(key) === fp) {
        const running = entries.get(key);
        if (running) attachBfd(running, obj);
        continue;
      }
      await stopEntry(key);
      const cfg = configOf(obj, pw);
      fingerprints.set(key, fp);
      if (typeof cfg === "string") {
        writeStatus(key, {
          state: "Idle",
          lastError: cfg,
          peerAddress: null,
          lastUpdateTime: new Date().toISOString(),
        }).catch(() => undefined);
        continue;
      }
      if (stopping) return;
      const entryBox: { e?: Entry } = {};
      let session: BgpSession;
      try {
        session = new BgpSession(cfg, {
          onChange: (s, changed) => entryBox.e && report(entryBox.e, s, changed),
          onMessage: metrics.onMessage,
          onRoutesSent: metrics.onRoutesSent,
          log: (level, m) => level !== "debug" && ctx.log(m, { session: key }),
        });
      } catch (err) {
        writeStatus(key, { state: "Idle", lastError: (err as Error).message }).catch(() => undefined);
        continue;
      }
      const e: Entry = { key, session, peerName: obj.spec!.peer, lastWrite: 0, dirty: false };
      entryBox.e = e;
      entries.set(key, e);
      sessions.set(key, session);
      session.setRoutes(routesOf(e.peerName));
      session.start();
      attachBfd(e, obj);
      ctx.log("BGP session started", { session: key, peer: session.peer });
    }
  }

  const retries = new PasswordRetries(() => schedule());
  const schedule = (): void => {
    reconciling = reconciling
      .then(() => (stopping ? undefined : reconcile()))
      .catch((err: Error) => ctx.log(`BGP reconcile: ${err.message}`));
  };
  const informer = new Informer<SessionObject>(
    ctx.kube,
    `${API}/namespaces/${ctx.namespace}/bgpsessions?labelSelector=${encodeURIComponent(`metallb.io/node=${ctx.node}`)}`,
    schedule,
    (m) => ctx.log(m),
  );
  routes.onChange(() => {
    for (const e of entries.values()) e.session.setRoutes(routesOf(e.peerName));
  });

  /** Ends the graceful-shutdown wait early (a second stop()). */
  let hurry: (() => void) | undefined;
  /**
   * RFC 8326 §4.2 before the Cease: re-advertise every route with GRACEFUL_SHUTDOWN, then wait
   * for the routers to move traffic away (less the time the routes were already tagged).
   */
  async function gracefulShutdown(s: BgpSettings): Promise<void> {
    const advertising = [...entries.values()].some(
      (e) => e.session.state === "Established" && e.session.snapshot().advertisedPrefixes > 0,
    );
    const waitMs = remainingWait(s.gracefulShutdownSeconds * 1000, Date.now(), advertising, routes.taggedSince?.());
    if (waitMs === 0) return;
    stopTagged = true;
    setGracefulShutdown(new Set(["stopping"]));
    for (const e of entries.values()) e.session.setRoutes(routesOf(e.peerName));
    ctx.log(
      `BGP graceful shutdown: stopping; routes re-advertised with GRACEFUL_SHUTDOWN (65535:0, RFC 8326), withdrawn in ${waitMs / 1000} s`,
      { sessions: [...entries.keys()] },
    );
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, waitMs);
      hurry = () => {
        clearTimeout(t);
        ctx.log("BGP graceful shutdown: asked again to stop; withdrawing now");
        resolve();
      };
    });
  }
  routes.start();
  informer.start();

  let stopped: Promise<void> | undefined;
  const stopAll = async (): Promise<void> => {
    stopping = true;
    retries.stop();
    await gracefulShutdown(settings);
    informer.stop();
    routes.stop();
    await reconciling;
    const keys = [...entries.keys()];
    const last = keys.map((k) => entries.get(k)!);
    await Promise.all(keys.map((k) => stopEntry(k)));
    for (const f of finders.values()) f.stop();
    finders.clear();
    await bfd.stop();
    // The final state (Idle after Cease) is written before the agent exits.
    await Promise.all(
      last.map((e) =>
        e.last
          ? writeStatus(e.key, withBfdStatus(statusOf({ ...e.session.snapshot() }), undefined)).catch(() => undefined)
          : Promise.resolve(),
      ),
    );
  };
  const runtime: BgpRuntime = {
    sessions,
    stop() {
      // A second call (a second SIGTERM) cuts the graceful-shutdown wait short.
      if (stopped) hurry?.();
      return (stopped ??= stopAll());
    },
  };
  if (ctx.stopOnSignals) {
    const onSignal = (): void => void runtime.stop();
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  }
  return runtime;
}

/** A stable IPv4-shaped BGP Identifier from the node name (FNV-1a), when none is configured. */
export function derivedRouterId(node: string): string {
  let h = 0x811c9dc5;
  for (const c of Buffer.from(node)) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  if (h === 0) h = 1;
  return [24, 16, 8, 0].map((s) => (h >>> s) & 0xff).join(".");
}
