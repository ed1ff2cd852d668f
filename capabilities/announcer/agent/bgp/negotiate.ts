/**
 * Builds our OPEN from the session configuration and works out what both
 * sides agreed on from the two OPENs (RFC 4271 §4.2, RFC 5492, RFC 4760 §8,
 * RFC 6793, RFC 2918, RFC 4724, RFC 8950).
 */
import type { IP } from "../../../shared/net/ip";
import {
  AFI,
  AS_TRANS,
  BGP_VERSION,
  IPV4_UNICAST,
  sameAfiSafi,
  type AfiSafi,
  type Capability,
  type ExtendedNextHopEntry,
  type GracefulRestartFamily,
  type OpenMessage,
} from "./messages";
import { peerASOf } from "./validate";

export interface GracefulRestartConfig {
  /** Seconds the peer should keep our routes after the session drops (RFC 4724 §3, ≤ 4095). */
  readonly restartTime: number;
  /** Whether the node keeps forwarding across an agent restart (per-family F bit). */
  readonly forwardingState: boolean;
}

export interface OpenConfig {
  readonly localAS: number;
  readonly routerId: IP;
  /** Proposed hold time in seconds (0, or ≥ 3). */
  readonly holdTime: number;
  readonly families: readonly AfiSafi[];
  readonly routeRefresh: boolean;
  readonly gracefulRestart?: GracefulRestartConfig;
  /** NLRI we can take with next hops of another family (RFC 8950): IPv4 over IPv6 when unnumbered. */
  readonly extendedNextHop?: readonly ExtendedNextHopEntry[];
}

/** Our OPEN. `restarting` sets the graceful-restart R bit (RFC 4724 §3). */
export function buildOpen(cfg: OpenConfig, restarting: boolean): OpenMessage {
  const capabilities: Capability[] = [
    ...cfg.families.map((f): Capability => ({ type: "multiprotocol", afi: f.afi, safi: f.safi })),
    ...(cfg.routeRefresh ? [{ type: "route-refresh" } as const] : []),
    ...(cfg.extendedNextHop?.length ? [{ type: "extended-next-hop", entries: cfg.extendedNextHop } as const] : []),
    { type: "four-octet-as", asn: cfg.localAS },
  ];
  if (cfg.gracefulRestart) {
    capabilities.push({
      type: "graceful-restart",
      restartState: restarting,
      restartTime: cfg.gracefulRestart.restartTime,
      families: cfg.families.map((f) => ({ ...f, forwardingState: cfg.gracefulRestart!.forwardingState })),
    });
  }
  return {
    type: "open",
    version: BGP_VERSION,
    // RFC 6793 §4.1: AS_TRANS in My AS when the AS needs 4 octets.
    myAS: cfg.localAS > 0xffff ? AS_TRANS : cfg.localAS,
    holdTime: cfg.holdTime,
    bgpId: cfg.routerId,
    capabilities,
  };
}

export interface PeerGracefulRestart {
  readonly restartState: boolean;
  readonly restartTime: number;
  readonly families: readonly GracefulRestartFamily[];
}

export interface Negotiated {
  readonly peerAS: number;
  readonly peerRouterId: IP;
  /** min(ours, theirs) (RFC 4271 §4.2); 0 means no hold timer and no keepalives. */
  readonly holdTime: number;
  /** holdTime / 3 (RFC 4271 §10 suggests a third), 0 when holdTime is 0. */
  readonly keepaliveTime: number;
  readonly fourOctetAS: boolean;
  /** Families both sides advertised. */
  readonly families: readonly AfiSafi[];
  readonly routeRefresh: boolean;
  /**
   * Families whose routes may go with an IPv6 next hop: both OPENs listed <AFI, SAFI, IPv6>
   * (RFC 8950 §4 lets a speaker send such routes only to a peer that advertised the triple).
   */
  readonly extendedNextHop: readonly AfiSafi[];
  /** Both sides sent the graceful-restart capability. */
  readonly gracefulRestart: boolean;
  /** What the peer said in its graceful-restart capability, if anything. */
  readonly peerGracefulRestart?: PeerGracefulRestart;
}

/** RFC 4760 §8: a speaker without multiprotocol capabilities speaks IPv4 unicast only. */
function familiesOf(open: OpenMessage): AfiSafi[] {
  const mp = open.capabilities.flatMap((c) => (c.type === "multiprotocol" ? [{ afi: c.afi, safi: c.safi }] : []));
  return mp.length > 0 ? mp : [IPV4_UNICAST];
}

const has = (open: OpenMessage, type: Capability["type"]): boolean => open.capabilities.some((c) => c.type === type);

/** The <AFI, SAFI> with an IPv6 next hop an OPEN lists in its extended next hop capabilities. */
function ipv6NextHopFamilies(open: OpenMessage): AfiSafi[] {
  return open.capabilities.flatMap((c) =>
    c.type === "extended-next-hop"
      ? c.entries.filter((e) => e.nextHopAfi === AFI.IPV6).map((e) => ({ afi: e.afi, safi: e.safi }))
      : [],
  );
}

/**
 * Seconds between our KEEPALIVEs for a negotiated hold time: the configured keepalive
 * (BGPPeer keepaliveTime), never more than a third of the hold time (RFC 4271 §4.4 calls
 * a third "reasonable"; a peer that proposed a shorter hold time than ours must not see
 * its timer expire), one third when not configured. 0 when the hold time is 0 (§4.4:
 * no KEEPALIVEs at all).
 */
export function keepaliveFor(holdTime: number, configured?: number): number {
  if (holdTime === 0) return 0;
  const third = Math.floor(holdTime / 3);
  return configured === undefined || configured <= 0 ? third : Math.min(configured, third);
}

export function negotiate(local: OpenMessage, peer: OpenMessage, keepaliveTime?: number): Negotiated {
  const holdTime = Math.min(local.holdTime, peer.holdTime);
  const theirs = familiesOf(peer);
  const gr = peer.capabilities.find((c) => c.type === "graceful-restart");
  return {
    peerAS: peerASOf(peer),
    peerRouterId: peer.bgpId,
    holdTime,
    keepaliveTime: keepaliveFor(holdTime, keepaliveTime),
    fourOctetAS: has(local, "four-octet-as") && has(peer, "four-octet-as"),
    families: familiesOf(local).filter((f) => theirs.some((t) => sameAfiSafi(f, t))),
    routeRefresh: has(local, "route-refresh") && has(peer, "route-refresh"),
    extendedNextHop: ipv6NextHopFamilies(local).filter((f) => ipv6NextHopFamilies(peer).some((t) => sameAfiSafi(f, t))),
    gracefulRestart: has(local, "graceful-restart") && gr !== undefined,
    ...(gr && gr.type === "graceful-restart"
      ? { peerGracefulRestart: { restartState: gr.restartState, restartTime: gr.restartTime, families: gr.families } }
      : {}),
  };
}
