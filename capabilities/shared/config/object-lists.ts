/**
 * Where each configuration kind sits in the parser's input, and the input with one
 * object replaced or removed: the would-be configuration admission judges, and the
 * configuration with a bad object set aside that resolveConfig parses again.
 */
import type { ConfigInput, ConfigKind } from "./types";

export type ListField = "pools" | "l2Advertisements" | "bgpAdvertisements" | "bgpPeers" | "bfdProfiles" | "communities";

export const LIST_OF: Readonly<Record<ConfigKind, ListField>> = {
  IPAddressPool: "pools",
  L2Advertisement: "l2Advertisements",
  BGPAdvertisement: "bgpAdvertisements",
  BGPPeer: "bgpPeers",
  BFDProfile: "bfdProfiles",
  Community: "communities",
};

const nameOf = (o: unknown): string => (o as { metadata?: { name?: string } } | undefined)?.metadata?.name ?? "";

/** The input with every object of that kind and name removed, and `replacement` appended if given. */
export function withObject(input: ConfigInput, kind: ConfigKind, name: string, replacement?: unknown): ConfigInput {
  const field = LIST_OF[kind];
  const others = ((input[field] ?? []) as unknown[]).filter((o) => nameOf(o) !== name);
  return { ...input, [field]: replacement === undefined ? others : [...others, replacement] };
}
