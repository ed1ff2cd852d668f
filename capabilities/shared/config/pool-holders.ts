/**
 * Which Services would lose the addresses they hold if an IPAddressPool changed or went
 * away: the allocator drops an assignment that no pool may hold any more (outside
 * every pool's addresses, or a .0/.255 address under avoidBuggyIPs) and renumbers
 * the Service. Pure.
 */
import type { IPAddressPool } from "../../../crds/types";
import { isBuggyIP } from "../allocator/capacity";
import { cidrContains, formatIP, parseIP, type CIDR } from "../net/ip";
import type { ObjectDiagnostics } from "./diagnostics";
import { parseAddress } from "./pools";

/** Set by the allocator on each Service it gives an address: the pool the address came from. */
export const ALLOCATED_FROM_POOL_ANNOTATION = "metallb.io/ip-allocated-from-pool";

/** The part of a core/v1 Service this reads. */
export interface HolderService {
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> };
  spec?: { type?: string; loadBalancerClass?: string };
  status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } };
}

export interface LostAddress {
  /** "namespace/name". */
  readonly service: string;
  readonly ip: string;
  /** What takes it away: the address list, or avoidBuggyIPs turned on. */
  readonly field: "spec.addresses" | "spec.avoidBuggyIPs";
}

type PoolObject = Pick<IPAddressPool, "spec"> & { metadata?: { name?: string } };

const ignore: ObjectDiagnostics = { error: () => undefined, warn: () => undefined };

/** The blocks of a pool that parse; malformed entries are the parser's to report. */
function cidrsOf(pool: PoolObject): CIDR[] {
  const name = pool.metadata?.name ?? "";
  return (pool.spec?.addresses ?? []).flatMap((text) => parseAddress(text, "", name, ignore) ?? []);
}

const sameList = (a: readonly string[] = [], b: readonly string[] = []): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** Whether the change can take addresses away at all (saves listing Services when not). */
export function poolMayShrink(before: PoolObject, after: PoolObject | undefined): boolean {
  if (!after) return true;
  if (!sameList(before.spec?.addresses, after.spec?.addresses)) return true;
  return (after.spec?.avoidBuggyIPs ?? false) && !(before.spec?.avoidBuggyIPs ?? false);
}

/**
 * The addresses ours Services (type LoadBalancer, of the class this controller serves)
 * hold from `before` that `after` (undefined: the pool is deleted) would no longer
 * cover, sorted by Service then address.
 */
export function addressesTakenAway(
  before: PoolObject,
  after: PoolObject | undefined,
  services: readonly HolderService[],
  loadBalancerClass?: string,
): LostAddress[] {
  const held = cidrsOf(before);
  const kept = after ? cidrsOf(after) : [];
  const buggyBefore = before.spec?.avoidBuggyIPs ?? false;
  const buggyAfter = after?.spec?.avoidBuggyIPs ?? false;
  const out: LostAddress[] = [];
  for (const svc of services) {
    if (svc.spec?.type !== "LoadBalancer" || (svc.spec.loadBalancerClass ?? undefined) !== loadBalancerClass) continue;
    const service = `${svc.metadata?.namespace ?? ""}/${svc.metadata?.name ?? ""}`;
    for (const ingress of svc.status?.loadBalancer?.ingress ?? []) {
      const ip = parseIP(ingress.ip ?? "");
      if (!ip || !held.some((c) => cidrContains(c, ip)) || (buggyBefore && isBuggyIP(ip))) continue;
      const inList = kept.some((c) => cidrContains(c, ip));
      if (inList && !(buggyAfter && isBuggyIP(ip))) continue;
      out.push({ service, ip: formatIP(ip), field: inList ? "spec.avoidBuggyIPs" : "spec.addresses" });
    }
  }
  return out.sort((a, b) => (a.service !== b.service ? (a.service < b.service ? -1 : 1) : a.ip < b.ip ? -1 : 1));
}

/** Pools at least one Service holds an address from, by the allocator's annotation. */
export function poolsInUse(services: readonly HolderService[]): string[] {
  const pools = new Set<string>();
  for (const svc of services) {
    const pool = svc.metadata?.annotations?.[ALLOCATED_FROM_POOL_ANNOTATION];
    if (pool && svc.status?.loadBalancer?.ingress?.length) pools.add(pool);
  }
  return [...pools].sort();
}
