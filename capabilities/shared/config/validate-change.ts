/**
 * Admission for metallb.io objects: the would-be configuration (the existing objects
 * with this one added, replaced or removed) goes through the parser. Only problems
 * that involve the changed object deny it; anything else already broken is a warning.
 */
import { checkBFDProfileDelete } from "./bfd";
import { q } from "./diagnostics";
import { namespaceMessage } from "./objects";
import { analyzeConfig } from "./parse";
import type { ConfigError, ConfigInput, ConfigKind } from "./types";

export interface ChangedObject {
  metadata?: { name?: string; namespace?: string };
  spec?: unknown;
}

export interface ConfigChange {
  kind: ConfigKind;
  /** The new object (CREATE/UPDATE) or the one being deleted. */
  object?: ChangedObject;
  operation: "CREATE" | "UPDATE" | "DELETE";
}

export interface ChangeVerdict {
  allowed: boolean;
  message?: string;
  warnings: string[];
}

const LIST: Record<
  ConfigKind,
  "pools" | "l2Advertisements" | "bgpAdvertisements" | "bgpPeers" | "bfdProfiles" | "communities"
> = {
  IPAddressPool: "pools",
  L2Advertisement: "l2Advertisements",
  BGPAdvertisement: "bgpAdvertisements",
  BGPPeer: "bgpPeers",
  BFDProfile: "bfdProfiles",
  Community: "communities",
};

/** The input with the object of that kind and name removed, and `replacement` appended if given. */
function withObject(existing: ConfigInput, kind: ConfigKind, name: string, replacement?: ChangedObject): ConfigInput {
  const key = LIST[kind];
  const others = ((existing[key] ?? []) as ChangedObject[]).filter((o) => (o?.metadata?.name ?? "") !== name);
  return { ...existing, [key]: replacement ? [...others, replacement] : others };
}

export function validateChange(existing: ConfigInput, change: ConfigChange): ChangeVerdict {
  const { kind, object, operation } = change;
  const name = object?.metadata?.name ?? "";
  const opts = { deferReferences: true };

  if (operation === "DELETE") {
    if (kind === "BFDProfile") {
      const refused = checkBFDProfileDelete(name, existing);
      if (refused) return { allowed: false, message: `${kind} ${q(name)}: ${refused}`, warnings: [] };
    }
    // Deleting is always allowed; say which references it leaves dangling.
    const before = new Set(analyzeConfig(existing, opts).warnings.map((w) => w.message));
    const after = analyzeConfig(withObject(existing, kind, name), opts);
    return { allowed: true, warnings: after.warnings.map((w) => w.message).filter((m) => !before.has(m)) };
  }

  const ns = object?.metadata?.namespace;
  if (ns && ns !== existing.namespace) {
    return { allowed: false, message: `${kind} ${q(name)}: ${namespaceMessage(existing.namespace, ns)}`, warnings: [] };
  }
  const result = analyzeConfig(withObject(existing, kind, name, object ?? {}), opts);
  const involves = (e: ConfigError): boolean =>
    (e.kind === kind && e.name === name) || (e.related ?? []).some((r) => r.kind === kind && r.name === name);
  const blocking = result.errors.filter(involves);
  const warnings = [
    ...result.warnings.filter(involves).map((w) => w.message),
    ...result.errors
      .filter((e) => !involves(e))
      .map((e) => `existing configuration is invalid (unrelated to this change): ${e.message}`),
  ];
  if (blocking.length > 0) return { allowed: false, message: blocking.map((e) => e.message).join("\n"), warnings };
  return { allowed: true, warnings };
}
