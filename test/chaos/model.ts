/**
 * The suite's model of the user's intent: which pools exist (and which of them a
 * correct controller treats as valid), and what each Service asks for. Pure: the
 * invariant checker asks it whether an address is still allowed and whether a
 * Service could be served.
 */
import {
  addressesOf,
  blockContains,
  blocksOverlap,
  canonical,
  formatAddr,
  parseAddr,
  parseBlock,
  type Addr,
  type Block,
  type Family,
} from "./ip";
import { NAMESPACES, OVERLAP_POOL, poolAddresses, poolLayout, type Team } from "./scenario";

export interface PoolModel {
  name: string;
  blocks: Block[];
  autoAssign: boolean;
  /** namespaceSelector team=<team> (with priority 10), if any. */
  team?: Team;
  /** Creation order: of two overlapping pools the later one is the bad object. */
  createdSeq: number;
}

export interface ConfigModel {
  pools: readonly PoolModel[];
  /** The team pools with a namespaceSelector select. */
  team: Team;
}

/**
 * Pools a correct controller hands addresses out of. Two pools overlap only through
 * the overlapping pool, and the newer of the two disables only itself.
 */
export function validPools(config: ConfigModel): PoolModel[] {
  const valid: PoolModel[] = [];
  for (const p of [...config.pools].sort((a, b) => a.createdSeq - b.createdSeq)) {
    const clash = valid.some((v) => v.blocks.some((b) => p.blocks.some((c) => blocksOverlap(b, c))));
    if (!clash) valid.push(p);
  }
  return valid;
}

export function layoutPool(name: string, size: number, team: Team, createdSeq: number): PoolModel {
  const layout = poolLayout(name);
  return {
    name,
    blocks: poolAddresses(layout, size).map((t) => parseBlock(t)!),
    autoAssign: layout.autoAssign,
    team: layout.selectsTeam ? team : undefined,
    createdSeq,
  };
}

export function overlapPool(createdSeq: number): PoolModel {
  return {
    name: OVERLAP_POOL.name,
    blocks: OVERLAP_POOL.addresses.map((t) => parseBlock(t)!),
    autoAssign: true,
    createdSeq,
  };
}

/** What a Service asks for and holds, read from the live object. */
export interface ServiceView {
  key: string;
  namespace: string;
  policy: "SingleStack" | "PreferDualStack" | "RequireDualStack";
  families: Family[];
  /** metallb.io/loadBalancerIPs, parsed; undefined when not set. */
  requested?: Addr[];
  /** metallb.io/address-pool */
  pool?: string;
  shareKey: string;
  /** Sharing also needs equal backends: the selector with externalTrafficPolicy Local, else "". */
  backendKey: string;
  /** "TCP/80" */
  ports: string[];
  foreign: boolean;
  /** status.loadBalancer.ingress, canonical text. */
  ips: string[];
  /** metallb.io/ip-allocated-from-pool */
  allocatedFrom?: string;
}

interface ServiceObject {
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  spec?: {
    ipFamilyPolicy?: string;
    ipFamilies?: string[];
    loadBalancerClass?: string;
    externalTrafficPolicy?: string;
    selector?: Record<string, string>;
    ports?: Array<{ port: number; protocol?: string }>;
  };
  status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } };
}

