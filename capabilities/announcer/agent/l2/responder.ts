/**
 * The L2 responder's decision: given one received frame, our interface MAC and the
 * IPs this node announces on that interface, the frame to send back, or nothing.
 * Pure: the socket loop in the agent feeds frames in and sends what comes out.
 *
 * ARP: only requests for one of our IPs, broadcast or unicast to us, from someone else.
 * NDP: only Neighbor Solicitations for one of our IPs that pass RFC 4861 §7.1.1, answered
 * per §7.2.4 with a Neighbor Advertisement carrying our MAC (and sourced from the target,
 * see ndp.ts). Frames with VLAN tags are never answered here: a tagged frame belongs to a
 * VLAN sub-interface, which has its own responder and its own set of IPs.
 */
import { IP, parseIP } from "../../../shared/net/ip";
import { ARP_OP_REQUEST, arpReplyFrame, decodeArp } from "./arp";
import { ETHERTYPE_ARP, ETHERTYPE_IPV6, decodeEthernet } from "./ethernet";
import { ipv6MulticastMAC, isBroadcastMAC, isMulticastMAC, isUnicastMAC, macEquals } from "./mac";
import {
  ALL_NODES,
  ICMPV6_NEIGHBOR_SOLICITATION,
  ND_HOP_LIMIT,
  ND_MIN_LENGTH,
  NEXT_HEADER_ICMPV6,
  decodeIPv6,
  decodeNdMessage,
  isIPv6Multicast,
  isSolicitedNodeMulticast,
  isUnspecified,
  neighborAdvertisementFrame,
  solicitedNodeMulticast,
  verifyIcmpv6Checksum,
} from "./ndp";

/** Membership test for announced IPs; build one with `announcedSet`. */
export interface AnnouncedIPs {
  has(ip: IP): boolean;
}

const key = (ip: IP): string => `${ip.family}/${ip.value.toString(16)}`;

/** A set of IPs (IP values or text) for `respond`; throws on unparseable text. */
export function announcedSet(ips: Iterable<IP | string>): AnnouncedIPs {
  const keys = new Set<string>();
  for (const entry of ips) {
    const ip = typeof entry === "string" ? parseIP(entry) : entry;
    if (!ip) throw new RangeError(`not an IP address: ${String(entry)}`);
    keys.add(key(ip));
  }
  return { has: (ip) => keys.has(key(ip)) };
}

/** Why a frame was (not) answered; the agent counts these, tests assert on them. */
export type Decision =
  | { readonly reply: Buffer; readonly reason: "arp-reply" | "na-solicited" | "na-dad-defense" }
  | { readonly reply?: undefined; readonly reason: IgnoreReason };

export type IgnoreReason =
  | "malformed-ethernet"
  | "vlan-tagged"
  | "own-frame"
  | "not-for-us"
  | "other-ethertype"
  | "malformed-arp"
  | "arp-not-request"
  | "arp-bad-sender"
  | "arp-gratuitous"
  | "not-our-ip"
  | "malformed-ipv6"
  | "not-icmpv6"
  | "not-ns"
  | "hop-limit"
  | "bad-checksum"
  | "bad-code"
  | "ns-too-short"
  | "bad-options"
  | "target-multicast"
  | "source-multicast"
  | "dad-not-to-solicited-node"
  | "dad-with-slla"
  | "ns-wrong-destination"
  | "no-link-layer-address";

const ignore = (reason: IgnoreReason): Decision => ({ reason });

/** The reply to send for `frame`, or undefined. */
export function respond(frame: Buffer, ourMac: Buffer, announced: AnnouncedIPs): Buffer | undefined {
  return decide(frame, ourMac, announced).reply;
}

/** Like `respond`, with the reason for the decision. */
export function decide(frame: Buffer, ourMac: Buffer, announced: AnnouncedIPs): Decision {
  const eth = decodeEthernet(frame);
  if (!eth) return ignore("malformed-ethernet");
  if (eth.vlans.length > 0) return ignore("vlan-tagged");
  if (macEquals(eth.src, ourMac)) return ignore("own-frame");
  // Accept frames to us, to broadcast, and to multicast groups (NS go to 33:33:ff:..).
  if (!macEquals(eth.dst, ourMac) && !isMulticastMAC(eth.dst)) return ignore("not-for-us");
  if (eth.etherType === ETHERTYPE_ARP) return decideArp(eth.dst, eth.payload, ourMac, announced);
  if (eth.etherType === ETHERTYPE_IPV6) return decideNdp(eth.src, eth.payload, ourMac, announced);
  return ignore("other-ethertype");
}

