/**
 * The node agent: one per node (a DaemonSet on hostNetwork, or a process in a lab network
 * namespace). It keeps its node Lease, takes part in L2 membership (heartbeats with the other
 * agents, l2/membership/), answers ARP/NDP for the IPs the controller gave this node
 * (ServiceL2Status) while in quorum, and for those of an owner a quorum judges down when
 * this node is its first live standby; speaks BGP to the peers of its BGPSessions, and
 * reports metrics.
 *
 * Env: NODE_NAME (required), METALLB_NAMESPACE (metallb-system), KUBECONFIG or in-cluster
 * credentials, and the knobs in settings.ts.
 *
 * Clean stop (SIGTERM/SIGINT), make-before-break: mark the Lease draining, so the controller
 * moves our IPs at once; keep answering each IP until another node owns its Service and has
 * announced the IP on the wire (or a short grace, or the drain timeout, passes); then stop.
 * BGP meanwhile re-advertises with GRACEFUL_SHUTDOWN and waits before its Cease (RFC 8326,
 * bgp/graceful-shutdown.ts); a second signal cuts that wait short.
 */
import { setFlagsFromString } from "node:v8";
import { AgentKube } from "./kube";
import { Informer, type KubeObject } from "../../shared/kube/informer";
import { LeaseKeeper } from "./lease";
import { AgentMembership } from "./l2/membership/agent-membership";
import { roleFor } from "./l2/membership/answering";
import { parseRoster, type Roster } from "./l2/membership/roster";
import { projectService } from "./projections";
import { agentMetrics, serveMetrics, setAnnounced } from "./metrics";
import { readAgentSettings } from "./settings";
import { startHealthServer } from "./health-server";
import { handOver, ownedByNode, ownedElsewhere, type Ownership, type ServiceLike, type StatusLike } from "./l2/desired";
import { ANNOUNCEMENT_LOOKBACK_MS, RELEASE_GRACE_MS, releaseStep, type Release } from "./l2/release";
import { readLinks, usableInterfaces } from "./l2/interfaces";
import { L2Runtime } from "./l2/runtime";
import { startBGP } from "./bgp/runtime";
import { SpeakerState } from "./speaker-state";
import { formatIP } from "../../shared/net/ip";

// Every node runs this process: favour a small heap over peak speed (V8 collects sooner
// and shrinks the heap once a burst, such as the first sync of 10,000 Services, is over).
// Not allowed in NODE_OPTIONS, and V8 reads it while running, so it is set here.
setFlagsFromString("--optimize-for-size");

const settings = readAgentSettings();
const node = settings.nodeName;
const log = (msg: string, extra: Record<string, unknown> = {}): void =>
  console.log(JSON.stringify({ ts: new Date().toISOString(), node, msg, ...extra }));

