/**
 * L2 owner election: which one node answers ARP/NDP for each LoadBalancer Service's IPs.
 * Pure: the controller shell feeds in what the API server says and writes out the result
 * as ServiceL2Status objects.
 *
 * Eligibility follows MetalLB (reference/metallb.md §5.2): the pool holding the Service's
 * first IP, the L2Advertisements for that pool whose serviceSelectors match (an ad with
 * serviceSelectors never applies to a shared-IP Service), nodes those ads' nodeSelectors
 * pick, minus NetworkUnavailable nodes and nodes labelled
 * node.kubernetes.io/exclude-from-external-load-balancers, limited for
 * externalTrafficPolicy: Local to nodes with a serving endpoint, and (unlike MetalLB,
 * which trusts gossip) to nodes whose agent holds a live Lease.
 *
 * Choice: the current owner stays while it remains a candidate. When it is not, the first
 * candidate among the standbys recorded for the Service takes over: the agents already made
 * that node answer (issue 12). Otherwise candidates rank by summed preferredNodeSelectors
 * weight, then by the lowest sha256(node + "#" + first IP), and spread.ts bounds how many
 * addresses one node holds: a new address goes to the best-ranked node under the bound, and
 * a full pass evens out nodes far above or below the average (make-before-break on the
 * agents). Hashing the IP, not the Service, keeps Services that share an IP on one node (two
 * MACs for one IP would break it). The standbys named after the owner are the rest of the
 * candidates in ranking order (for a shared IP, the candidates all its Services accept).
 */
import { createHash } from "node:crypto";
import type { L2AdvertisementModel, Pool } from "../../shared/config";
import { selectorMatches, type Labels } from "../../shared/labels";
import { cidrContains, formatIP, parseIP, type IP } from "../../shared/net/ip";
import { DEFAULT_SLACK, spread, type Background, type SpreadGroup } from "./spread";

export const EXCLUDE_LB_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers";

export interface ElectionService {
  /** namespace/name */
  readonly key: string;
  readonly labels: Labels;
  /** Ingress IPs as text, in status order; the first decides for dual stack. */
  readonly ips: readonly string[];
  /** Carries metallb.io/allow-shared-ip. */
  readonly shared: boolean;
  /** externalTrafficPolicy: Local */
  readonly local: boolean;
}

export interface ElectionNode {
  readonly name: string;
  readonly labels: Labels;
  readonly networkUnavailable: boolean;
}

export interface ElectionInput {
  readonly services: readonly ElectionService[];
  readonly pools: readonly Pool[];
  readonly l2Advertisements: readonly L2AdvertisementModel[];
  readonly nodes: readonly ElectionNode[];
  /** Nodes whose agent holds a live, non-draining Lease. */
  readonly liveAgents: ReadonlySet<string>;
  /** Service key -> nodes hosting at least one serving endpoint of it. */
  readonly endpointNodes: ReadonlyMap<string, ReadonlySet<string>>;
  /** Service key -> node that announces it now. */
  readonly currentOwners: ReadonlyMap<string, string>;
  /**
   * Service key -> the standbys its ServiceL2Status names now. When the owner is no longer a
   * candidate, the first of them that is becomes the owner: it is the node the agents
   * already made answer (issue 12), and the controller only records it.
   */
  readonly recordedStandbys?: ReadonlyMap<string, readonly string[]>;
  /** How many ranked standbys to name after the owner (default 0). */
  readonly standbyCount?: number;
  readonly ignoreExcludeLBLabel: boolean;
  /** Load band slack for the spread (default DEFAULT_SLACK). */
  readonly slack?: number;
  /**
   * Set for a pass over some Services only: the load the others put on each node. Such a
   * pass places its own Services and moves nothing else; without it the pass rebalances.
   */
  readonly background?: Background;
  /** Live nodes that may receive an address moved to even out the load (default: all live). */
  readonly settledAgents?: ReadonlySet<string>;
}

export type Assignment =
  | { readonly node: string; readonly interfaces: readonly string[]; readonly standbys: readonly string[] }
  | { readonly node?: undefined; readonly reason: NotAnnouncedReason };

export type NotAnnouncedReason =
  | "no-ips"
  | "no-pool"
  | "no-advertisement"
  | "no-eligible-node"
  | "no-live-node"
  | "no-local-endpoint";

