/**
 * Refuses a delete or an update that takes away something still in use: an object or a
 * community alias that another object names, or addresses that Services hold. The
 * annotation metallb.io/force-delete: "true" on the object lets it through, with
 * warnings saying what it broke. Pure.
 */
import { KINDS } from "../../../crds/types/kinds";
import { q } from "./diagnostics";
import { addressesTakenAway, poolMayShrink, type HolderService, type LostAddress } from "./pool-holders";
import { brokenReferences, type Reference } from "./references";
import type { ConfigInput, ConfigKind } from "./types";

export const FORCE_ANNOTATION = "metallb.io/force-delete";

/** Lists more than this many items as "..., and N more". */
const LIST_MAX = 10;

export interface Removal {
  kind: ConfigKind;
  name: string;
  operation: "UPDATE" | "DELETE";
  /** The configuration now, and as it would be after the change. */
  before: ConfigInput;
  after: ConfigInput;
  /** Annotations of the object deleted, or of the new object on an update. */
  annotations?: Record<string, string>;
  /** LoadBalancer Services, for an IPAddressPool (see servicesNeeded); not checked when absent. */
  services?: readonly HolderService[];
  loadBalancerClass?: string;
  /** The configuration namespace is being deleted: everything in it goes, used or not. */
  namespaceDeleting?: boolean;
}

export interface RemovalVerdict {
  /** The message to deny with, when refused. */
  refused?: string;
  /** When forced: what the change breaks. */
  warnings: string[];
}

interface Problem {
  /** The field of the changed object, on an update. */
  field: string;
  what: string;
  fix: string;
}

export const isForced = (r: Pick<Removal, "annotations" | "namespaceDeleting">): boolean =>
  r.annotations?.[FORCE_ANNOTATION] === "true" || r.namespaceDeleting === true;

const storedPool = (r: Pick<Removal, "before" | "name">) => r.before.pools?.find((p) => p?.metadata?.name === r.name);
const newPool = (r: Pick<Removal, "after" | "name">) => r.after.pools?.find((p) => p?.metadata?.name === r.name);

/** Whether deciding needs the cluster's Services (listing them costs, so only when so). */
export function servicesNeeded(r: Omit<Removal, "services">): boolean {
  if (r.kind !== "IPAddressPool" || isForced(r)) return false;
  const stored = storedPool(r);
  return stored !== undefined && poolMayShrink(stored, newPool(r));
}

export function listAtMost(items: readonly string[], max = LIST_MAX): string {
  if (items.length <= max) return items.join(", ");
  return `${items.slice(0, max).join(", ")} and ${items.length - max} more`;
}

/** `L2Advertisement "a" and BGPAdvertisement "b", "c"`. */
function objectList(refs: readonly Reference[]): string {
  const byKind = new Map<string, Set<string>>();
  for (const r of refs) byKind.set(r.from.kind, (byKind.get(r.from.kind) ?? new Set()).add(r.from.name));
  return [...byKind].map(([kind, names]) => `${kind} ${listAtMost([...names].sort().map(q))}`).join(" and ");
}

/** Only references to the changed object's kind can break, so `refs` all point to one kind. */
function referenceProblems(refs: readonly Reference[], operation: Removal["operation"]): Problem[] {
  if (refs.length === 0) return [];
  const to = refs[0].to.kind;
  if (to === "IPAddressPool") {
    return [
      {
        field: "metadata.name",
        what: `it is named in spec.ipAddressPools of ${objectList(refs)}`,
        fix: "remove it from those lists or delete those advertisements first (a list left empty, with no ipAddressPoolSelectors, selects every pool)",
      },
    ];
  }
  if (to === "BGPPeer") {
    return [
      {
        field: "metadata.name",
        what: `it is named in spec.peers of ${objectList(refs)}`,
        fix: "remove it from those lists or delete those advertisements first (a list left empty selects every peer)",
      },
    ];
  }
  if (to === "BFDProfile") {
    const many = new Set(refs.map((r) => r.from.name)).size > 1;
    return [
      {
        field: "metadata.name",
        what: `it is used by ${objectList(refs)} (spec.bfdProfile)`,
        fix: `remove spec.bfdProfile from ${many ? "those peers" : "that peer"} first`,
      },
    ];
  }
  const byAlias = new Map<string, Reference[]>();
  for (const r of refs) byAlias.set(r.alias!.name, [...(byAlias.get(r.alias!.name) ?? []), r]);
  return [...byAlias].map(([alias, users]) => ({
    field: "spec.communities",
    what:
      operation === "DELETE"
        ? `its alias ${q(alias)} is used in spec.communities of ${objectList(users)}`
        : `alias ${q(alias)} is removed while spec.communities of ${objectList(users)} use it`,
    fix: `write its value ${q(users[0].alias!.value)} there instead, or define the alias in another Community, first`,
  }));
}

function addressProblems(lost: readonly LostAddress[], operation: Removal["operation"]): Problem[] {
  return (["spec.addresses", "spec.avoidBuggyIPs"] as const).flatMap((field) => {
    const here = lost.filter((l) => l.field === field);
    if (here.length === 0) return [];
    const count = new Set(here.map((l) => l.service)).size;
    const services = `${count} Service${count > 1 ? "s" : ""}`;
    const list = listAtMost(here.map((l) => `${l.service} ${l.ip}`));
    const move = "move those Services to another pool (annotation metallb.io/address-pool) first";
    if (operation === "DELETE") {
      const hold = count > 1 ? "hold" : "holds";
      return [{ field, what: `${services} ${hold} its addresses: ${list}`, fix: `${move}, or delete them` }];
    }
    const keep = field === "spec.addresses" ? "keep those addresses in spec.addresses" : "leave avoidBuggyIPs off";
    return [{ field, what: `the change takes addresses away from ${services}: ${list}`, fix: `${keep}, or ${move}` }];
  });
}

export function guardRemoval(r: Removal): RemovalVerdict {
  const changed = { kind: r.kind, name: r.name };
  const broken = brokenReferences(r.before, r.after, changed);
  const problems = referenceProblems(broken, r.operation);
  const stored = storedPool(r);
  if (r.kind === "IPAddressPool" && stored && r.services) {
    const lost = addressesTakenAway(stored, newPool(r), r.services, r.loadBalancerClass);
    problems.push(...addressProblems(lost, r.operation));
  }
  if (problems.length === 0) return { warnings: [] };

  const head = `${r.kind} ${q(r.name)}: `;
  const deleting = r.operation === "DELETE";
  if (isForced(r)) {
    const why = r.namespaceDeleting ? "its namespace is being deleted" : `${FORCE_ANNOTATION} is "true"`;
    return {
      warnings: problems.map((p) => `${head}${deleting ? "" : `${p.field}: `}allowed (${why}) although ${p.what}`),
    };
  }
  const lines = problems.map((p) =>
    deleting
      ? `${head}failed to delete ${r.kind} ${q(r.name)}: ${p.what}; ${p.fix}`
      : `${head}${p.field}: ${p.what}; ${p.fix}`,
  );
  const command = `kubectl annotate ${KINDS[r.kind].crdName} -n ${r.before.namespace} ${r.name} ${FORCE_ANNOTATION}=true`;
  lines.push(`${head}to ${deleting ? "delete it" : "make this change"} anyway, first run: ${command}`);
  return { refused: lines.join("\n"), warnings: [] };
}
