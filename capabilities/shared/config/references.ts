/**
 * Which object names which, so that admission can refuse a delete or an update that
 * would leave a reference in use dangling. Reads the raw objects, not the parsed model:
 * a reference counts even while the configuration is invalid for another reason. Pure.
 */
import type { ConfigInput, ObjectRef } from "./types";

export interface Reference {
  /** The object that names another. */
  readonly from: ObjectRef;
  /** Where it does, e.g. "spec.communities[1]". */
  readonly field: string;
  /** The object named; for a community alias, the Community that defines it. */
  readonly to: ObjectRef;
  /** For a community alias: its name and the value it stands for. */
  readonly alias?: { readonly name: string; readonly value: string };
}

interface Named {
  metadata?: { name?: string };
}

const nameOf = (o: Named | undefined): string => o?.metadata?.name ?? "";

const namesOf = (list: readonly Named[] | undefined): Set<string> =>
  new Set((list ?? []).map(nameOf).filter((n) => n !== ""));

/** Alias name to its defining Community, first by Community name as the parser takes it. */
function aliasTable(input: ConfigInput): Map<string, { owner: string; value: string }> {
  const table = new Map<string, { owner: string; value: string }>();
  const byName = [...(input.communities ?? [])].filter((c) => nameOf(c) !== "");
  byName.sort((a, b) => (nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : 0));
  for (const c of byName) {
    for (const a of c.spec?.communities ?? []) {
      if (a?.name && !table.has(a.name)) table.set(a.name, { owner: nameOf(c), value: String(a.value ?? "") });
    }
  }
  return table;
}

/** Every reference that resolves in this configuration: ones already dangling are left out. */
export function resolvedReferences(input: ConfigInput): Reference[] {
  const pools = namesOf(input.pools);
  const peers = namesOf(input.bgpPeers);
  const profiles = namesOf(input.bfdProfiles);
  const aliases = aliasTable(input);
  const out: Reference[] = [];
  const add = (from: ObjectRef, field: string, to: ObjectRef, alias?: Reference["alias"]) =>
    out.push(alias ? { from, field, to, alias } : { from, field, to });

  for (const [kind, ads] of [
    ["L2Advertisement", input.l2Advertisements],
    ["BGPAdvertisement", input.bgpAdvertisements],
  ] as const) {
    for (const ad of ads ?? []) {
      const from = { kind, name: nameOf(ad) };
      (ad.spec?.ipAddressPools ?? []).forEach((p, i) => {
        if (pools.has(p)) add(from, `spec.ipAddressPools[${i}]`, { kind: "IPAddressPool", name: p });
      });
    }
  }
  for (const ad of input.bgpAdvertisements ?? []) {
    const from = { kind: "BGPAdvertisement" as const, name: nameOf(ad) };
    (ad.spec?.peers ?? []).forEach((p, i) => {
      if (peers.has(p)) add(from, `spec.peers[${i}]`, { kind: "BGPPeer", name: p });
    });
    // Aliases are looked up before values, as the parser does.
    (ad.spec?.communities ?? []).forEach((text, i) => {
      const alias = aliases.get(text);
      if (alias) {
        add(
          from,
          `spec.communities[${i}]`,
          { kind: "Community", name: alias.owner },
          { name: text, value: alias.value },
        );
      }
    });
  }
  for (const peer of input.bgpPeers ?? []) {
    const profile = peer.spec?.bfdProfile;
    if (profile && profiles.has(profile)) {
      add({ kind: "BGPPeer", name: nameOf(peer) }, "spec.bfdProfile", { kind: "BFDProfile", name: profile });
    }
  }
  return out;
}

const keyOf = (r: Reference): string => `${r.from.kind}/${r.from.name}/${r.field}`;

/**
 * The references that resolve in `before` and no longer in `after`. Those held by the
 * changed object itself are its author's business and are left out.
 */
export function brokenReferences(before: ConfigInput, after: ConfigInput, changed: ObjectRef): Reference[] {
  const still = new Set(resolvedReferences(after).map(keyOf));
  return resolvedReferences(before).filter(
    (r) => !(r.from.kind === changed.kind && r.from.name === changed.name) && !still.has(keyOf(r)),
  );
}
