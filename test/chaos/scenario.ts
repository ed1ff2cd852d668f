/**
 * The fixed world the chaos rounds play in: application namespaces, the pools the
 * planner resizes, deletes and recreates, the overlapping pool, and the BGP objects
 * whose references it breaks. All addresses are documentation prefixes.
 */
import { parseAddr, rangeText, type Addr, type Family } from "./ip";

export const CONFIG_NAMESPACE = "metallb-system";
/** Every Service the suite creates carries this label; the observers select on it. */
export const SERVICE_LABEL = "metallb-pepr-chaos";
/** A class no controller of ours serves: such Services must never get an address from us. */
export const FOREIGN_CLASS = "example.com/not-metallb";

export type Team = "blue" | "green";

/** Application namespaces and their labels (fixed for the whole run). */
export const NAMESPACES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  "chaos-blue": { team: "blue" },
  "chaos-green": { team: "green" },
  "chaos-plain": {},
};
export const NAMESPACE_NAMES = Object.keys(NAMESPACES);

export interface PoolLayout {
  name: string;
  /** First address of each family; the pool holds `size` addresses of each. */
  v4: Addr;
  v6: Addr;
  minSize: number;
  maxSize: number;
  initialSize: number;
  autoAssign: boolean;
  /** serviceAllocation with a namespaceSelector on `team` (and priority 10) when true. */
  selectsTeam: boolean;
}

const addr = (text: string): Addr => parseAddr(text)!;

export const POOLS: readonly PoolLayout[] = [
  // The default pool. Its first four IPv4 addresses always exist: the overlapping pool hits them.
  {
    name: "pool-a",
    v4: addr("198.51.100.0"),
    v6: addr("2001:db8:a::"),
    minSize: 4,
    maxSize: 14,
    initialSize: 8,
    autoAssign: true,
    selectsTeam: false,
  },
  // Only for Services that name it.
  {
    name: "pool-b",
    v4: addr("203.0.113.0"),
    v6: addr("2001:db8:b::"),
    minSize: 2,
    maxSize: 8,
    initialSize: 4,
    autoAssign: false,
    selectsTeam: false,
  },
  // Preferred (priority 10) for the namespaces whose team label matches its selector.
  {
    name: "pool-ns",
    v4: addr("192.0.2.0"),
    v6: addr("2001:db8:c::"),
    minSize: 2,
    maxSize: 8,
    initialSize: 4,
    autoAssign: true,
    selectsTeam: true,
  },
];
export const INITIAL_TEAM: Team = "blue";

export const poolLayout = (name: string): PoolLayout => {
  const p = POOLS.find((l) => l.name === name);
  if (!p) throw new Error(`no pool layout ${name}`);
  return p;
};

/**
 * A second pool overlapping pool-a's first IPv4 addresses: admission would refuse it.
 * Created only while pool-a exists (so it is always the newcomer, the object to blame),
 * and pool-a is not deleted while it exists.
 */
export const OVERLAP_POOL = {
  name: "pool-0-overlap", // sorts before pool-a: if it were wrongly taken as valid, it would be tried first
  addresses: ["198.51.100.2-198.51.100.3", "2001:db8:d::-2001:db8:d::3"],
  autoAssign: true,
};

/** The address blocks of a pool of this layout and size, as spec.addresses entries. */
export const poolAddresses = (layout: PoolLayout, size: number): string[] => [
  rangeText(layout.v4, size),
  rangeText(layout.v6, size),
];

export const firstOf = (layout: PoolLayout, family: Family): Addr => (family === 4 ? layout.v4 : layout.v6);

/** BGP objects: a valid base, and the three ways the planner breaks a reference. */
export const COMMUNITY = { name: "chaos-communities", alias: "chaos-alias", value: "64500:100" };
export const ADV_USING_ALIAS = "adv-uses-alias";
export const ADV_UNKNOWN_ALIAS = "adv-unknown-alias";
export const PEER_BASE = "peer-base";
export const PEER_MISSING_BFD = "peer-missing-bfd";
export type Dangling = "adv-unknown-alias" | "peer-missing-bfd" | "community-deleted";
export const DANGLING: readonly Dangling[] = ["adv-unknown-alias", "peer-missing-bfd", "community-deleted"];
