/**
 * One configured pool plus its live bookkeeping: a used-address index per CIDR and
 * counters per family, so lookups never enumerate the pool and statistics are O(1).
 */
import { cidrContains, cidrLast, type CIDR, type Family, type IP } from "../net/ip";
import { isBuggyIP, isBuggyIPv4Value, poolCapacity } from "./capacity";
import type { Pool, PoolStats } from "./types";
import { UsedRuns } from "./used-runs";

export interface CidrIndex {
  readonly cidr: CIDR;
  readonly first: bigint;
  readonly last: bigint;
  readonly used: UsedRuns;
}

export class PoolState {
  private readonly byFamily: Record<Family, CidrIndex[]> = { 4: [], 6: [] };
  private readonly capacity: { v4: bigint; v6: bigint };
  private readonly assigned: Record<Family, number> = { 4: 0, 6: 0 };

  constructor(readonly pool: Pool) {
    for (const cidr of pool.cidrs) {
      const skipBuggy = pool.avoidBuggyIPs && cidr.family === 4;
      this.byFamily[cidr.family].push({
        cidr,
        first: cidr.base,
        last: cidrLast(cidr).value,
        used: new UsedRuns(skipBuggy ? isBuggyIPv4Value : undefined),
      });
    }
    this.capacity = poolCapacity(pool.cidrs, pool.avoidBuggyIPs);
  }

  get name(): string {
    return this.pool.name;
  }

  /** The pool's CIDRs of one family, in the order the user listed them. */
  cidrsOf(family: Family): readonly CidrIndex[] {
    return this.byFamily[family];
  }

  hasFamily(family: Family): boolean {
    return this.byFamily[family].length > 0;
  }

  /** Whether the pool may hand out this address (in a CIDR and not excluded as buggy). */
  mayHold(ip: IP): boolean {
    if (this.pool.avoidBuggyIPs && isBuggyIP(ip)) return false;
    return this.byFamily[ip.family].some((c) => cidrContains(c.cidr, ip));
  }

  /** Records an address as taken by anyone, in every CIDR of this pool that covers it. */
  markUsed(ip: IP): void {
    for (const c of this.byFamily[ip.family]) if (cidrContains(c.cidr, ip)) c.used.add(ip.value);
  }

  markFree(ip: IP): void {
    for (const c of this.byFamily[ip.family]) if (cidrContains(c.cidr, ip)) c.used.remove(ip.value);
  }

  /** Counts a distinct address assigned from this pool (+1) or no longer (-1). */
  countAssigned(family: Family, delta: 1 | -1): void {
    this.assigned[family] += delta;
  }

  stats(): PoolStats {
    const assignedIPv4 = BigInt(this.assigned[4]);
    const assignedIPv6 = BigInt(this.assigned[6]);
    const left = (capacity: bigint, used: bigint): bigint => (capacity > used ? capacity - used : 0n);
    return {
      assignedIPv4,
      assignedIPv6,
      availableIPv4: left(this.capacity.v4, assignedIPv4),
      availableIPv6: left(this.capacity.v6, assignedIPv6),
    };
  }
}
