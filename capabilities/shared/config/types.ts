/**
 * The configuration parser's input, output and typed model. Pure data: the parser
 * turns every metallb.io object at once into a `Config` that the allocator, the
 * announcer and the node agent read, and admission runs the same parser.
 */
import type {
  BFDProfile,
  BGPAdvertisement,
  BGPPeer,
  Community,
  IPAddressPool,
  L2Advertisement,
  LabelSelector,
  PreferredNodeSelector,
} from "../../../crds/types";
import type { CIDR, IP } from "../net/ip";

/** The metallb.io kinds the parser reads. */
export type ConfigKind =
  | "IPAddressPool"
  | "L2Advertisement"
  | "BGPAdvertisement"
  | "BGPPeer"
  | "BFDProfile"
  | "Community";

/** Something with a name and labels: a Node or a Namespace. */
export interface NamedLabels {
  name: string;
  labels?: Record<string, string>;
}

/** The part of a core/v1 Secret the parser reads (data is base64, as on the wire). */
export interface SecretInput {
  metadata?: { name?: string; namespace?: string };
  type?: string;
  data?: Record<string, string>;
}

export interface ConfigInput {
  pools?: IPAddressPool[];
  l2Advertisements?: L2Advertisement[];
  bgpAdvertisements?: BGPAdvertisement[];
  bgpPeers?: BGPPeer[];
  bfdProfiles?: BFDProfile[];
  communities?: Community[];
  /** The namespace configuration objects must live in (metallb-system by default). */
  namespace: string;
  /** When given, node selectors are resolved to node names and used in overlap checks. */
  nodes?: NamedLabels[];
  /** When given, serviceAllocation.namespaceSelectors are resolved to namespace names. */
  namespaces?: NamedLabels[];
  /** When given, peer passwordSecret references are resolved (reconcile time). */
  secrets?: SecretInput[];
  /**
   * Pools that Services hold addresses from (their ip-allocated-from-pool annotation). Of
   * two conflicting pools, one in use counts as the older: this survives a restart, where
   * creation timestamps (whole seconds) can tie.
   */
  poolsInUse?: readonly string[];
}

export interface ParseOptions {
  /**
   * Admission mode: references that may legitimately arrive later (Community aliases,
   * BFD profiles, Secrets, pools and peers named by advertisements) become warnings.
   */
  deferReferences?: boolean;
}

export interface ObjectRef {
  kind: ConfigKind;
  name: string;
}

export interface ConfigError {
  kind: ConfigKind;
  name: string;
  /** JSON path of the offending field, e.g. "spec.addresses[1]". */
  field: string;
  /** Complete, user-facing sentence(s): object, field, bad value, conflict, fix. */
  message: string;
  /** Other objects the problem involves (the pool overlapped, the peer referenced...). */
  related?: ObjectRef[];
  /** A missing reference that may be satisfied later (deferred at admission). */
  transient?: boolean;
}

export type ParseResult =
  | { ok: true; config: Config; warnings: string[] }
  | { ok: false; errors: ConfigError[]; warnings: string[] };

// ---------------------------------------------------------------- the model

export interface ServiceAllocationModel {
  /** 0 means "after every pool with a priority". */
  readonly priority: number;
  /** spec.namespaces plus the namespaces matched by namespaceSelectors (when namespaces were given). */
  readonly namespaces: ReadonlySet<string>;
  readonly namespaceSelectors: readonly LabelSelector[];
  readonly serviceSelectors: readonly LabelSelector[];
}

/** One spec.addresses entry and the CIDRs it stands for. */
export interface PoolAddress {
  readonly text: string;
  readonly cidrs: readonly CIDR[];
}

export interface Pool {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** All CIDRs in listed order, ranges summarized. */
  readonly cidrs: readonly CIDR[];
  readonly addresses: readonly PoolAddress[];
  readonly autoAssign: boolean;
  readonly avoidBuggyIPs: boolean;
  readonly serviceAllocation?: ServiceAllocationModel;
  /** Set when the pool is invalid (the errors): it hands out nothing new; holders keep their addresses. */
  readonly disabled?: string;
}

