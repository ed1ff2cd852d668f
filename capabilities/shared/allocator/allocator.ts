/**
 * The allocation engine: pools in, Service requests in, IP assignments out, with
 * MetalLB's rules (requested IPs, pool annotation, serviceAllocation priority, default
 * pools, lowest free address, sharing, dual stack). Purely in memory: the authoritative
 * state is Service status, replayed into assign() on start, already-assigned first.
 *
 * Cost: memory grows with assigned addresses only; finding the lowest free address is a
 * binary search over the used runs of each CIDR (see UsedRuns), plus a scan of the
 * addresses already carrying the request's sharing key.
 */
import { cidrContains, type Family, type IP } from "../net/ip";
import { isBuggyIP } from "./capacity";
import { errors, familyName, ok } from "./errors";
import { candidatePools, poolAdmits } from "./pool-order";
import { PoolState, type CidrIndex } from "./pool-state";
import { checkClusterFamilies, checkFamiliesFit, orderByFamily } from "./requested";
import { checkSharing, type IPUsage } from "./sharing";
import type { AllocationResult, Assignment, Pool, PoolChange, PoolStats, ServiceRequest } from "./types";

const ipKey = (ip: IP): string => `${ip.family}:${ip.value.toString(16)}`;

const otherFamily = (family: Family): Family => (family === 4 ? 6 : 4);

const primaryFamily = (request: ServiceRequest): Family => request.ipFamilies[0] ?? 4;

export class Allocator {
  /** Sorted by name, so every "first pool that ..." choice is deterministic. */
  private pools: PoolState[] = [];
  private poolsByName = new Map<string, PoolState>();
  private readonly assignments = new Map<string, Assignment>();
  private readonly usage = new Map<string, IPUsage>();
  /** The primary cluster-IP family each Service asked with, to order its addresses later. */
  private readonly primaryFamilies = new Map<string, Family>();
  /** Addresses held under each non-empty sharing key: the only places a sharer may join. */
  private readonly keysBySharingKey = new Map<string, Set<string>>();