const kube = new AgentKube();
const lease = new LeaseKeeper(
  kube,
  {
    namespace: settings.namespace,
    nodeName: node,
    renewMs: settings.renewMs,
    heartbeatAddress: settings.heartbeatAddress,
  },
  (m) => log(m),
);
const membership = new AgentMembership(kube, {
  node,
  namespace: settings.namespace,
  port: settings.membershipPort,
  heartbeatAddress: settings.heartbeatAddress,
  intervalMs: settings.heartbeatMs,
  timing: settings.timing,
  tiebreakerDurationMs: settings.tiebreakerDurationMs,
  tiebreakerRenewMs: settings.tiebreakerRenewMs,
  log,
});
let verdictUsed = membership.verdict();
const l2 = new L2Runtime({
  interfaces: () => usableInterfaces(readLinks(), settings.excludeInterfaces, settings.interfaces),
  refreshMs: settings.refreshMs,
  log: (m) => log(m),
  // A verdict that expired since the last update (a paused process, a late timer) is
  // brought up to date before anything is sent.
  beforeSending: () => {
    if (membership.verdict() !== verdictUsed) update();
  },
});
const ROSTER_CONFIGMAP = "metallb-l2-membership";
const KEY_SECRET = "metallb-l2-membership-key";
const byName = (name: string): string => `fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}`;
const rosterMap = new Informer<KubeObject & { data?: Record<string, string> }>(
  kube,
  `/api/v1/namespaces/${settings.namespace}/configmaps?${byName(ROSTER_CONFIGMAP)}`,
  () => {
    const text = [...rosterMap.items.values()][0]?.data?.["roster.json"];
    let roster: Roster | undefined;
    try {
      roster = text ? parseRoster(text) : undefined;
    } catch (err) {
      log("ignoring the L2 membership roster", { err: (err as Error).message });
    }
    membership.setRoster(roster);
  },
  (m) => log(m),
);
const keySecret = new Informer<KubeObject & { data?: Record<string, string> }>(
  kube,
  `/api/v1/namespaces/${settings.namespace}/secrets?${byName(KEY_SECRET)}`,
  () => {
    const b64 = [...keySecret.items.values()][0]?.data?.key;
    const key = b64 ? Buffer.from(b64, "base64") : undefined;
    membership.setKey(key && key.length >= 16 ? key : undefined);
  },
  (m) => log(m),
);
/** Services this node answers for as a standby, to time each takeover once. */
const takenOver = new Set<string>();

/**
 * After losing quorum, an agent may have missed a takeover the controller recorded (its
 * watch can lag by seconds on a starved node): answering from that stale record while the
 * new owner answers from the fresh one would be two answerers. So on regaining quorum it
 * re-lists the ServiceL2Status objects and answers only once that list is in, or, when the
 * API server cannot be reached, after RESYNC_GRACE_MS (then no record can have changed since
 * it became unreachable, and the membership argument in docs/l2.md holds on the cached one).
 */
const RESYNC_GRACE_MS = 3000;
let quorumLostAt = 0;
let quorumRegainedAt = 0;
let wasInQuorum = false;
let graceTimer: NodeJS.Timeout | undefined;
function freshAfterQuorumLoss(inQuorum: boolean): boolean {
  const now = Date.now();
  if (wasInQuorum && !inQuorum) quorumLostAt = now;
  if (!wasInQuorum && inQuorum && quorumLostAt > 0) {
    quorumRegainedAt = now;
    statuses.relist();
    clearTimeout(graceTimer);
    graceTimer = setTimeout(() => update(), RESYNC_GRACE_MS + 1);
  }
  wasInQuorum = inQuorum;
  return quorumLostAt === 0 || statuses.syncedAt > quorumLostAt || now - quorumRegainedAt >= RESYNC_GRACE_MS;
}
const statuses = new Informer<KubeObject & StatusLike>(
  kube,
  `/apis/metallb.io/v1beta1/namespaces/${settings.namespace}/servicel2statuses`,
  () => scheduleUpdate(),
  (m) => log(m),
);
const services = new Informer<KubeObject & ServiceLike>(
  kube,
  "/api/v1/services",
  () => scheduleUpdate(),
  (m) => log(m),
  projectService,
);

let ready = false;
interface Draining {
  frozen: Ownership;
  /** When each of our Services was first seen owned by another node. */
  movedAt: Map<string, number>;
  startedAt: number;
  recheck?: NodeJS.Timeout;
  done: () => void;
}
let draining: Draining | undefined;
/** What the last update answered for, and the Services moved to another live node still answered (release.ts). */
let answered: Ownership = { desired: [], services: new Map() };
let answeredIPs = new Set<string>();
let releasing = new Map<string, Release>();
let releaseTimer: NodeJS.Timeout | undefined;
/** IP -> when another host last announced it (gratuitous ARP / unsolicited NA), for the IPs we answer. */
const announcedAt = new Map<string, number>();
let lastAnswering = "";
let lastAnnounced = "";
let updateQueued = false;