export interface L2AdvertisementModel {
  readonly name: string;
  /** Pool names, sorted: named pools plus selector matches; every pool when both are empty. */
  readonly pools: readonly string[];
  readonly nodeSelectors: readonly LabelSelector[];
  /** Node names the nodeSelectors pick (only when nodes were given). */
  readonly nodes?: readonly string[];
  readonly interfaces: readonly string[];
  readonly serviceSelectors: readonly LabelSelector[];
  readonly preferredNodeSelectors: readonly PreferredNodeSelector[];
}

export interface StandardCommunity {
  readonly asn: number;
  readonly value: number;
}

export interface LargeCommunity {
  readonly global: number;
  readonly local1: number;
  readonly local2: number;
}

export type CommunityValue =
  | { readonly type: "standard"; readonly standard: StandardCommunity }
  | { readonly type: "large"; readonly large: LargeCommunity };

export interface BGPAdvertisementModel {
  readonly name: string;
  readonly pools: readonly string[];
  readonly aggregationLength: number;
  readonly aggregationLengthV6: number;
  /** 0: no LOCAL_PREF attribute. */
  readonly localPref: number;
  /** Aliases resolved, duplicates removed, in listed order. */
  readonly communities: readonly StandardCommunity[];
  readonly largeCommunities: readonly LargeCommunity[];
  /** Opted in (annotation metallb.io/service-communities): adds each Service's own communities. */
  readonly serviceCommunities: boolean;
  /** Opted in (annotation metallb.io/weighted-ecmp): link bandwidth by serving endpoints (weighted-ecmp.ts). */
  readonly weightedEcmp: boolean;
  /** BGPPeer names; empty means every peer. */
  readonly peers: readonly string[];
  readonly nodeSelectors: readonly LabelSelector[];
  readonly nodes?: readonly string[];
  readonly serviceSelectors: readonly LabelSelector[];
}

export interface PeerModel {
  readonly name: string;
  readonly myASN: number;
  /** The AS this peer's sessions present instead of myASN (eBGP only). */
  readonly localASN?: number;
  /** 0 with dynamicASN. */
  readonly peerASN: number;
  /** No fixed peer AS: the nodes' own (internal) or any other (external). */
  readonly dynamicASN?: "internal" | "external";
  /** Exactly one of address and interface. */
  readonly address?: IP;
  /** BGP unnumbered: the node NIC the session runs over (IPv6 link-local, RFC 8950 next hops). */
  readonly interface?: string;
  readonly port: number;
  /** Whole seconds; 0 disables keepalives. */
  readonly holdTimeSeconds: number;
  /** May be fractional (hold/3 by default). */
  readonly keepaliveTimeSeconds: number;
  readonly connectTimeSeconds?: number;
  readonly routerID?: IP;
  readonly sourceAddress?: IP;
  /** From spec.password, or from the Secret when secrets were given. */
  readonly password?: string;
  readonly passwordSecret?: { readonly name: string; readonly namespace: string };
  readonly ebgpMultiHop: boolean;
  /** Routes of both IP families over this one session (the other family's next hop: the node's address of it). */
  readonly dualStackAddressFamily: boolean;
  readonly enableGracefulRestart: boolean;
  readonly nodeSelectors: readonly LabelSelector[];
  readonly nodes?: readonly string[];
  readonly bfdProfile?: string;
}

export interface BFDProfileModel {
  readonly name: string;
  readonly receiveInterval: number;
  readonly transmitInterval: number;
  readonly detectMultiplier: number;
  readonly echoInterval: number;
  readonly echoMode: boolean;
  readonly passiveMode: boolean;
  readonly minimumTtl: number;
}

export interface CommunityAliasModel {
  readonly name: string;
  readonly value: CommunityValue;
}

/** The whole parsed configuration. Every list is sorted by name. */
export interface Config {
  readonly pools: readonly Pool[];
  readonly l2Advertisements: readonly L2AdvertisementModel[];
  readonly bgpAdvertisements: readonly BGPAdvertisementModel[];
  readonly peers: readonly PeerModel[];
  readonly bfdProfiles: readonly BFDProfileModel[];
  /** Community aliases from every Community object. */
  readonly communities: readonly CommunityAliasModel[];
}
