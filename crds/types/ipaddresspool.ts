import type { LabelSelector, MetallbObject, ValidityStatus } from "./common";

/** Restricts a pool to some namespaces/Services and orders it among pools. */
export interface ServiceAllocation {
  /** Lower is tried first; 0 or unset means after every pool with a priority. */
  priority?: number;
  namespaces?: string[];
  namespaceSelectors?: LabelSelector[];
  /** ORed. */
  serviceSelectors?: LabelSelector[];
}

export interface IPAddressPoolSpec {
  /** CIDRs ("192.0.2.0/26") or inclusive ranges ("192.0.2.10-192.0.2.20"), IPv4 and IPv6 mixed. */
  addresses: string[];
  /** Defaults to true (set by the API server). */
  autoAssign?: boolean;
  /** Defaults to false. Skips IPv4 .0 and .255. */
  avoidBuggyIPs?: boolean;
  serviceAllocation?: ServiceAllocation;
}

/**
 * Counts written by the allocator (absent while a pool is new), and the pool's `Valid`
 * condition. IPv6 counts of huge blocks exceed 2^53, so treat them as approximate in JS.
 */
export interface IPAddressPoolStatus extends ValidityStatus {
  assignedIPv4?: number;
  assignedIPv6?: number;
  availableIPv4?: number;
  availableIPv6?: number;
}

export type IPAddressPool = MetallbObject<IPAddressPoolSpec, IPAddressPoolStatus>;