export function viewOf(svc: ServiceObject): ServiceView {
  const a = svc.metadata.annotations ?? {};
  const requestedText = a["metallb.io/loadBalancerIPs"];
  const selector = svc.spec?.selector ?? {};
  return {
    key: `${svc.metadata.namespace ?? "default"}/${svc.metadata.name}`,
    namespace: svc.metadata.namespace ?? "default",
    policy: (svc.spec?.ipFamilyPolicy ?? "SingleStack") as ServiceView["policy"],
    families: (svc.spec?.ipFamilies ?? ["IPv4"]).map((f) => (f === "IPv6" ? 6 : 4)),
    requested: requestedText
      ? requestedText.split(",").map((t) => parseAddr(t.trim()) ?? { family: 4 as Family, value: -1n })
      : undefined,
    pool: a["metallb.io/address-pool"] || undefined,
    shareKey: a["metallb.io/allow-shared-ip"] ?? "",
    backendKey:
      svc.spec?.externalTrafficPolicy === "Local"
        ? Object.entries(selector)
            .sort()
            .map(([k, v]) => `${k}=${v}`)
            .join(",")
        : "",
    ports: (svc.spec?.ports ?? []).map((p) => `${p.protocol ?? "TCP"}/${p.port}`),
    foreign: svc.spec?.loadBalancerClass !== undefined && svc.spec.loadBalancerClass !== null,
    ips: (svc.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip ? [canonical(i.ip)] : [])),
    allocatedFrom: a["metallb.io/ip-allocated-from-pool"] || undefined,
  };
}

const teamOf = (namespace: string): string | undefined => NAMESPACES[namespace]?.team;

/** Whether a pool's serviceAllocation lets this Service's namespace in. */
export const admitsNamespace = (pool: PoolModel, svc: ServiceView): boolean =>
  pool.team === undefined || teamOf(svc.namespace) === pool.team;

const within = (pool: PoolModel, a: Addr): boolean => pool.blocks.some((b) => blockContains(b, a));

/** The valid pool holding this address, if any (valid pools never overlap). */
export function validPoolOf(config: ConfigModel, ip: string): PoolModel | undefined {
  const a = parseAddr(ip);
  return a ? validPools(config).find((p) => within(p, a)) : undefined;
}

/**
 * Whether the configuration still allows this Service to hold this address: a
 * valid pool holds it, that pool admits the Service (its address-pool annotation,
 * its namespace), and it is what the Service requested (if it requested anything).
 * When this is false in some state a round went through, the address may move.
 */
export function entitled(config: ConfigModel, svc: ServiceView, ip: string): boolean {
  const a = parseAddr(ip);
  if (!a || !svc.families.includes(a.family)) return false;
  const pool = validPoolOf(config, ip);
  if (!pool) return false;
  if (svc.pool !== undefined && svc.pool !== pool.name) return false;
  if (!admitsNamespace(pool, svc)) return false;
  if (svc.requested && !svc.requested.some((r) => r.family === a.family && r.value === a.value)) return false;
  return true;
}

/** Whether `svc` may join the current holders of an address (allow-shared-ip rules). */
export function canShareWith(svc: ServiceView, holders: readonly ServiceView[]): boolean {
  const others = holders.filter((h) => h.key !== svc.key);
  if (others.length === 0) return true;
  if (svc.shareKey === "") return false;
  return others.every(
    (h) =>
      h.shareKey === svc.shareKey && h.backendKey === svc.backendKey && !h.ports.some((p) => svc.ports.includes(p)),
  );
}

/** Holders of each address, by canonical text. */
export function holdersByIP(services: readonly ServiceView[]): Map<string, ServiceView[]> {
  const out = new Map<string, ServiceView[]>();
  for (const s of services) for (const ip of s.ips) out.set(ip, [...(out.get(ip) ?? []), s]);
  return out;
}

/** Pools this Service may be given addresses from (requested ones aside: see servable). */
function candidatePools(config: ConfigModel, svc: ServiceView, requested: boolean): PoolModel[] {
  return validPools(config).filter((p) => {
    if (svc.pool !== undefined) return p.name === svc.pool && admitsNamespace(p, svc);
    if (!requested && !p.autoAssign) return false;
    return admitsNamespace(p, svc);
  });
}

/**
 * Whether a Service without an address could get one right now: the free (or, for a
 * sharing key, shareable) addresses of the pools open to it cover what it needs.
 * Conservative: it only says yes when an assignment certainly exists, and then names
 * one ("pool-a: 198.51.100.9") as the witness.
 */
