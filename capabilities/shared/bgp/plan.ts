/**
 * The BGP advertisement plan: for one node, which routes go to which BGPPeer,
 * and why each Service is or is not advertised from it (MetalLB's speaker
 * rules, reference §2 and §5.3). Pure: the controller runs it for every node to
 * write ServiceBGPStatus; the agent runs it for its own node to feed Adj-RIB-Out.
 * A route's attributes merge everything that contributes to it: LOCAL_PREF, the
 * advertisements' communities, a Service's own on advertisements that opt in
 * (config/service-communities.ts) and the link bandwidth of weighted ECMP
 * (config/weighted-ecmp.ts).
 */
import type { BGPAdvertisementModel, Config, NamedLabels, PeerModel, Pool } from "../config";
import { parseServiceCommunities, type ServiceCommunities } from "../config/service-communities";
import { ENDPOINT_BANDWIDTH } from "../config/weighted-ecmp";
import { anySelectorMatches, type LabelSelector, type Labels } from "../labels";
import { cidrContains, formatCIDR, hostMask, parseIP, type CIDR, type IP } from "../net/ip";
import { largeValue, sortedLarge, sortedStandard, standardValue } from "./communities";
import { endpointReason, nodeExclusion } from "./eligibility";
import { serviceKeyOf } from "./kube-input";
import type {
  LargeCommunityValue,
  NodePlan,
  PlanNode,
  PlanService,
  PlanSettings,
  Route,
  ServiceDecision,
  ServiceEndpoints,
} from "./types";

export interface PlanInput {
  readonly config: Config;
  readonly node: PlanNode;
  /** LoadBalancer Services this module handles (see toPlanService). */
  readonly services: readonly PlanService[];
  /** "namespace/name" -> serving endpoints (see endpointsByService). */
  readonly endpoints: ReadonlyMap<string, ServiceEndpoints>;
  readonly settings: PlanSettings;
}

/** Empty selector list means "every object", as everywhere in the metallb.io API. */
const selects = (selectors: readonly LabelSelector[], labels: Labels): boolean =>
  selectors.length === 0 || anySelectorMatches(selectors, labels);

/** True when the BGPPeer's nodeSelectors pick this node (empty = every node). */
export const peerSelectsNode = (peer: PeerModel, node: NamedLabels): boolean =>
  selects(peer.nodeSelectors, node.labels ?? {});

/** Which (node, BGPPeer) pairs should have a session, sorted by peer then node. */
export function plannedSessions(
  config: Config,
  nodes: readonly NamedLabels[],
): Array<{ node: NamedLabels; peer: PeerModel }> {
  const out: Array<{ node: NamedLabels; peer: PeerModel }> = [];
  const sortedNodes = [...nodes].sort((a, b) => a.name.localeCompare(b.name));
  for (const peer of [...config.peers].sort((a, b) => a.name.localeCompare(b.name))) {
    for (const node of sortedNodes) if (peerSelectsNode(peer, node)) out.push({ node, peer });
  }
  return out;
}

/** The aggregated prefix an advertisement announces for an IP. */
export function aggregatedPrefix(ip: IP, ad: BGPAdvertisementModel): CIDR {
  const length = ip.family === 4 ? ad.aggregationLength : ad.aggregationLengthV6;
  return { family: ip.family, base: ip.value & ~hostMask(ip.family, length), prefixLength: length };
}

const poolOf = (pools: readonly Pool[], ip: IP): Pool | undefined =>
  pools.find((p) => p.cidrs.some((c) => cidrContains(c, ip)));

/** Everything advertisements contribute to one (peer, prefix) before merging. */
interface Contribution {
  prefix: CIDR;
  localPrefs: Map<number, Set<string>>;
  communities: number[];
  large: LargeCommunityValue[];
  services: Set<string>;
  ads: Set<string>;
  /** Serving endpoints on this node, summed over what contributed (weighted-ecmp.ts). */
  endpoints: number;
  /** Something contributed without a weight: the route carries none. */
  unweighted: boolean;
  /** Services whose endpoints are in `endpoints`. */
  weighted: Set<string>;
}

