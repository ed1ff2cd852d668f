/**
 * L2Advertisement and BGPAdvertisement: which pools they cover, selectors, and the
 * BGP rules that span objects (aggregation vs pool prefixes, LOCAL_PREF conflicts).
 */
import type { BGPAdvertisement, L2Advertisement, LabelSelector, PreferredNodeSelector } from "../../../crds/types";
import { anySelectorMatches } from "../labels";
import { formatCIDR, type Family } from "../net/ip";
import type { Alias } from "./communities";
import { resolveCommunityEntry, splitCommunities } from "./communities";
import { ADVERTISEMENT_OPT_IN_ANNOTATION } from "./service-communities";
import { WEIGHTED_ECMP_ANNOTATION } from "./weighted-ecmp";
import { isIntIn, q, show, type Diagnostics, type ObjectDiagnostics } from "./diagnostics";
import { namedObjects } from "./objects";
import {
  checkDuplicateStrings,
  checkSelectorList,
  formatSelector,
  selectNames,
  selectionsOverlap,
  selectorSyntaxProblem,
} from "./selectors";
import type {
  BGPAdvertisementModel,
  CommunityValue,
  ConfigInput,
  L2AdvertisementModel,
  LargeCommunity,
  PeerModel,
  Pool,
  StandardCommunity,
} from "./types";

type AdSpec = {
  ipAddressPools?: string[];
  ipAddressPoolSelectors?: LabelSelector[];
  nodeSelectors?: LabelSelector[];
  serviceSelectors?: LabelSelector[];
};

interface CommonParts {
  pools: string[];
  nodeSelectors: LabelSelector[];
  nodes?: string[];
  serviceSelectors: LabelSelector[];
}

/** Pool and node/service selection, shared by both advertisement kinds. */
function commonParts(
  spec: AdSpec,
  pools: ReadonlyMap<string, Pool>,
  input: ConfigInput,
  d: ObjectDiagnostics,
): CommonParts {
  const names = checkDuplicateStrings(spec.ipAddressPools, "spec.ipAddressPools", "ipAddressPools", d);
  const poolSelectors = checkSelectorList(
    spec.ipAddressPoolSelectors,
    {
      field: "spec.ipAddressPoolSelectors",
      parseError: "failed to parse ipAddressPoolSelector",
      listName: "ipAddressPoolSelectors",
    },
    d,
  );
  const nodeSelectors = checkSelectorList(
    spec.nodeSelectors,
    { field: "spec.nodeSelectors", parseError: "failed to parse node selector", listName: "nodeSelectors" },
    d,
  );
  const serviceSelectors = checkSelectorList(
    spec.serviceSelectors,
    { field: "spec.serviceSelectors", parseError: "failed to parse service selector", listName: "serviceSelectors" },
    d,
  );
  (spec.ipAddressPools ?? []).forEach((p, i) => {
    if (!pools.has(p)) {
      d.warn(
        `spec.ipAddressPools[${i}]`,
        `spec.ipAddressPools[${i}]: IPAddressPool ${q(p)} does not exist; nothing is announced for it until it is created`,
        {
          related: [{ kind: "IPAddressPool", name: p }],
        },
      );
    }
  });
  let selected: string[];
  if (names.length === 0 && (spec.ipAddressPoolSelectors ?? []).length === 0) {
    selected = [...pools.keys()];
  } else {
    const set = new Set(names.filter((n) => pools.has(n)));
    for (const pool of pools.values())
      if (poolSelectors.length > 0 && anySelectorMatches(poolSelectors, pool.labels)) set.add(pool.name);
    selected = [...set];
  }
  return {
    pools: selected.sort(),
    nodeSelectors,
    nodes: input.nodes ? selectNames(nodeSelectors, input.nodes) : undefined,
    serviceSelectors,
  };
}

const IFNAME = /^[^\s/:]{1,15}$/;

function preferredNodeSelectors(
  list: readonly PreferredNodeSelector[] | undefined,
  d: ObjectDiagnostics,
): PreferredNodeSelector[] {
  const seen = new Set<string>();
  const out: PreferredNodeSelector[] = [];
  (list ?? []).forEach((p, i) => {
    const field = `spec.preferredNodeSelectors[${i}]`;
    if (!isIntIn(p?.weight, 1, 100)) {
      return d.error(`${field}.weight`, `${field}.weight: invalid weight ${show(p?.weight)}, must be in 1-100 range`);
    }
    const problem = selectorSyntaxProblem(p.preference ?? {});
    if (problem)
      return d.error(
        `${field}.preference`,
        `${field}.preference: failed to parse preferred node selectors: ${problem}`,
      );
    const text = `${p.weight}:${formatSelector(p.preference ?? {})}`;
    if (seen.has(text)) {
      return d.error(
        field,
        `${field}: duplicate definition of preferredNodeSelectors ${q(formatSelector(p.preference ?? {}))} with weight ${p.weight}; remove the repeated entry`,
      );
    }
    seen.add(text);
    out.push({ weight: p.weight, preference: p.preference ?? {} });
  });
  return out;
}

