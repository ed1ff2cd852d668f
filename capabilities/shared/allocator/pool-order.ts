/**
 * Which pools a Service may draw from, and in which order (serviceAllocation rules).
 */
import { anySelectorMatches } from "../labels";
import type { Pool, ServiceAllocation, ServiceRequest } from "./types";

function namespaceListed(names: ReadonlySet<string> | readonly string[] | undefined, namespace: string): boolean {
  if (names === undefined) return false;
  return "has" in names ? names.has(namespace) : names.includes(namespace);
}

const sizeOf = (names: ReadonlySet<string> | readonly string[] | undefined): number =>
  names === undefined ? 0 : "size" in names ? names.size : names.length;

/**
 * Whether a pool's serviceAllocation admits the Service. No serviceAllocation, or one
 * with only a priority, admits everyone.
 *
 * Namespace rule: when namespaces or namespaceSelectors are given, the Service's
 * namespace must be listed or its labels must match one selector. (MetalLB resolves
 * selectors to names first, so a selector matching no namespace at all silently admits
 * every namespace; we do not reproduce that.)
 */
export function poolAdmits(pool: Pool, request: ServiceRequest): boolean {
  const sa = pool.serviceAllocation;
  if (!sa) return true;
  return namespaceAdmitted(sa, request) && serviceAdmitted(sa, request);
}

function namespaceAdmitted(sa: ServiceAllocation, request: ServiceRequest): boolean {
  const selectors = sa.namespaceSelectors ?? [];
  if (sizeOf(sa.namespaces) === 0 && selectors.length === 0) return true;
  return (
    namespaceListed(sa.namespaces, request.namespace) || anySelectorMatches(selectors, request.namespaceLabels ?? {})
  );
}

function serviceAdmitted(sa: ServiceAllocation, request: ServiceRequest): boolean {
  const selectors = sa.serviceSelectors ?? [];
  return selectors.length === 0 || anySelectorMatches(selectors, request.labels ?? {});
}

/** Sort key: explicit priorities ascending, then 0/unset. */
const priorityRank = (pool: Pool): number => {
  const p = pool.serviceAllocation?.priority;
  return p === undefined || p === 0 ? Number.POSITIVE_INFINITY : p;
};

const byName = (a: Pool, b: Pool): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * Pools to try, in order, for a Service with no requested IP and no pool annotation:
 * first the autoAssign pools whose serviceAllocation admits it, by priority; then every
 * autoAssign pool without serviceAllocation.
 *
 * Better than MetalLB: MetalLB leaves ties among equal priorities, and the order of
 * default pools, to Go map iteration, i.e. random. We break every tie by pool name
 * (lexicographic), so the same configuration always yields the same IP.
 */
export function candidatePools(pools: readonly Pool[], request: ServiceRequest): Pool[] {
  // A disabled (invalid) pool hands out nothing new; its holders keep their addresses.
  const auto = pools.filter((p) => p.autoAssign && p.disabled === undefined).sort(byName);
  const pinned = auto
    .filter((p) => p.serviceAllocation !== undefined && poolAdmits(p, request))
    .sort((a, b) => priorityRank(a) - priorityRank(b) || byName(a, b));
  const defaults = auto.filter((p) => p.serviceAllocation === undefined);
  return [...pinned, ...defaults];
}