/** Why a node can never announce, whatever the Service; undefined when it can. */
export function nodeExclusion(node: ElectionNode, ignoreExcludeLBLabel: boolean): string | undefined {
  if (node.networkUnavailable) return "NetworkUnavailable";
  if (!ignoreExcludeLBLabel && Object.prototype.hasOwnProperty.call(node.labels, EXCLUDE_LB_LABEL))
    return EXCLUDE_LB_LABEL;
  return undefined;
}

export const adSelectsNode = (ad: L2AdvertisementModel, node: ElectionNode): boolean =>
  ad.nodeSelectors.length === 0 || ad.nodeSelectors.some((s) => selectorMatches(s, node.labels));

const adSelectsService = (ad: L2AdvertisementModel, svc: ElectionService): boolean =>
  ad.serviceSelectors.length === 0 || (!svc.shared && ad.serviceSelectors.some((s) => selectorMatches(s, svc.labels)));

/** The L2Advertisements that apply to a Service (by the pool of its first IP and its labels). */
export function applicableAds(
  svc: ElectionService,
  pools: readonly Pool[],
  ads: readonly L2AdvertisementModel[],
): { pool?: Pool; ads: L2AdvertisementModel[] } {
  const first: IP | undefined = svc.ips.length > 0 ? parseIP(svc.ips[0]) : undefined;
  const pool = first && pools.find((p) => p.cidrs.some((c) => c.family === first.family && cidrContains(c, first)));
  if (!pool) return { ads: [] };
  return { pool, ads: ads.filter((ad) => ad.pools.includes(pool.name) && adSelectsService(ad, svc)) };
}

/** Summed preferredNodeSelectors weight of `node` over the ads that select it. */
export function preferenceWeight(node: ElectionNode, ads: readonly L2AdvertisementModel[]): number {
  let weight = 0;
  for (const ad of ads) {
    if (!adSelectsNode(ad, node)) continue;
    for (const p of ad.preferredNodeSelectors) if (selectorMatches(p.preference, node.labels)) weight += p.weight;
  }
  return weight;
}

/** Interfaces to announce on from `node`: the union over ads selecting it; [] = all. */
function interfacesFor(node: ElectionNode, ads: readonly L2AdvertisementModel[]): string[] {
  const selecting = ads.filter((ad) => adSelectsNode(ad, node));
  if (selecting.some((ad) => ad.interfaces.length === 0)) return [];
  return [...new Set(selecting.flatMap((ad) => ad.interfaces))].sort();
}

const tieBreak = (node: string, ip: string): string => createHash("sha256").update(`${node}#${ip}`).digest("hex");

/** Candidates best first (weight descending, then hash ascending), each with its weight. */
function rankWeighted(
  nodes: readonly ElectionNode[],
  ads: readonly L2AdvertisementModel[],
  firstIP: string,
): Array<{ n: ElectionNode; w: number }> {
  return nodes
    .map((n) => ({ n, w: preferenceWeight(n, ads), h: tieBreak(n.name, firstIP) }))
    .sort((a, b) => b.w - a.w || (a.h < b.h ? -1 : a.h > b.h ? 1 : 0));
}

/** Orders candidates best first: weight descending, then hash ascending. */
export function rankNodes(
  nodes: readonly ElectionNode[],
  ads: readonly L2AdvertisementModel[],
  firstIP: string,
): ElectionNode[] {
  return rankWeighted(nodes, ads, firstIP).map((x) => x.n);
}

/** Candidates for one Service, and why there are none when the list is empty. */
function candidates(
  svc: ElectionService,
  input: ElectionInput,
  ads: readonly L2AdvertisementModel[],
): { nodes: ElectionNode[]; reason?: NotAnnouncedReason } {
  let nodes = input.nodes.filter(
    (n) => nodeExclusion(n, input.ignoreExcludeLBLabel) === undefined && ads.some((ad) => adSelectsNode(ad, n)),
  );
  if (nodes.length === 0) return { nodes, reason: "no-eligible-node" };
  if (svc.local) {
    const serving = input.endpointNodes.get(svc.key);
    nodes = nodes.filter((n) => serving?.has(n.name));
    if (nodes.length === 0) return { nodes, reason: "no-local-endpoint" };
  }
  nodes = nodes.filter((n) => input.liveAgents.has(n.name));
  if (nodes.length === 0) return { nodes, reason: "no-live-node" };
  return { nodes };
}

