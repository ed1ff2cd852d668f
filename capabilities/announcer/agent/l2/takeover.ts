/**
 * Pure: is this frame another host announcing an address — a gratuitous ARP (RFC 5227
 * §3 "ARP Announcement": sender IP = target IP, request or reply) or an unsolicited
 * Neighbor Advertisement (RFC 4861 §7.2.6: Solicited clear, Override set, with the
 * Target link-layer address)? A draining agent keeps answering an address until it sees
 * the new owner announce it, so the hand-over has no gap whatever the watch skew between
 * the two agents.
 */
import type { IP } from "../../../shared/net/ip";
import { decodeArp } from "./arp";
import { decodeEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV6 } from "./ethernet";
import { isUnicastMAC, macEquals } from "./mac";
import {
  decodeIPv6,
  decodeNdMessage,
  ICMPV6_NEIGHBOR_ADVERTISEMENT,
  ND_HOP_LIMIT,
  NEXT_HEADER_ICMPV6,
  verifyIcmpv6Checksum,
} from "./ndp";

export interface Announcement {
  readonly ip: IP;
  /** The link-layer address the announcer claims the IP for. */
  readonly mac: Buffer;
}

/** The address another host (not `ourMac`) announces in `frame`, if it is an announcement. */
export function announcementIn(frame: Buffer, ourMac: Buffer): Announcement | undefined {
  const eth = decodeEthernet(frame);
  if (!eth || eth.vlans.length > 0 || macEquals(eth.src, ourMac)) return undefined;
  if (eth.etherType === ETHERTYPE_ARP) {
    const arp = decodeArp(eth.payload);
    if (!arp || arp.senderIp.value !== arp.targetIp.value || arp.senderIp.family !== 4) return undefined;
    if (!isUnicastMAC(arp.senderMac) || macEquals(arp.senderMac, ourMac)) return undefined;
    return { ip: arp.senderIp, mac: arp.senderMac };
  }
  if (eth.etherType !== ETHERTYPE_IPV6) return undefined;
  const ip6 = decodeIPv6(eth.payload);
  if (!ip6 || ip6.nextHeader !== NEXT_HEADER_ICMPV6 || ip6.hopLimit !== ND_HOP_LIMIT) return undefined;
  // RFC 4861 §7.1.2: hop limit 255, valid checksum, code 0; decodeNdMessage checks the options.
  if (!verifyIcmpv6Checksum(ip6.src, ip6.dst, ip6.payload) || ip6.payload[1] !== 0) return undefined;
  const na = decodeNdMessage(ip6.payload);
  if (!na || na.type !== ICMPV6_NEIGHBOR_ADVERTISEMENT || na.solicited || !na.override) return undefined;
  const mac = na.targetLinkLayer;
  if (!mac || !isUnicastMAC(mac) || macEquals(mac, ourMac)) return undefined;
  return { ip: na.target, mac };
}