/**
 * Watch events and wire announcements arrive in bursts (a controller moving 100 Services is
 * 100 events): recompute once per burst, after the I/O already queued (ARP requests
 * included) has been served. Fencing does not wait: it calls update() directly.
 */
function scheduleUpdate(): void {
  if (updateQueued) return;
  updateQueued = true;
  setImmediate(() => {
    updateQueued = false;
    update();
  });
}

function update(): void {
  const verdict = membership.verdict();
  verdictUsed = verdict;
  const answerable = freshAfterQuorumLoss(verdict.inQuorum);
  const takeovers = new Set<string>();
  let own = ownedByNode(node, statuses.items.values(), services.items, (record) => {
    const role = answerable ? roleFor(node, record, verdict) : "none";
    if (role === "takeover") takeovers.add(record.owner);
    return role !== "none";
  });
  for (const owner of takeovers) {
    if (takenOver.has(owner)) continue;
    const silence = membership.silenceOf(owner);
    if (silence !== undefined) agentMetrics.failover.observe(silence / 1000);
    log("taking over from a node a quorum judges down", { from: owner, silentMs: silence && Math.round(silence) });
  }
  takenOver.clear();
  takeovers.forEach((o) => takenOver.add(o));
  lease.reportDown(verdict.down);
  own = keepReleasing(own, verdict);
  if (draining) {
    // Keep what we had until the new owner announces it; take on nothing new.
    const now = Date.now();
    const elsewhere = ownedElsewhere(node, statuses.items.values());
    for (const key of draining.frozen.services.keys())
      if (elsewhere.has(key) && !draining.movedAt.has(key)) draining.movedAt.set(key, now);
    const { remaining, recheckAt } = handOver(
      draining.frozen.services,
      elsewhere,
      draining.movedAt,
      announcedSince(draining.startedAt),
      now,
    );
    const ips = new Set([...remaining.values()].flat());
    own = { services: remaining, desired: draining.frozen.desired.filter((d) => ips.has(formatIP(d.ip))) };
    clearTimeout(draining.recheck);
    if (recheckAt !== undefined) draining.recheck = setTimeout(update, recheckAt - now);
    if (remaining.size === 0) draining.done();
  }
  answered = own;
  answeredIPs = new Set(own.desired.map((d) => formatIP(d.ip)));
  l2.setDesired(own.desired);
  const synced = statuses.syncedAt > 0 && services.syncedAt > 0;
  // Serving is already required by roleFor; without it nothing is desired.
  l2.setActive(synced);
  agentMetrics.fenced.set(verdict.serving ? 0 : 1);
  const announced = l2.isActive ? JSON.stringify([...own.services]) : "";
  if (announced !== lastAnnounced) {
    lastAnnounced = announced;
    setAnnounced("layer2", node, l2.isActive ? own.services : []);
  }
  const answering = l2.answering().join(",");
  if (answering !== lastAnswering) {
    log("answering", { ips: l2.answering(), active: l2.isActive });
    lastAnswering = answering;
  }
  if (!ready && synced) {
    ready = true;
    log("agent ready");
  }
}

/**
 * Adds to `own` the Services the controller moved from this node to another live one, until
 * that node announces them (release.ts); prunes announcements nobody waits for any more.
 */