export function parseL2Advertisements(
  input: ConfigInput,
  pools: ReadonlyMap<string, Pool>,
  diags: Diagnostics,
): L2AdvertisementModel[] {
  const out: L2AdvertisementModel[] = [];
  for (const { name, obj } of namedObjects<L2Advertisement>(
    "L2Advertisement",
    input.l2Advertisements,
    input.namespace,
    diags,
  )) {
    const d = diags.for("L2Advertisement", name);
    const spec = obj.spec ?? {};
    const common = commonParts(spec, pools, input, d);
    const interfaces = new Set<string>();
    (spec.interfaces ?? []).forEach((ifname, i) => {
      if (!IFNAME.test(String(ifname)) || ifname === "." || ifname === "..") {
        return d.error(
          `spec.interfaces[${i}]`,
          `spec.interfaces[${i}]: invalid interface name ${q(ifname)}; use a network interface name such as "eth0"`,
        );
      }
      interfaces.add(ifname);
    });
    out.push({
      name,
      ...common,
      interfaces: [...interfaces],
      preferredNodeSelectors: preferredNodeSelectors(spec.preferredNodeSelectors, d),
    });
  }
  return out;
}

/** Resolves communities (aliases first, then literal values); unknown aliases are transient. */
function resolveCommunities(
  list: readonly string[] | undefined,
  aliases: ReadonlyMap<string, Alias>,
  d: ObjectDiagnostics,
): { standard: StandardCommunity[]; large: LargeCommunity[] } {
  checkDuplicateStrings(list, "spec.communities", "communities", d);
  const values: CommunityValue[] = [];
  (list ?? []).forEach((text, i) => {
    const field = `spec.communities[${i}]`;
    const entry = resolveCommunityEntry(String(text), (name) => aliases.get(name)?.value);
    if (entry.ok) return void values.push(entry.value);
    if (entry.unknownAlias)
      return d.error(
        field,
        `${field}: unknown community alias ${q(text)}; define it in a Community object or write the value as AA:NN or large:A:B:C`,
        { transient: true },
      );
    d.error(field, `${field}: ${entry.error}`);
  });
  return splitCommunities(values);
}

/** An opt-in annotation of ours on a BGPAdvertisement: "true", "false" or absent. */
function optIn(
  annotations: Record<string, string> | undefined,
  key: string,
  what: string,
  d: ObjectDiagnostics,
): boolean {
  const text = annotations?.[key];
  if (text === undefined || text === "false") return false;
  if (text === "true") return true;
  const field = `metadata.annotations[${q(key)}]`;
  d.error(field, `${field}: invalid value ${q(text)}; write "true" to ${what}, or "false"`);
  return false;
}

const SELECTORS_VS_AGGREGATION =
  "serviceSelectors and aggregationLength are mutually exclusive, can only be used together with default aggregationLength (32) and aggregationLengthV6 (128)";

function aggregation(spec: BGPAdvertisement["spec"] & object, d: ObjectDiagnostics): { v4: number; v6: number } {
  let v4 = 32;
  let v6 = 128;
  if (spec.aggregationLength !== undefined && spec.aggregationLength !== null) {
    if (isIntIn(spec.aggregationLength, 1, 32)) v4 = spec.aggregationLength;
    else
      d.error(
        "spec.aggregationLength",
        `spec.aggregationLength: invalid aggregation length ${show(spec.aggregationLength)} for IPv4; use 1 to 32`,
      );
  }
  if (spec.aggregationLengthV6 !== undefined && spec.aggregationLengthV6 !== null) {
    if (isIntIn(spec.aggregationLengthV6, 0, 128)) v6 = spec.aggregationLengthV6;
    else
      d.error(
        "spec.aggregationLengthV6",
        `spec.aggregationLengthV6: invalid aggregation length ${show(spec.aggregationLengthV6)} for IPv6; use 1 to 128`,
      );
  }
  return { v4, v6 };
}

/** The aggregated prefix must contain nothing outside the pool: it may not be shorter than the pool's blocks. */
function checkAggregationAgainstPools(
  ad: BGPAdvertisementModel,
  pools: ReadonlyMap<string, Pool>,
  d: ObjectDiagnostics,
): void {
  for (const poolName of ad.pools) {
    const pool = pools.get(poolName)!;
    for (const family of [4, 6] as Family[]) {
      const length = family === 4 ? ad.aggregationLength : ad.aggregationLengthV6;
      const field = family === 4 ? "spec.aggregationLength" : "spec.aggregationLengthV6";
      for (const entry of pool.addresses) {
        if (entry.cidrs[0].family !== family) continue;
        // For a range, the shortest mask among its CIDRs counts.
        const shortest = entry.cidrs.reduce((a, c) => (c.prefixLength < a.prefixLength ? c : a));
        if (length >= shortest.prefixLength) continue;
        d.error(
          field,
          `${field}: invalid aggregation length ${length}: prefix ${shortest.prefixLength} in this pool is more specific than the aggregation length for addresses ${q(formatCIDR(shortest))} of IPAddressPool ${q(poolName)}; set ${field} to ${shortest.prefixLength} or more`,
          { related: [{ kind: "IPAddressPool", name: poolName }] },
        );
        break;
      }
    }
  }
}