  /**
   * Replaces the configuration; always accepted. Assignments whose addresses no pool
   * covers any more are dropped; those now covered by a differently named pool are
   * kept and counted there. Callers then reprocess every Service.
   */
  setPools(pools: readonly Pool[]): PoolChange {
    const next = new Map<string, PoolState>();
    for (const pool of pools) next.set(pool.name, new PoolState(pool));
    const nextSorted = [...next.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

    const released: string[] = [];
    const moved: Array<{ serviceKey: string; from: string; to: string }> = [];
    for (const a of this.assignments.values()) {
      const target = poolCovering(nextSorted, next, a.ips, a.pool);
      if (!target) released.push(a.serviceKey);
      else if (target.name !== a.pool) moved.push({ serviceKey: a.serviceKey, from: a.pool, to: target.name });
    }
    for (const key of released) this.release(key);

    this.pools = nextSorted;
    this.poolsByName = next;
    for (const m of moved) this.relabelPool(m.serviceKey, m.to);
    this.reindexPools();
    return { released, moved };
  }

  /**
   * Gives the Service exactly these addresses: for re-claiming its status after a restart
   * or honouring requested IPs. Idempotent for the same Service and addresses. The
   * addresses must lie in one pool that admits the Service (autoAssign does not matter),
   * in the annotated pool if there is one, and be shareable with their current holders.
   * On failure the Service keeps whatever it held.
   *
   * `reclaim`: the Service already holds these addresses (they are in its status), so a
   * disabled pool still lets it keep them; a new request for them is refused there.
   * `fromPool`: the pool the addresses were published from (the Service's
   * ip-allocated-from-pool annotation), preferred where pools overlap, so a restart
   * keeps the Service counted where it was.
   */
  assign(
    request: ServiceRequest,
    ips: readonly IP[],
    { reclaim = false, fromPool }: { reclaim?: boolean; fromPool?: string } = {},
  ): AllocationResult {
    const cluster = checkClusterFamilies(request);
    if (!cluster.ok) return cluster;
    const fit = checkFamiliesFit(ips, request);
    if (!fit.ok) return fit;
    const pool = poolCovering(
      this.pools,
      this.poolsByName,
      ips,
      request.pool ?? this.assignments.get(request.serviceKey)?.pool ?? fromPool,
    );
    if (!pool) return errors.notInConfig(ips);
    if (request.pool !== undefined && pool.name !== request.pool) {
      return this.poolsByName.has(request.pool)
        ? errors.poolMismatch(ips, request.pool)
        : errors.unknownPool(request.pool);
    }
    if (!poolAdmits(pool.pool, request)) return errors.poolIncompatible(pool.name);
    if (pool.pool.disabled !== undefined && !reclaim && !this.holds(request.serviceKey, ips))
      return errors.poolDisabled(pool.name, pool.pool.disabled);
    for (const ip of ips) {
      const shareable = checkSharing(this.usage.get(ipKey(ip)), request);
      if (!shareable.ok) return shareable;
    }
    return ok(this.commit(request, pool.name, ips));
  }

  /**
   * Makes sure the Service holds suitable addresses, choosing them if needed:
   * requested IPs are assigned as such; a current assignment that still fits is kept
   * (PreferDualStack gains its missing family from the same pool when it can);
   * otherwise the current assignment is dropped and new addresses are chosen from the
   * annotated pool, or the pinned pools by priority, then the default pools.
   */
  allocate(request: ServiceRequest): AllocationResult {
    const cluster = checkClusterFamilies(request);
    if (!cluster.ok) return cluster;
    if (request.requestedIPs && request.requestedIPs.length > 0) return this.assign(request, request.requestedIPs);
    const current = this.assignments.get(request.serviceKey);
    if (current) {
      const kept = this.assign(request, current.ips, { reclaim: true });
      if (kept.ok) return ok(this.completeDualStack(request, kept.value));
      this.release(request.serviceKey);
    }
    return this.allocateFresh(request);
  }

  /**
   * For a Service holding one address (PreferDualStack): adds the lowest available
   * address of the other family from the same pool, under the same sharing terms.
   * The Service never moves to another pool for this; on failure it keeps what it has.
   */
  addMissingFamily(serviceKey: string): AllocationResult {
    const current = this.assignments.get(serviceKey);
    if (!current) return errors.invalid(`service "${serviceKey}" holds no address`);
    if (current.ips.length !== 1) return errors.invalid(`service "${serviceKey}" already holds both families`);
    const missing = otherFamily(current.ips[0].family);
    const pool = this.poolsByName.get(current.pool);
    if (!pool) return errors.unknownPool(current.pool);
    if (pool.pool.disabled !== undefined) return errors.poolDisabled(pool.name, pool.pool.disabled);
    const request: ServiceRequest = {
      serviceKey,
      namespace: "",
      ipFamilyPolicy: "PreferDualStack",
      ipFamilies: [this.primaryFamilies.get(serviceKey) ?? current.ips[0].family],
      ports: current.ports,
      sharingKey: current.sharingKey,
      backendKey: current.backendKey,
    };
    const extra = this.lowestAvailable(pool, missing, request);
    if (!extra) return errors.noAvailableIPsInPool(pool.name, missing);
    return ok(this.commit(request, pool.name, [current.ips[0], extra]));
  }

  /** Frees the Service's addresses; returns what it held, if anything. */
  release(serviceKey: string): Assignment | undefined {
    const a = this.assignments.get(serviceKey);
    if (!a) return undefined;
    this.unregister(a);
    this.assignments.delete(serviceKey);
    this.primaryFamilies.delete(serviceKey);
    return a;
  }

  /** Whether the Service holds exactly these addresses already. */
  private holds(serviceKey: string, ips: readonly IP[]): boolean {
    const held = this.assignments.get(serviceKey)?.ips ?? [];
    return held.length === ips.length && ips.every((ip) => held.some((h) => ipKey(h) === ipKey(ip)));
  }

  /** Whether any Service holds this address. */
  inUse(ip: IP): boolean {
    return this.usage.has(ipKey(ip));
  }

  assignmentOf(serviceKey: string): Assignment | undefined {
    return this.assignments.get(serviceKey);
  }

  allAssignments(): IterableIterator<Assignment> {
    return this.assignments.values();
  }

  /** Counters for IPAddressPool status (bigints: IPv6 capacity saturates at MaxInt64). */
  poolStats(name: string): PoolStats | undefined {
    return this.poolsByName.get(name)?.stats();
  }

  // ---- choosing addresses ----

  private allocateFresh(request: ServiceRequest): AllocationResult {
    let pools: PoolState[];
    if (request.pool !== undefined) {
      const named = this.poolsByName.get(request.pool);
      if (!named) return errors.unknownPool(request.pool);
      if (!poolAdmits(named.pool, request)) return errors.poolIncompatible(named.name);
      if (named.pool.disabled !== undefined) return errors.poolDisabled(named.name, named.pool.disabled);
      pools = [named];
    } else {
      pools = candidatePools(
        this.pools.map((p) => p.pool),
        request,
      ).map((p) => this.poolsByName.get(p.name)!);
    }

    const attempts = familyAttempts(request);
    for (const families of attempts) {
      for (const pool of pools) {
        const ips = this.takeFromPool(pool, families, request);
        if (ips) return ok(this.commit(request, pool.name, ips));
      }
    }
    return this.explainFailure(request, pools, attempts);
  }

  private explainFailure(request: ServiceRequest, pools: readonly PoolState[], attempts: Family[][]): AllocationResult {
    if (request.pool !== undefined) {
      const pool = pools[0];
      const missing = attempts[0].find((f) => this.lowestAvailable(pool, f, request) === undefined) ?? attempts[0][0];
      return errors.noAvailableIPsInPool(pool.name, missing);
    }
    const anyPoolFits = attempts.some((families) => pools.some((p) => families.every((f) => p.hasFamily(f))));
    if (pools.length > 0 && !anyPoolFits) {
      const wanted = request.ipFamilyPolicy === "RequireDualStack" ? "DualStack" : familyName(primaryFamily(request));
      return errors.noSuitablePool(wanted);
    }
    return errors.noAvailableIPs();
  }

  /** One address per family, all from this pool, or nothing. */
  private takeFromPool(pool: PoolState, families: readonly Family[], request: ServiceRequest): IP[] | undefined {
    const ips: IP[] = [];
    for (const family of families) {
      const ip = this.lowestAvailable(pool, family, request);
      if (!ip) return undefined;
      ips.push(ip);
    }
    return ips;
  }

  /**
   * MetalLB's scan: CIDRs in listed order, and in each the lowest address that is either
   * free or already held by services this one may share with.
   */
  private lowestAvailable(pool: PoolState, family: Family, request: ServiceRequest): IP | undefined {
    for (const c of pool.cidrsOf(family)) {
      const free = c.used.lowestFree(c.first, c.last);
      const shared = this.lowestShareable(c, pool.pool.avoidBuggyIPs, request);
      const best = free === undefined ? shared : shared === undefined || free < shared ? free : shared;
      if (best !== undefined) return { family, value: best };
    }
    return undefined;
  }

  private lowestShareable(c: CidrIndex, avoidBuggyIPs: boolean, request: ServiceRequest): bigint | undefined {
    if (!request.sharingKey) return undefined;
    let best: bigint | undefined;
    for (const key of this.keysBySharingKey.get(request.sharingKey) ?? []) {
      const u = this.usage.get(key)!;
      if (!cidrContains(c.cidr, u.ip) || (avoidBuggyIPs && isBuggyIP(u.ip))) continue;
      if (best !== undefined && best <= u.ip.value) continue;
      if (checkSharing(u, request).ok) best = u.ip.value;
    }
    return best;
  }

  /** PreferDualStack holding one family: add the other from the same pool if it has one free. */
  private completeDualStack(request: ServiceRequest, current: Assignment): Assignment {
    if (request.ipFamilyPolicy !== "PreferDualStack" || current.ips.length !== 1) return current;
    const grown = this.addMissingFamily(request.serviceKey);
    return grown.ok ? grown.value : current;
  }

  // ---- bookkeeping ----

  /** Replaces the Service's assignment (checks already done). */
  private commit(request: ServiceRequest, pool: string, ips: readonly IP[]): Assignment {
    this.release(request.serviceKey);
    const a: Assignment = {
      serviceKey: request.serviceKey,
      pool,
      ips: orderByFamily(ips, primaryFamily(request)),
      ports: [...(request.ports ?? [])],
      sharingKey: request.sharingKey ?? "",
      backendKey: request.backendKey ?? "",
    };
    this.register(a);
    this.assignments.set(a.serviceKey, a);
    this.primaryFamilies.set(a.serviceKey, primaryFamily(request));
    return a;
  }

  private register(a: Assignment): void {
    for (const ip of a.ips) {
      const key = ipKey(ip);
      let u = this.usage.get(key);
      if (!u) {
        u = { ip, sharingKey: a.sharingKey, backendKey: a.backendKey, holders: [] };
        this.usage.set(key, u);
        for (const pool of this.pools) pool.markUsed(ip);
        if (a.sharingKey) this.sharingSet(a.sharingKey).add(key);
      }
      if (!u.holders.some((h) => h.pool === a.pool)) this.poolsByName.get(a.pool)?.countAssigned(ip.family, 1);
      u.holders.push({ serviceKey: a.serviceKey, pool: a.pool, ports: a.ports });
    }
  }

  private unregister(a: Assignment): void {
    for (const ip of a.ips) {
      const key = ipKey(ip);
      const u = this.usage.get(key);
      if (!u) continue;
      const i = u.holders.findIndex((h) => h.serviceKey === a.serviceKey);
      if (i >= 0) u.holders.splice(i, 1);
      if (!u.holders.some((h) => h.pool === a.pool)) this.poolsByName.get(a.pool)?.countAssigned(ip.family, -1);
      if (u.holders.length > 0) continue;
      this.usage.delete(key);
      for (const pool of this.pools) pool.markFree(ip);
      if (u.sharingKey) {
        const set = this.keysBySharingKey.get(u.sharingKey);
        set?.delete(key);
        if (set?.size === 0) this.keysBySharingKey.delete(u.sharingKey);
      }
    }
  }

  private sharingSet(sharingKey: string): Set<string> {
    let set = this.keysBySharingKey.get(sharingKey);
    if (!set) this.keysBySharingKey.set(sharingKey, (set = new Set()));
    return set;
  }

  private relabelPool(serviceKey: string, pool: string): void {
    const a = this.assignments.get(serviceKey)!;
    this.assignments.set(serviceKey, { ...a, pool });
    for (const ip of a.ips) {
      const u = this.usage.get(ipKey(ip))!;
      u.holders.forEach((h, i) => {
        if (h.serviceKey === serviceKey) u.holders[i] = { ...h, pool };
      });
    }
  }

  /** After a configuration change: rebuild the per-pool indexes from the held addresses. */
  private reindexPools(): void {
    for (const u of this.usage.values()) {
      for (const pool of this.pools) pool.markUsed(u.ip);
      for (const name of new Set(u.holders.map((h) => h.pool)))
        this.poolsByName.get(name)?.countAssigned(u.ip.family, 1);
    }
  }
}

/**
 * The pool all addresses belong to (allowed there, avoidBuggyIPs included): the
 * preferred one if it qualifies, else the first enabled one by name, else the first
 * disabled one. Pools never overlap once the config parser has accepted them; where an
 * invalid pool overlaps a valid one, the address stays counted in the valid one.
 */
function poolCovering(
  sorted: readonly PoolState[],
  byName: ReadonlyMap<string, PoolState>,
  ips: readonly IP[],
  preferred: string | undefined,
): PoolState | undefined {
  const covers = (p: PoolState): boolean => ips.every((ip) => p.mayHold(ip));
  const first = preferred === undefined ? undefined : byName.get(preferred);
  if (first && covers(first)) return first;
  return sorted.find((p) => p.pool.disabled === undefined && covers(p)) ?? sorted.find(covers);
}

/** Family combinations to try, in order of preference, for the Service's policy. */
function familyAttempts(request: ServiceRequest): Family[][] {
  const primary = primaryFamily(request);
  const other = otherFamily(primary);
  switch (request.ipFamilyPolicy ?? "SingleStack") {
    case "SingleStack":
      return [[primary]];
    case "RequireDualStack":
      return [[primary, other]];
    case "PreferDualStack":
      return [[primary, other], [primary], [other]];
  }
}
