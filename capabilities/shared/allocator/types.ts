/**
 * The allocation engine's vocabulary: pools as the config parser produces them, what a
 * Service asks for, and what it gets. Plain data, no Kubernetes types, so the engine can
 * be fed from a reconciler, a test or a benchmark alike.
 */
import type { LabelSelector, Labels } from "../labels";
import type { CIDR, Family, IP } from "../net/ip";

export interface ServiceAllocation {
  /** Lower is tried first; 0 or unset means "after every pool that has a priority". */
  readonly priority?: number;
  readonly namespaces?: ReadonlySet<string> | readonly string[];
  readonly namespaceSelectors?: readonly LabelSelector[];
  readonly serviceSelectors?: readonly LabelSelector[];
}

export interface Pool {
  readonly name: string;
  /** In the order the user listed them, ranges already summarized into CIDRs. */
  readonly cidrs: readonly CIDR[];
  readonly autoAssign: boolean;
  readonly avoidBuggyIPs: boolean;
  readonly serviceAllocation?: ServiceAllocation;
  /**
   * Why the pool is disabled (its configuration is invalid), if it is: it hands out no
   * new address, but Services re-claim what they hold in it.
   */
  readonly disabled?: string;
}

export type IPFamilyPolicy = "SingleStack" | "PreferDualStack" | "RequireDualStack";

export interface ServicePort {
  readonly protocol: string;
  readonly port: number;
}

/** Everything the engine needs to know about one LoadBalancer Service. */
export interface ServiceRequest {
  /** "namespace/name": the identity assignments are kept under. */
  readonly serviceKey: string;
  readonly namespace: string;
  readonly labels?: Labels;
  /** Labels of the Service's namespace, for serviceAllocation.namespaceSelectors. */
  readonly namespaceLabels?: Labels;
  /** Default SingleStack, as Kubernetes defaults a nil policy. */
  readonly ipFamilyPolicy?: IPFamilyPolicy;
  /** Families of spec.clusterIPs (spec.ipFamilies), primary first. */
  readonly ipFamilies: readonly Family[];
  /** From metallb.io/loadBalancerIPs or spec.loadBalancerIP (see parseRequestedIPs). */
  readonly requestedIPs?: readonly IP[];
  /** From metallb.io/address-pool. */
  readonly pool?: string;
  readonly ports?: readonly ServicePort[];
  /** From metallb.io/allow-shared-ip; empty means the Service never shares. */
  readonly sharingKey?: string;
  /** See backendKeyFor: services sharing an IP must have equal backend keys. */
  readonly backendKey?: string;
}

export interface Assignment {
  readonly serviceKey: string;
  readonly pool: string;
  /** One or two addresses, at most one per family, the service's primary family first. */
  readonly ips: readonly IP[];
  readonly ports: readonly ServicePort[];
  readonly sharingKey: string;
  readonly backendKey: string;
}

export type AllocationErrorCode =
  | "invalidRequest"
  | "notInConfig"
  | "unknownPool"
  | "poolMismatch"
  | "poolIncompatible"
  | "poolDisabled"
  | "noSuitablePool"
  | "noAvailableIPs"
  | "sharingConflict"
  | "portInUse";

export interface AllocationError {
  readonly code: AllocationErrorCode;
  /** MetalLB-style: lower case, values in double quotes, no trailing period. */
  readonly message: string;
}

export type Result<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: AllocationError };

export type AllocationResult = Result<Assignment>;

export interface PoolStats {
  readonly assignedIPv4: bigint;
  readonly assignedIPv6: bigint;
  readonly availableIPv4: bigint;
  readonly availableIPv6: bigint;
}

/** What a configuration change did to existing assignments. */
export interface PoolChange {
  /** Services whose IPs no pool covers any more: their assignment was dropped. */
  readonly released: readonly string[];
  /** Services whose IPs now belong to a differently named pool: kept, re-accounted. */
  readonly moved: ReadonlyArray<{ readonly serviceKey: string; readonly from: string; readonly to: string }>;
}