export function planNode(input: PlanInput): NodePlan {
  const { config, node, settings } = input;
  const onNode = config.peers.filter((p) => peerSelectsNode(p, node));
  const sessionPeers = onNode.map((p) => p.name);
  const sessionSet = new Set(sessionPeers);
  // A session carries its own family's routes, both with dualStackAddressFamily (as MetalLB's
  // FRR modes); the agent would have no next hop for the other family anyway. An unnumbered
  // session carries both: IPv6 natively, IPv4 with IPv6 next hops (RFC 8950).
  const carries = new Map(
    onNode.map((p) => [
      p.name,
      (f: number) => p.interface !== undefined || p.dualStackAddressFamily || p.address?.family === f,
    ]),
  );
  const adsByPool = new Map<string, BGPAdvertisementModel[]>();
  for (const ad of config.bgpAdvertisements) {
    for (const pool of ad.pools) adsByPool.set(pool, [...(adsByPool.get(pool) ?? []), ad]);
  }
  const exclusion = nodeExclusion(node, settings);
  const acc = new Map<string, Map<string, Contribution>>();
  const decisions = new Map<string, ServiceDecision>();

  const services = [...input.services].sort((a, b) =>
    serviceKeyOf(a.namespace, a.name).localeCompare(serviceKeyOf(b.namespace, b.name)),
  );
  for (const svc of services) {
    const key = serviceKeyOf(svc.namespace, svc.name);
    const decision = decide(svc, key);
    decisions.set(key, decision);
  }

  function decide(svc: PlanService, key: string): ServiceDecision {
    const ips = svc.ips.map(parseIP).filter((ip): ip is IP => ip !== undefined);
    if (ips.length === 0) return { announce: false, reason: "noIPAllocated" };
    const pooled = ips.flatMap((ip) => {
      const pool = poolOf(config.pools, ip);
      return pool ? [{ ip, pool }] : [];
    });
    if (pooled.length === 0) return { announce: false, reason: "ipNotAllowed" };
    if (exclusion) return { announce: false, reason: exclusion };
    const epReason = endpointReason(svc, input.endpoints.get(key), node.name);
    if (epReason) return { announce: false, reason: epReason };

    let matched = false;
    const peers = new Set<string>();
    // Entries that cannot be resolved (refused or warned about at admission) are left off.
    const own = parseServiceCommunities(svc.communities, config.communities);
    // Local Services only: with Cluster every node forwards to every pod (weighted-ecmp.ts).
    const endpoints = svc.externalTrafficPolicy === "Local" ? localEndpoints(input.endpoints.get(key)) : undefined;
    for (const { ip, pool } of pooled) {
      for (const ad of adsByPool.get(pool.name) ?? []) {
        if (!selects(ad.serviceSelectors, svc.labels) || !selects(ad.nodeSelectors, node.labels)) continue;
        matched = true;
        const targets = (ad.peers.length === 0 ? sessionPeers : ad.peers.filter((p) => sessionSet.has(p))).filter((p) =>
          carries.get(p)!(ip.family),
        );
        for (const peer of targets) {
          peers.add(peer);
          contribute(peer, aggregatedPrefix(ip, ad), ad, key, own, endpoints);
        }
      }
    }
    if (!matched) return { announce: false, reason: "noMatchingAdvertisement" };
    if (peers.size === 0) return { announce: false, reason: "noPeers" };
    return { announce: true, peers: [...peers].sort() };
  }

  function contribute(
    peer: string,
    prefix: CIDR,
    ad: BGPAdvertisementModel,
    service: string,
    own: ServiceCommunities,
    endpoints: number | undefined,
  ): void {
    let byPrefix = acc.get(peer);
    if (!byPrefix) acc.set(peer, (byPrefix = new Map()));
    const text = formatCIDR(prefix);
    let c = byPrefix.get(text);
    if (!c) {
      c = {
        prefix,
        localPrefs: new Map(),
        communities: [],
        large: [],
        services: new Set(),
        ads: new Set(),
        endpoints: 0,
        unweighted: false,
        weighted: new Set(),
      };
      byPrefix.set(text, c);
    }
    if (ad.localPref !== 0) c.localPrefs.set(ad.localPref, (c.localPrefs.get(ad.localPref) ?? new Set()).add(ad.name));
    c.communities.push(...ad.communities.map(standardValue));
    c.large.push(...ad.largeCommunities.map(largeValue));
    if (ad.serviceCommunities) {
      c.communities.push(...own.standard.map(standardValue));
      c.large.push(...own.large.map(largeValue));
    }
    c.services.add(service);
    c.ads.add(ad.name);
    // One contribution per Service and prefix: two advertisements of one Service add its endpoints once.
    if (!ad.weightedEcmp || endpoints === undefined) c.unweighted = true;
    else if (!c.weighted.has(service)) {
      c.weighted.add(service);
      c.endpoints += endpoints;
    }
  }

  function localEndpoints(eps: ServiceEndpoints | undefined): number {
    if (!eps?.servingNodes.has(node.name)) return 0;
    return eps.servingPerNode?.get(node.name) ?? 1;
  }

  const conflicts: string[] = [];
  const routes = new Map<string, Route[]>();
  for (const peer of [...acc.keys()].sort()) {
    const list: Route[] = [];
    for (const [text, c] of acc.get(peer)!) {
      const prefs = [...c.localPrefs.keys()].sort((a, b) => b - a);
      if (prefs.length > 1) {
        const who = prefs.map((p) => `${p} (${[...c.localPrefs.get(p)!].sort().join(", ")})`).join(" vs ");
        conflicts.push(
          `prefix ${text} to peer ${peer}: BGPAdvertisements disagree on localPref: ${who}; using ${prefs[0]}`,
        );
      }
      list.push({
        prefix: c.prefix,
        prefixText: text,
        ...(prefs.length > 0 ? { localPref: prefs[0] } : {}),
        communities: sortedStandard(c.communities),
        largeCommunities: sortedLarge(c.large),
        ...(!c.unweighted && c.endpoints > 0 ? { linkBandwidth: c.endpoints * ENDPOINT_BANDWIDTH } : {}),
        services: [...c.services].sort(),
        advertisements: [...c.ads].sort(),
      });
    }
    list.sort(compareRoutes);
    routes.set(peer, list);
  }
  return { routes, services: decisions, conflicts };
}

/** IPv4 before IPv6, then by address, then by length: a stable order for diffs and tests. */
function compareRoutes(a: Route, b: Route): number {
  if (a.prefix.family !== b.prefix.family) return a.prefix.family - b.prefix.family;
  if (a.prefix.base !== b.prefix.base) return a.prefix.base < b.prefix.base ? -1 : 1;
  return a.prefix.prefixLength - b.prefix.prefixLength;
}

/** The routes this node sends, per BGPPeer name. */
export function planAdvertisements(input: PlanInput): Map<string, Route[]> {
  return planNode(input).routes as Map<string, Route[]>;
}