export function servableBy(config: ConfigModel, svc: ServiceView, all: readonly ServiceView[]): string | undefined {
  if (svc.foreign || svc.ips.length > 0) return undefined;
  const holders = holdersByIP(all);
  const usable = (a: Addr): boolean => canShareWith(svc, holders.get(formatAddr(a)) ?? []);
  const shown = (a: Addr): string => {
    const h = holders.get(formatAddr(a)) ?? [];
    return h.length ? `${formatAddr(a)} (shared with ${h.map((x) => x.key).join(",")})` : formatAddr(a);
  };
  if (svc.requested) {
    const req = svc.requested;
    if (req.some((r) => r.value < 0n)) return undefined;
    const families = req.map((r) => r.family);
    if (new Set(families).size !== families.length) return undefined;
    if (svc.policy === "SingleStack" && req.length > 1) return undefined;
    if (!families.every((f) => svc.families.includes(f))) return undefined;
    if (svc.policy === "RequireDualStack" && req.length !== 2) return undefined;
    const pool = candidatePools(config, svc, true).find((p) => req.every((r) => within(p, r) && usable(r)));
    return pool && `${pool.name}: ${req.map(shown).join(" ")}`;
  }
  const free = (p: PoolModel, f: Family): Addr | undefined => {
    for (const b of p.blocks) if (b.family === f) for (const a of addressesOf(b)) if (usable(a)) return a;
    return undefined;
  };
  const wanted: Family[][] =
    svc.policy === "RequireDualStack"
      ? [[4, 6]]
      : svc.policy === "PreferDualStack"
        ? svc.families.map((f) => [f])
        : [[svc.families[0]]];
  for (const p of candidatePools(config, svc, false))
    for (const families of wanted) {
      const found = families.map((f) => free(p, f));
      if (found.every((a) => a !== undefined)) return `${p.name}: ${found.map((a) => shown(a!)).join(" ")}`;
    }
  return undefined;
}

export const servable = (config: ConfigModel, svc: ServiceView, all: readonly ServiceView[]): boolean =>
  servableBy(config, svc, all) !== undefined;

/** The configuration the suite starts every run with: every pool at its initial size. */
export function initialConfig(layouts: ReadonlyArray<{ name: string; initialSize: number }>, team: Team): ConfigModel {
  return { team, pools: layouts.map((l, i) => layoutPool(l.name, l.initialSize, team, i + 1)) };
}

/** A configuration edit as the model sees it; `seq` orders creations. Other actions change nothing here. */
export type ConfigEdit =
  | { kind: "resize-pool"; pool: string; size: number }
  | { kind: "delete-pool"; pool: string }
  | { kind: "create-pool"; pool: string; size: number }
  | { kind: "select-team"; team: Team }
  | { kind: "overlap"; present: boolean };

export function applyEdit(config: ConfigModel, edit: ConfigEdit, seq: number): ConfigModel {
  const others = (name: string): PoolModel[] => config.pools.filter((p) => p.name !== name);
  switch (edit.kind) {
    case "resize-pool": {
      const old = config.pools.find((p) => p.name === edit.pool);
      if (!old) return config;
      return {
        ...config,
        pools: [...others(edit.pool), layoutPool(edit.pool, edit.size, config.team, old.createdSeq)],
      };
    }
    case "delete-pool":
      return { ...config, pools: others(edit.pool) };
    case "create-pool":
      return { ...config, pools: [...others(edit.pool), layoutPool(edit.pool, edit.size, config.team, seq)] };
    case "select-team":
      return {
        team: edit.team,
        pools: config.pools.map((p) => (p.team === undefined ? p : { ...p, team: edit.team })),
      };
    case "overlap":
      return {
        ...config,
        pools: edit.present ? [...others(OVERLAP_POOL.name), overlapPool(seq)] : others(OVERLAP_POOL.name),
      };
  }
}