function keepReleasing(own: Ownership, verdict: { serving: boolean; down: ReadonlySet<string> }): Ownership {
  const now = Date.now();
  const movedToLive = ownedElsewhere(node, statuses.items.values(), (owner) => !verdict.down.has(owner));
  const step = releaseStep({
    serving: verdict.serving,
    answered: answered.services,
    owned: own.services,
    movedToLive,
    releasing,
    announcedAt,
    now,
  });
  for (const key of step.releasing.keys())
    if (!releasing.has(key)) log("moved to another node: answering until it announces", { service: key });
  releasing = step.releasing;
  clearTimeout(releaseTimer);
  if (step.recheckAt !== undefined) releaseTimer = setTimeout(update, step.recheckAt - now + 1);
  for (const [ip, at] of announcedAt)
    if (now - at > ANNOUNCEMENT_LOOKBACK_MS + RELEASE_GRACE_MS) announcedAt.delete(ip);
  if (releasing.size === 0) return own;
  const services = new Map(own.services);
  const ips = new Set<string>();
  for (const [key, r] of releasing) {
    services.set(key, [...r.ips]);
    r.ips.forEach((ip) => ips.add(ip));
  }
  const have = new Set(own.desired.map((d) => formatIP(d.ip)));
  const desired = [
    ...own.desired,
    ...answered.desired.filter((d) => ips.has(formatIP(d.ip)) && !have.has(formatIP(d.ip))),
  ];
  return { services, desired };
}

/** When other hosts announced each IP, for the announcements at or after `since`. */
function announcedSince(since: number): Map<string, number> {
  return new Map([...announcedAt].filter(([, at]) => at >= since));
}

// Membership decides synchronously: a lost quorum or a down owner changes what we answer
// before the next frame is judged.
membership.on("changed", () => update());
lease.on("written", () => agentMetrics.leaseWrites.inc());

async function shutdown(signal: string): Promise<void> {
  if (draining) {
    // A second signal: BGP withdraws now instead of at the end of its graceful-shutdown wait.
    bgp.stop().catch(() => undefined);
    return;
  }
  log(`${signal}: draining`);
  // BGP tags its routes GRACEFUL_SHUTDOWN, waits, then sends Cease; L2 hands over make-before-break.
  speakerState.stop();
  const bgpStopped = bgp.stop().catch((err: unknown) => log("BGP stop failed", { err: String(err) }));
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      log("drain timeout: stopping with IPs not yet taken over");
      resolve();
    }, settings.drainTimeoutMs);
    const d: Draining = {
      frozen: ownedByNode(node, statuses.items.values(), services.items),
      movedAt: new Map(),
      startedAt: Date.now(),
      done: () => {
        clearTimeout(timer);
        clearTimeout(d.recheck);
        resolve();
      },
    };
    draining = d;
    membership.setDraining();
    void lease.drain();
    update();
  });
  await bgpStopped;
  l2.stop();
  membership.stop();
  lease.stop();
  statuses.stop();
  services.stop();
  rosterMap.stop();
  keySecret.stop();
  metricsServer?.close();
  healthServer?.close();
  kube.close();
  log("stopped");
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));

// The new owner of an address we answer announces it when it starts: the cue to let go
// (release.ts, and the drain's hand-over).
l2.onAnnouncement((ip) => {
  if (!answeredIPs.has(ip)) return;
  announcedAt.set(ip, Date.now());
  scheduleUpdate();
});
const metricsServer = serveMetrics(settings.metrics, (m) => log(m));
const healthServer = startHealthServer(settings.health, (m) => log(m));
l2.start();
lease.start();
statuses.start();
services.start();
rosterMap.start();
keySecret.start();
if (settings.heartbeatAddress) {
  membership.start().catch((err: Error) => {
    log(`cannot open the L2 membership socket on port ${settings.membershipPort}: ${err.message}`);
    process.exit(1);
  });
} else log("METALLB_HEARTBEAT_ADDRESS is not set: this node takes no part in L2 (it never answers ARP/NDP)");
const speakerState = new SpeakerState(kube, node, settings.namespace, log);
speakerState.start();
const bgp = startBGP({ kube, node, namespace: settings.namespace, log, services, state: speakerState });
log("agent starting", {
  namespace: settings.namespace,
  renewMs: settings.renewMs,
  heartbeatAddress: settings.heartbeatAddress,
  membershipPort: settings.membershipPort,
  heartbeatMs: settings.heartbeatMs,
  ...settings.timing,
});
