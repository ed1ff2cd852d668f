/**
 * Reads the whole metallb.io configuration from the API server, as the parser's
 * input. Admission reads it live (a just-created pool must count for the next
 * request's overlap check); reconcilers read it on every configuration event.
 */
import { K8s, kind } from "kubernetes-fluent-client";
import {
  BFDProfile,
  BGPAdvertisement,
  BGPPeer,
  Community,
  IPAddressPool,
  L2Advertisement,
} from "../../../crds/register";
import type { ConfigInput } from "../config";

const items = async <T>(list: Promise<{ items: T[] }>): Promise<T[]> => (await list).items;

export async function readConfig(namespace: string): Promise<ConfigInput> {
  const [pools, l2Advertisements, bgpAdvertisements, bgpPeers, bfdProfiles, communities, namespaces] =
    await Promise.all([
      items(K8s(IPAddressPool).InNamespace(namespace).Get()),
      items(K8s(L2Advertisement).InNamespace(namespace).Get()),
      items(K8s(BGPAdvertisement).InNamespace(namespace).Get()),
      items(K8s(BGPPeer).InNamespace(namespace).Get()),
      items(K8s(BFDProfile).InNamespace(namespace).Get()),
      items(K8s(Community).InNamespace(namespace).Get()),
      items(K8s(kind.Namespace).Get()),
    ]);
  return {
    namespace,
    pools,
    l2Advertisements,
    bgpAdvertisements,
    bgpPeers,
    bfdProfiles,
    communities,
    namespaces: namespaces.map((n) => ({ name: n.metadata!.name!, labels: n.metadata?.labels ?? {} })),
  } as ConfigInput;
}