/** The canonical text of a Service's first IP (the election key for shared IPs). */
const firstIPText = (svc: ElectionService): string | undefined => {
  const ip = svc.ips.length > 0 ? parseIP(svc.ips[0]) : undefined;
  return ip && formatIP(ip);
};

interface Placed {
  readonly members: readonly ElectionService[];
  readonly common: readonly ElectionNode[];
  readonly ranked: readonly ElectionNode[];
  readonly adsBy: ReadonlyMap<string, readonly L2AdvertisementModel[]>;
  readonly group: SpreadGroup;
}

/**
 * The owner of every Service. Services sharing a first IP are elected together: the
 * candidates are the nodes every one of them accepts, and a current owner of any of them
 * is kept if it is still a candidate. Which candidate a new group gets, and which groups move
 * to even out the load, is spread.ts's decision.
 */
export function electOwners(input: ElectionInput): Map<string, Assignment> {
  const out = new Map<string, Assignment>();
  const groups = new Map<string, ElectionService[]>();
  for (const svc of input.services) {
    const ip = firstIPText(svc);
    if (!ip) {
      out.set(svc.key, { reason: "no-ips" });
      continue;
    }
    groups.set(ip, [...(groups.get(ip) ?? []), svc]);
  }
  const placed: Placed[] = [];
  for (const [ip, members] of groups) {
    let common: ElectionNode[] | undefined;
    let failure: NotAnnouncedReason | undefined;
    const adsBy = new Map<string, L2AdvertisementModel[]>();
    for (const svc of members) {
      const { pool, ads } = applicableAds(svc, input.pools, input.l2Advertisements);
      adsBy.set(svc.key, ads);
      if (!pool) failure ??= "no-pool";
      else if (ads.length === 0) failure ??= "no-advertisement";
      if (failure) break;
      const c = candidates(svc, input, ads);
      if (c.reason) {
        failure = c.reason;
        break;
      }
      const names = new Set(c.nodes.map((n) => n.name));
      common = common ? common.filter((n) => names.has(n.name)) : c.nodes;
    }
    if (!failure && (!common || common.length === 0)) failure = "no-eligible-node";
    if (failure || !common) {
      for (const svc of members) out.set(svc.key, { reason: failure ?? "no-eligible-node" });
      continue;
    }
    const allAds = [...new Set(members.flatMap((m) => adsBy.get(m.key) ?? []))];
    const names = new Set(common.map((n) => n.name));
    const keep = members.map((m) => input.currentOwners.get(m.key)).find((o) => o !== undefined && names.has(o));
    const recorded = members
      .map((m) => input.recordedStandbys?.get(m.key))
      .find((l) => l !== undefined && l.length > 0);
    const standby = keep === undefined ? recorded?.find((n) => names.has(n)) : undefined;
    const weighted = rankWeighted(common, allAds, ip);
    const ranked = weighted.map((x) => x.n);
    const top = weighted[0].w;
    const sticky = keep ?? standby;
    const group: SpreadGroup = {
      id: ip,
      ranked: ranked.map((n) => n.name),
      tier: weighted.filter((x) => x.w === top).map((x) => x.n.name),
      ...(sticky !== undefined ? { sticky } : {}),
    };
    placed.push({ members, common, ranked, adsBy, group });
  }
  const at = spread(
    placed.map((p) => p.group),
    {
      slack: input.slack ?? DEFAULT_SLACK,
      rebalance: input.background === undefined,
      ...(input.background ? { background: input.background } : {}),
      ...(input.settledAgents ? { settled: input.settledAgents } : {}),
    },
  );
  for (const { members, common, ranked, adsBy, group } of placed) {
    const winner = common.find((n) => n.name === at.get(group.id))!;
    const standbys = ranked
      .filter((n) => n.name !== winner.name)
      .slice(0, Math.max(0, input.standbyCount ?? 0))
      .map((n) => n.name);
    for (const svc of members)
      out.set(svc.key, { node: winner.name, interfaces: interfacesFor(winner, adsBy.get(svc.key) ?? []), standbys });
  }
  return out;
}
