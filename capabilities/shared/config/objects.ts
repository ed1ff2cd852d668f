/**
 * Rules every object shares: a name, the configuration namespace, one definition per name.
 */
import { q, type Diagnostics } from "./diagnostics";
import type { ConfigKind } from "./types";

interface Named {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
}

/** How each kind is called in MetalLB's "missing ... name" / "duplicate definition of ..." messages. */
const NOUN: Record<ConfigKind, string> = {
  IPAddressPool: "pool",
  L2Advertisement: "L2Advertisement",
  BGPAdvertisement: "BGPAdvertisement",
  BGPPeer: "BGPPeer",
  BFDProfile: "bfd profile",
  Community: "Community",
};

/** The message the webhooks give for an object outside the configuration namespace. */
export const namespaceMessage = (namespace: string, got: string): string =>
  `metadata.namespace: resource must be created in ${namespace} namespace, not ${q(got)}; move it to the ${q(namespace)} namespace`;

/**
 * The objects of one kind that have a name, sorted by name, first definition kept.
 * Reports missing names, wrong namespaces and duplicates.
 */
export function namedObjects<T extends Named>(
  kind: ConfigKind,
  list: readonly T[] | undefined,
  namespace: string,
  d: Diagnostics,
): { name: string; obj: T }[] {
  const withNames: { name: string; obj: T }[] = [];
  for (const obj of list ?? []) {
    const name = obj?.metadata?.name ?? "";
    if (name === "") {
      d.error(kind, "", "metadata.name", `metadata.name: missing ${NOUN[kind]} name`);
      continue;
    }
    const ns = obj.metadata?.namespace;
    if (ns !== undefined && ns !== "" && ns !== namespace)
      d.error(kind, name, "metadata.namespace", namespaceMessage(namespace, ns));
    withNames.push({ name, obj });
  }
  withNames.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: { name: string; obj: T }[] = [];
  for (const entry of withNames) {
    if (out.length > 0 && out[out.length - 1].name === entry.name) {
      d.error(
        kind,
        entry.name,
        "metadata.name",
        `metadata.name: duplicate definition of ${NOUN[kind]} ${q(entry.name)}`,
      );
      continue;
    }
    out.push(entry);
  }
  return out;
}