function decideArp(ethDst: Buffer, payload: Buffer, ourMac: Buffer, announced: AnnouncedIPs): Decision {
  if (!isBroadcastMAC(ethDst) && !macEquals(ethDst, ourMac)) return ignore("not-for-us");
  const arp = decodeArp(payload);
  if (!arp) return ignore("malformed-arp");
  if (arp.op !== ARP_OP_REQUEST) return ignore("arp-not-request");
  if (macEquals(arp.senderMac, ourMac)) return ignore("own-frame");
  if (!isUnicastMAC(arp.senderMac)) return ignore("arp-bad-sender");
  // Sender IP = target IP is someone announcing (or defending) an address, not asking.
  if (arp.senderIp.value === arp.targetIp.value) return ignore("arp-gratuitous");
  if (!announced.has(arp.targetIp)) return ignore("not-our-ip");
  return { reply: arpReplyFrame(arp, ourMac), reason: "arp-reply" };
}

function decideNdp(ethSrc: Buffer, payload: Buffer, ourMac: Buffer, announced: AnnouncedIPs): Decision {
  const ip6 = decodeIPv6(payload);
  if (!ip6) return ignore("malformed-ipv6");
  // Extension headers are not followed: an NS never needs one.
  if (ip6.nextHeader !== NEXT_HEADER_ICMPV6) return ignore("not-icmpv6");
  const icmp = ip6.payload;
  if (icmp.length < 4 || icmp[0] !== ICMPV6_NEIGHBOR_SOLICITATION) return ignore("not-ns");
  // RFC 4861 §7.1.1, in order.
  if (ip6.hopLimit !== ND_HOP_LIMIT) return ignore("hop-limit");
  if (!verifyIcmpv6Checksum(ip6.src, ip6.dst, icmp)) return ignore("bad-checksum");
  if (icmp[1] !== 0) return ignore("bad-code");
  if (icmp.length < ND_MIN_LENGTH) return ignore("ns-too-short");
  // decodeNdMessage rejects zero-length and truncated options.
  const ns = decodeNdMessage(icmp);
  if (!ns || ns.type !== ICMPV6_NEIGHBOR_SOLICITATION) return ignore("bad-options");
  if (isIPv6Multicast(ns.target)) return ignore("target-multicast");
  if (isIPv6Multicast(ip6.src)) return ignore("source-multicast");
  const dad = isUnspecified(ip6.src);
  if (dad && !isSolicitedNodeMulticast(ip6.dst)) return ignore("dad-not-to-solicited-node");
  if (dad && ns.sourceLinkLayer) return ignore("dad-with-slla");
  if (!announced.has(ns.target)) return ignore("not-our-ip");
  // A solicitation is sent to the target's solicited-node group or, for NUD, to the target.
  const dst = ip6.dst.value;
  if (dst !== solicitedNodeMulticast(ns.target).value && dst !== ns.target.value) return ignore("ns-wrong-destination");
  if (ns.sourceLinkLayer && macEquals(ns.sourceLinkLayer, ourMac)) return ignore("own-frame");

  if (dad) {
    // §7.2.4: a DAD probe for our address is answered to all-nodes, Solicited clear.
    const reply = neighborAdvertisementFrame({
      ethDst: ipv6MulticastMAC(ALL_NODES),
      ipDst: ALL_NODES,
      target: ns.target,
      mac: ourMac,
      solicited: false,
      override: true,
    });
    return { reply, reason: "na-dad-defense" };
  }
  // Unicast back to the solicitor: its SLLA if given, else the frame's Ethernet source.
  const ethDst = ns.sourceLinkLayer ?? ethSrc;
  if (!isUnicastMAC(ethDst)) return ignore("no-link-layer-address");
  const reply = neighborAdvertisementFrame({
    ethDst,
    ipDst: ip6.src,
    target: ns.target,
    mac: ourMac,
    solicited: true,
    override: true,
  });
  return { reply, reason: "na-solicited" };
}
