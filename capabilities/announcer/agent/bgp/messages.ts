/**
 * BGP-4 message model (RFC 4271 §4) and the extensions this speaker uses:
 * capabilities (RFC 5492, 4760, 2918, 6793, 4724), communities (RFC 1997,
 * 4360, 8092), multiprotocol reachability (RFC 4760), and the attributes a
 * router may send us that RFC 7606 §7 gives their own checks (RFC 4456, 9234). Types and constants only:
 * encode.ts writes them, decode.ts reads them, validate.ts judges them.
 */
import type { CIDR, IP } from "../../../shared/net/ip";

/** RFC 4271 §4.1: a 16-octet all-ones marker, 2-octet length, 1-octet type. */
export const HEADER_LENGTH = 19;
/** RFC 4271 §4.1: the largest message (RFC 8654 extended messages are out of scope). */
export const MAX_MESSAGE_LENGTH = 4096;
export const BGP_VERSION = 4;
/** RFC 6793 §9: the 2-octet stand-in for a 4-octet AS number. */
export const AS_TRANS = 23456;
/** RFC 4271 §8.2.2: the hold timer while waiting for the peer's OPEN ("4 minutes suggested"). */
export const LARGE_HOLD_TIME = 240;

export const MessageType = { OPEN: 1, UPDATE: 2, NOTIFICATION: 3, KEEPALIVE: 4, ROUTE_REFRESH: 5 } as const;

/** Path attribute flag bits, RFC 4271 §4.3. */
export const AttrFlag = { OPTIONAL: 0x80, TRANSITIVE: 0x40, PARTIAL: 0x20, EXTENDED_LENGTH: 0x10 } as const;

/** Path attribute type codes (IANA "BGP Path Attributes"). */
export const AttrType = {
  ORIGIN: 1,
  AS_PATH: 2,
  NEXT_HOP: 3,
  MULTI_EXIT_DISC: 4,
  LOCAL_PREF: 5,
  ATOMIC_AGGREGATE: 6,
  AGGREGATOR: 7,
  COMMUNITIES: 8,
  ORIGINATOR_ID: 9,
  CLUSTER_LIST: 10,
  MP_REACH_NLRI: 14,
  MP_UNREACH_NLRI: 15,
  EXTENDED_COMMUNITIES: 16,
  AS4_PATH: 17,
  AS4_AGGREGATOR: 18,
  LARGE_COMMUNITY: 32,
  OTC: 35,
} as const;

/** Capability codes (IANA "Capability Codes"). */
export const CapabilityCode = {
  MULTIPROTOCOL: 1,
  ROUTE_REFRESH: 2,
  EXTENDED_NEXT_HOP: 5,
  GRACEFUL_RESTART: 64,
  FOUR_OCTET_AS: 65,
} as const;

/** RFC 5492 §4: the only OPEN optional parameter type we understand. */
export const OPT_PARAM_CAPABILITIES = 2;

export const AFI = { IPV4: 1, IPV6: 2 } as const;
export const SAFI = { UNICAST: 1 } as const;

export interface AfiSafi {
  readonly afi: number;
  readonly safi: number;
}
export const IPV4_UNICAST: AfiSafi = { afi: AFI.IPV4, safi: SAFI.UNICAST };
export const IPV6_UNICAST: AfiSafi = { afi: AFI.IPV6, safi: SAFI.UNICAST };
export const sameAfiSafi = (a: AfiSafi, b: AfiSafi): boolean => a.afi === b.afi && a.safi === b.safi;

// ---------------------------------------------------------------- capabilities

export interface GracefulRestartFamily extends AfiSafi {
  /** RFC 4724 §3 F bit: forwarding state was preserved across the restart. */
  readonly forwardingState: boolean;
}

/** RFC 8950 §4: NLRI of this AFI/SAFI may carry a next hop of `nextHopAfi`. */
export interface ExtendedNextHopEntry extends AfiSafi {
  readonly nextHopAfi: number;
}

/** IPv4 unicast routes with IPv6 next hops (BGP unnumbered). */
export const IPV4_OVER_IPV6: ExtendedNextHopEntry = { ...IPV4_UNICAST, nextHopAfi: AFI.IPV6 };

export type Capability =
  | { readonly type: "multiprotocol"; readonly afi: number; readonly safi: number }
  | { readonly type: "route-refresh" }
  | { readonly type: "extended-next-hop"; readonly entries: readonly ExtendedNextHopEntry[] }
  | { readonly type: "four-octet-as"; readonly asn: number }
  | {
      readonly type: "graceful-restart";
      /** RFC 4724 §3 R bit: the sender has restarted. */
      readonly restartState: boolean;
      /** Seconds (12 bits). */
      readonly restartTime: number;
      readonly families: readonly GracefulRestartFamily[];
    }
  /** Any other capability, or a known code whose body we could not read: kept verbatim. */
  | { readonly type: "unknown"; readonly code: number; readonly value: Buffer };

// ---------------------------------------------------------------- path attributes

export const Origin = { IGP: 0, EGP: 1, INCOMPLETE: 2 } as const;