const familiesOf = (pool: Pool): Set<Family> => new Set(pool.cidrs.map((c) => c.family));

/**
 * Two advertisements that would produce the same BGP update (same pool, same
 * aggregation length, a peer and a node in common) must agree on LOCAL_PREF.
 */
function checkLocalPref(
  ad: BGPAdvertisementModel,
  earlier: readonly BGPAdvertisementModel[],
  pools: ReadonlyMap<string, Pool>,
  input: ConfigInput,
  d: ObjectDiagnostics,
): void {
  if (ad.serviceSelectors.length > 0) return;
  for (const other of earlier) {
    if (other.serviceSelectors.length > 0 || other.localPref === ad.localPref) continue;
    const peersOverlap =
      ad.peers.length === 0 || other.peers.length === 0 || ad.peers.some((p) => other.peers.includes(p));
    if (!peersOverlap || !selectionsOverlap(ad.nodeSelectors, other.nodeSelectors, input.nodes)) continue;
    const pool = ad.pools.find((name) => {
      if (!other.pools.includes(name)) return false;
      const fams = familiesOf(pools.get(name)!);
      return (
        (fams.has(4) && ad.aggregationLength === other.aggregationLength) ||
        (fams.has(6) && ad.aggregationLengthV6 === other.aggregationLengthV6)
      );
    });
    if (pool === undefined) continue;
    d.error(
      "spec.localPref",
      `spec.localPref: invalid local preference ${ad.localPref}: local preference ${other.localPref} was already set for the same type of BGP update by BGPAdvertisement ${q(other.name)} (IPAddressPool ${q(pool)}, same aggregation length, common peers and nodes); give both advertisements the same localPref or separate their pools, peers or nodes`,
      {
        related: [
          { kind: "BGPAdvertisement", name: other.name },
          { kind: "IPAddressPool", name: pool },
        ],
      },
    );
    return;
  }
}

export function parseBGPAdvertisements(
  input: ConfigInput,
  pools: ReadonlyMap<string, Pool>,
  peers: readonly PeerModel[],
  aliases: ReadonlyMap<string, Alias>,
  diags: Diagnostics,
): BGPAdvertisementModel[] {
  const out: BGPAdvertisementModel[] = [];
  const peerNames = new Set(peers.map((p) => p.name));
  for (const { name, obj } of namedObjects<BGPAdvertisement>(
    "BGPAdvertisement",
    input.bgpAdvertisements,
    input.namespace,
    diags,
  )) {
    const d = diags.for("BGPAdvertisement", name);
    const spec = obj.spec ?? {};
    const common = commonParts(spec, pools, input, d);
    const agg = aggregation(spec, d);
    if (common.serviceSelectors.length > 0 && (agg.v4 !== 32 || agg.v6 !== 128)) {
      d.error("spec.serviceSelectors", `spec.serviceSelectors: ${SELECTORS_VS_AGGREGATION}`);
    }
    let localPref = 0;
    if (spec.localPref !== undefined && spec.localPref !== null) {
      if (isIntIn(spec.localPref, 0, 4294967295)) localPref = spec.localPref;
      else
        d.error(
          "spec.localPref",
          `spec.localPref: invalid local preference ${show(spec.localPref)}, must be in 0-4294967295 range`,
        );
    }
    const peerList = checkDuplicateStrings(spec.peers, "spec.peers", "peers", d);
    (spec.peers ?? []).forEach((p, i) => {
      if (!peerNames.has(p)) {
        d.warn(
          `spec.peers[${i}]`,
          `spec.peers[${i}]: BGPPeer ${q(p)} does not exist; nothing is sent to it until it is created`,
          {
            related: [{ kind: "BGPPeer", name: p }],
          },
        );
      }
    });
    const communities = resolveCommunities(spec.communities, aliases, d);
    const annotations = obj.metadata?.annotations;
    const serviceCommunities = optIn(
      annotations,
      ADVERTISEMENT_OPT_IN_ANNOTATION,
      "add the communities Services ask for",
      d,
    );
    const weightedEcmp = optIn(
      annotations,
      WEIGHTED_ECMP_ANNOTATION,
      "weight routes by the node's serving endpoints",
      d,
    );
    const ad: BGPAdvertisementModel = {
      name,
      ...common,
      aggregationLength: agg.v4,
      aggregationLengthV6: agg.v6,
      localPref,
      communities: communities.standard,
      largeCommunities: communities.large,
      serviceCommunities,
      weightedEcmp,
      peers: peerList.sort(),
    };
    checkAggregationAgainstPools(ad, pools, d);
    checkLocalPref(ad, out, pools, input, d);
    out.push(ad);
  }
  return out;
}
