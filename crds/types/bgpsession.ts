import type { MetallbObject, Timestamp } from "./common";

/** Where the Secret key holding the TCP MD5 password is. */
export interface SecretKeyReference {
  name: string;
  /** Defaults to the BGPSession's namespace. */
  namespace?: string;
  /** Defaults to "password". */
  key?: string;
}

/**
 * What the agent on `node` should dial, fully resolved from the BGPPeer by the
 * controller so the agent needs no configuration parsing. node and peer are
 * immutable: they are the object's identity.
 */
export interface BGPSessionSpec {
  node: string;
  /** BGPPeer name. */
  peer: string;
  /** Unset for BGP unnumbered. */
  peerAddress?: string;
  /** BGP unnumbered: the node interface; the peer's link-local address is learned there. */
  interface?: string;
  peerASN?: number;
  /** The BGPPeer's dynamicASN, when it names no peerASN. */
  dynamicASN?: "internal" | "external";
  myASN?: number;
  sourceAddress?: string;
  /** Defaults to 179. */
  peerPort?: number;
  routerID?: string;
  /** Seconds (not a duration string, unlike BGPPeer): 0 or 3..65535. */
  holdTime?: number;
  /** Seconds between KEEPALIVEs (BGPPeer keepaliveTime); unset: a third of the hold time. */
  keepaliveTime?: number;
  /** Seconds per connection attempt (BGPPeer connectTime); unset: the agent's default. */
  connectTime?: number;
  ebgpMultiHop?: boolean;
  /** Routes of both IP families over this session, as the BGPPeer's dualStackAddressFamily. */
  dualStackAddressFamily?: boolean;
  passwordSecretRef?: SecretKeyReference;
  enableGracefulRestart?: boolean;
  /** BFD beside the session, resolved from the BGPPeer's BFDProfile. */
  bfd?: BGPSessionBFD;
}

/** A BFDProfile's values for one session (milliseconds), plus the hop mode. */
export interface BGPSessionBFD {
  profile: string;
  receiveInterval?: number;
  transmitInterval?: number;
  detectMultiplier?: number;
  passiveMode?: boolean;
  /** RFC 5883 multihop (ebgpMultiHop peers) instead of RFC 5881 single hop. */
  multihop?: boolean;
  /** Multihop only. */
  minimumTtl?: number;
}

export type BFDSessionState = "AdminDown" | "Down" | "Init" | "Up";

/** Live BFD state, written by the node agent. */
export interface BGPSessionBFDStatus {
  state?: BFDSessionState;
  remoteState?: BFDSessionState;
  diagnostic?: string;
  remoteDiagnostic?: string;
  since?: Timestamp;
  /** Milliseconds. */
  transmitInterval?: number;
  /** Milliseconds. */
  detectionTime?: number;
  multihop?: boolean;
  downEvents?: number;
}

/** RFC 4271 §8 states. */
export type BGPSessionState = "Idle" | "Connect" | "Active" | "OpenSent" | "OpenConfirm" | "Established";

export interface BGPMessageCounters {
  open?: number;
  update?: number;
  keepalive?: number;
  notification?: number;
  routeRefresh?: number;
  total?: number;
}

/** Written by the node agent. */
export interface BGPSessionStatus {
  /** BGP unnumbered: the peer's link-local address as learned from its router advertisements (null: remove). */
  peerAddress?: string | null;
  state?: BGPSessionState;
  /** Entered the current state at (RFC 3339). */
  since?: Timestamp;
  /** Seconds. */
  negotiatedHoldTime?: number;
  /** Seconds between the KEEPALIVEs the agent sends. */
  negotiatedKeepaliveTime?: number;
  capabilities?: string[];
  advertisedPrefixes?: number;
  receivedPrefixes?: number;
  lastError?: string;
  messages?: { sent?: BGPMessageCounters; received?: BGPMessageCounters };
  bfd?: BGPSessionBFDStatus;
  observedGeneration?: number;
  lastUpdateTime?: Timestamp;
}

export type BGPSession = MetallbObject<BGPSessionSpec, BGPSessionStatus>;
