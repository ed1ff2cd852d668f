/**
 * Reads the whole metallb.io configuration from the API server, as the parser's
 * input, for admission: it reads live (a just-created pool must count for the next
 * request's overlap check) and has no watch of its own. The reconcilers and the agent
 * run on the configuration store (config-store.ts) instead.
 *
 * On the pooled keep-alive client: through kubernetes-fluent-client, each of the seven
 * lists opened a new TLS connection: 22 ms (p50) on an idle API server, against 5 ms now.
 */
import { GROUP, KINDS, type KindInfo } from "../../../crds/types/kinds";
import type { ConfigInput } from "../config";
import { kubeHttp } from "./http";

interface List<T = unknown> {
  items: T[];
}

interface Named {
  metadata?: { name?: string; labels?: Record<string, string> };
}

const named = (o: Named) => ({ name: o.metadata?.name ?? "", labels: o.metadata?.labels ?? {} });

const list = async (info: KindInfo, namespace: string): Promise<unknown[]> =>
  (await kubeHttp().send<List>("GET", `/apis/${GROUP}/${info.version}/namespaces/${namespace}/${info.plural}`)).items;

/** `nodes: false`: for a reader that only needs the pools (Service admission). */
export async function readConfig(namespace: string, { nodes: withNodes = true } = {}): Promise<ConfigInput> {
  const [pools, l2Advertisements, bgpAdvertisements, bgpPeers, bfdProfiles, communities, namespaces, nodes] =
    await Promise.all([
      list(KINDS.IPAddressPool, namespace),
      list(KINDS.L2Advertisement, namespace),
      list(KINDS.BGPAdvertisement, namespace),
      list(KINDS.BGPPeer, namespace),
      list(KINDS.BFDProfile, namespace),
      list(KINDS.Community, namespace),
      kubeHttp().send<List<Named>>("GET", "/api/v1/namespaces"),
      // Whether two peers or advertisements share a node is decided against the Nodes
      // that exist, as MetalLB's webhook does (selectors.ts, selectionsOverlap).
      withNodes ? kubeHttp().listMetadata<Named>("/api/v1/nodes") : undefined,
    ]);
  return {
    namespace,
    pools,
    l2Advertisements,
    bgpAdvertisements,
    bgpPeers,
    bfdProfiles,
    communities,
    namespaces: namespaces.items.map(named),
    // A PartialObjectMetadataList with no items has `items: null`.
    ...(nodes ? { nodes: (nodes.items ?? []).map(named) } : {}),
  } as ConfigInput;
}