export type AsPathSegmentType = "set" | "sequence" | "confed-sequence" | "confed-set";
/** RFC 4271 §4.3 (AS_SET 1, AS_SEQUENCE 2) and RFC 5065 §3 (confederation 3, 4). */
export const AS_PATH_SEGMENT_CODES: Readonly<Record<AsPathSegmentType, number>> = {
  set: 1,
  sequence: 2,
  "confed-sequence": 3,
  "confed-set": 4,
};

export interface AsPathSegment {
  readonly type: AsPathSegmentType;
  readonly asns: readonly number[];
}

/** RFC 8092 §3: three 4-octet fields. */
export interface LargeCommunity {
  readonly globalAdmin: number;
  readonly localData1: number;
  readonly localData2: number;
}

/**
 * One path attribute. `flags` is what came off the wire (decode) or an
 * override for tests (encode); when absent the encoder uses the RFC flags.
 */
export type PathAttribute = { readonly flags?: number } & (
  | { readonly type: "origin"; readonly origin: number }
  | { readonly type: "as-path"; readonly segments: readonly AsPathSegment[] }
  | { readonly type: "next-hop"; readonly nextHop: IP }
  | { readonly type: "med"; readonly med: number }
  | { readonly type: "local-pref"; readonly localPref: number }
  | { readonly type: "atomic-aggregate" }
  | { readonly type: "aggregator"; readonly asn: number; readonly address: IP }
  | { readonly type: "communities"; readonly communities: readonly number[] }
  | { readonly type: "large-communities"; readonly communities: readonly LargeCommunity[] }
  | { readonly type: "as4-path"; readonly segments: readonly AsPathSegment[] }
  | { readonly type: "as4-aggregator"; readonly asn: number; readonly address: IP }
  /** RFC 4456 §8: the router ID of the route's originator in the local AS (route reflection). */
  | { readonly type: "originator-id"; readonly originatorId: IP }
  /** RFC 4456 §8: the reflection path, one 4-octet CLUSTER_ID each. */
  | { readonly type: "cluster-list"; readonly clusterIds: readonly IP[] }
  /** RFC 4360 §2: 8-octet values (type, sub-type, value), kept whole. */
  | { readonly type: "extended-communities"; readonly communities: readonly bigint[] }
  /** RFC 9234 §5: Only to Customer, the AS that first marked the route. */
  | { readonly type: "otc"; readonly asn: number }
  | {
      readonly type: "mp-reach";
      readonly afi: number;
      readonly safi: number;
      /** One global address, or for IPv6 optionally global + link-local (RFC 2545 §3). */
      readonly nextHops: readonly IP[];
      readonly nlri: readonly CIDR[];
    }
  | { readonly type: "mp-unreach"; readonly afi: number; readonly safi: number; readonly withdrawn: readonly CIDR[] }
  /** An attribute we do not interpret (unknown code, or MP for a family we do not speak): kept verbatim. */
  | { readonly type: "unknown"; readonly code: number; readonly value: Buffer }
  /** A known attribute whose body could not be read; validate.ts decides what that costs (RFC 7606). */
  | { readonly type: "malformed"; readonly code: number; readonly value: Buffer; readonly problem: string }
);

export type PathAttributeType = PathAttribute["type"];

// ---------------------------------------------------------------- messages

export interface OpenMessage {
  readonly type: "open";
  readonly version: number;
  /** The 2-octet My Autonomous System field (AS_TRANS when the real AS needs 4 octets). */
  readonly myAS: number;
  readonly holdTime: number;
  readonly bgpId: IP;
  readonly capabilities: readonly Capability[];
  /** Optional parameters other than Capabilities (RFC 4271 §4.2); we support none. */
  readonly otherParameters?: readonly { readonly paramType: number; readonly value: Buffer }[];
}

export interface UpdateMessage {
  readonly type: "update";
  /** IPv4 unicast prefixes in the Withdrawn Routes field. */
  readonly withdrawn: readonly CIDR[];
  readonly attributes: readonly PathAttribute[];
  /** IPv4 unicast prefixes in the NLRI field. */
  readonly nlri: readonly CIDR[];
  /** Set by decode when the attribute section could not be walked to its end (RFC 7606 §4). */
  readonly attributeListProblem?: string;
}

export interface NotificationMessage {
  readonly type: "notification";
  readonly code: number;
  readonly subcode: number;
  readonly data: Buffer;
}

export interface KeepaliveMessage {
  readonly type: "keepalive";
}

/** RFC 2918 §3 (the third octet is Reserved; RFC 7313 calls it the subtype). */
export interface RouteRefreshMessage {
  readonly type: "route-refresh";
  readonly afi: number;
  readonly safi: number;
  readonly subtype?: number;
}

export type Message = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

/** A NOTIFICATION we must send, with the reason in words. */
export interface BgpError {
  readonly code: number;
  readonly subcode: number;
  readonly data: Buffer;
  readonly reason: string;
}

export const bgpError = (code: number, subcode: number, reason: string, data: Buffer = Buffer.alloc(0)): BgpError => ({
  code,
  subcode,
  data,
  reason,
});

/** Finds the first attribute of a given type. */
export function findAttribute<T extends PathAttributeType>(
  attrs: readonly PathAttribute[],
  type: T,
): Extract<PathAttribute, { type: T }> | undefined {
  return attrs.find((a): a is Extract<PathAttribute, { type: T }> => a.type === type);
}
