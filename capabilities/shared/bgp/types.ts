/**
 * Inputs and outputs of the BGP advertisement plan. Plain data shaped after the
 * Kubernetes fields they come from, so the controller (Pepr watches) and the node
 * agent (its own watches) feed the same pure planner.
 */
import type { CIDR } from "../net/ip";

/** A Node as the planner sees it. */
export interface PlanNode {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** status.conditions; only NetworkUnavailable is read. */
  readonly conditions?: readonly { readonly type: string; readonly status: string }[];
}

/** A LoadBalancer Service that has (or had) addresses in status.loadBalancer.ingress. */
export interface PlanService {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** status.loadBalancer.ingress[].ip, as text. */
  readonly ips: readonly string[];
  /** spec.externalTrafficPolicy; anything but "Local" means Cluster. */
  readonly externalTrafficPolicy?: string;
  /** The metallb.io/bgp-communities annotation as written (see config/service-communities.ts). */
  readonly communities?: string;
}

/**
 * Where a Service can currently be served from: the node names of its serving
 * endpoints (EndpointSlice conditions ready nil/true or serving true), and whether
 * any serving endpoint exists at all (one without a nodeName still counts for Cluster).
 */
export interface ServiceEndpoints {
  readonly anyServing: boolean;
  readonly servingNodes: ReadonlySet<string>;
  /** Serving endpoints on each node (weighted ECMP); absent counts as one per serving node. */
  readonly servingPerNode?: ReadonlyMap<string, number>;
}

export interface PlanSettings {
  /** Honour node.kubernetes.io/exclude-from-external-load-balancers unless set. */
  readonly ignoreExcludeLBLabel: boolean;
}

/** RFC 8092 large community; field names match the agent's codec. */
export interface LargeCommunityValue {
  readonly globalAdmin: number;
  readonly localData1: number;
  readonly localData2: number;
}

/** One route to send to one peer. The next hop is the agent's: the session's local address. */
export interface Route {
  /** The service IP masked to the advertisement's aggregation length. */
  readonly prefix: CIDR;
  /** prefix as "a.b.c.d/len" (the map key operators and tests read). */
  readonly prefixText: string;
  /** LOCAL_PREF; absent when no advertisement sets one (0). Only meaningful on iBGP. */
  readonly localPref?: number;
  /** RFC 1997 communities as 32-bit values (asn << 16 | value), sorted ascending, unique. */
  readonly communities: readonly number[];
  /** Sorted by (global, local1, local2), unique. */
  readonly largeCommunities: readonly LargeCommunityValue[];
  /**
   * Bytes per second this node offers for the prefix (RFC 10005 link bandwidth): set only when
   * every contribution is a Local Service of an advertisement opted in to weighted ECMP.
   */
  readonly linkBandwidth?: number;
  /** "namespace/name" of every Service that contributes this prefix, sorted. */
  readonly services: readonly string[];
  /** BGPAdvertisement names that produced it, sorted. */
  readonly advertisements: readonly string[];
}

/** Why a Service is not advertised from this node (MetalLB's reason names where they exist). */
export type WithdrawReason =
  | "noIPAllocated"
  | "ipNotAllowed"
  | "nodeNetworkUnavailable"
  | "nodeExcluded"
  | "noEndpoints"
  | "noLocalEndpoints"
  | "noMatchingAdvertisement"
  | "noPeers";

export type ServiceDecision =
  | { readonly announce: true; readonly peers: readonly string[] }
  | { readonly announce: false; readonly reason: WithdrawReason };

export interface NodePlan {
  /** BGPPeer name -> routes for it, sorted by prefix. Peers with no route are absent. */
  readonly routes: ReadonlyMap<string, readonly Route[]>;
  /** "namespace/name" -> what this node does for the Service. */
  readonly services: ReadonlyMap<string, ServiceDecision>;
  /** Advertisements that disagree on LOCAL_PREF for one prefix and peer (the highest is used). */
  readonly conflicts: readonly string[];
}
