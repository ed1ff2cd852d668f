/**
 * IPv6 Router Advertisements (RFC 4861 §4.2) for BGP unnumbered. We peer with a router on
 * an interface without a configured peer address, over IPv6 link-local addresses. As FRR
 * does, each side learns the other's link-local address from the source of the RAs it
 * receives on that interface, so we send RAs to be learned and parse the router's to learn
 * it (link-local-peer.ts does the I/O). Pure: no I/O.
 *
 * Choices:
 * - Our RA says as little as possible: Router Lifetime 0 (§4.2, §6.2.3: "not a default
 *   router", so hosts on the link never make us their gateway), Cur Hop Limit, flags, Reachable
 *   Time and Retrans Timer 0 (unspecified, §4.2), no prefix or MTU options; only the
 *   Source Link-Layer Address option, so the router needs no NS to reach us (§4.6.1).
 * - Parsing validates as §6.1.2 requires (hop limit 255, checksum, code 0, ICMP length at
 *   least 16, link-local source, options of non-zero length) and nothing else: whatever
 *   the router's lifetime or options, its source address is all we need.
 * - `sourceMac` is the Ethernet source, which every frame has; the SLLA option is optional
 *   (§4.2) and is only checked for well-formedness.
 * - Frames with a VLAN tag still in the data, or with IPv6 extension headers before the
 *   ICMPv6 header, are rejected: the first belong to another VLAN than the socket's
 *   interface, and routers send RAs without the second.
 */
import type { IP } from "../../../shared/net/ip";
import { decodeEthernet, ETHERTYPE_IPV6 } from "../l2/ethernet";
import { ipv6MulticastMAC, MAC_LENGTH } from "../l2/mac";
import {
  ALL_NODES,
  decodeIPv6,
  decodeNdOptions,
  icmpv6Checksum,
  linkLayerOption,
  ND_HOP_LIMIT,
  ND_OPT_SOURCE_LINK_LAYER,
  ndFrame,
  NEXT_HEADER_ICMPV6,
  verifyIcmpv6Checksum,
} from "../l2/ndp";

export const ICMPV6_ROUTER_ADVERTISEMENT = 134;
/** Type, code, checksum, Cur Hop Limit, flags, Router Lifetime, Reachable Time, Retrans Timer. */
export const RA_MIN_LENGTH = 16;
const ROUTER_LIFETIME_OFFSET = 6;

/** fe80::/10 (RFC 4291 §2.5.6): the only sources an RA may come from (RFC 4861 §6.1.2). */
export const isLinkLocalIPv6 = (ip: IP): boolean => ip.family === 6 && ip.value >> 118n === 0x3fan;

export interface RouterAdvertisement {
  /** The router's link-local address (the IPv6 source). */
  readonly source: IP;
  /** The Ethernet source address of the frame. */
  readonly sourceMac: Buffer;
  /** Seconds; 0 means the sender is not a default router (§4.2). */
  readonly routerLifetime: number;
}

/** The ICMPv6 RA message: all fields 0 except the type, the lifetime, the checksum and the SLLA option. */
function encodeRouterAdvertisement(src: IP, srcMac: Uint8Array, routerLifetime: number): Buffer {
  const slla = linkLayerOption(ND_OPT_SOURCE_LINK_LAYER, srcMac);
  const icmp = Buffer.alloc(RA_MIN_LENGTH + slla.length);
  icmp[0] = ICMPV6_ROUTER_ADVERTISEMENT;
  icmp.writeUInt16BE(routerLifetime, ROUTER_LIFETIME_OFFSET);
  icmp.set(slla, RA_MIN_LENGTH);
  icmp.writeUInt16BE(icmpv6Checksum(src, ALL_NODES, icmp), 2);
  return icmp;
}

/**
 * An unsolicited RA from `srcIP` (our link-local address) at `srcMac` to all-nodes
 * ff02::1, as a complete Ethernet frame, with Router Lifetime 0 (what the agent sends; a
 * router's lifetime in seconds is for tests that play the router).
 */
export function routerAdvertisementFrame(srcMac: Uint8Array, srcIP: IP, routerLifetime = 0): Buffer {
  if (!isLinkLocalIPv6(srcIP)) throw new RangeError("a router advertisement is sent from a link-local address");
  if (srcMac.length !== MAC_LENGTH) throw new RangeError("an Ethernet MAC address has 6 bytes");
  if (!Number.isInteger(routerLifetime) || routerLifetime < 0 || routerLifetime > 0xffff)
    throw new RangeError("a router lifetime is 0 to 65535 seconds");
  const icmp = encodeRouterAdvertisement(srcIP, srcMac, routerLifetime);
  return ndFrame(ipv6MulticastMAC(ALL_NODES), srcMac, srcIP, ALL_NODES, icmp);
}

/**
 * The sender of a valid RA (RFC 4861 §6.1.2), or undefined for any other frame: not
 * untagged IPv6, not ICMPv6 right after the IPv6 header, another ICMPv6 type, or an
 * RA that fails validation.
 */
export function parseRouterAdvertisement(frame: Buffer): RouterAdvertisement | undefined {
  const eth = decodeEthernet(frame);
  if (!eth || eth.etherType !== ETHERTYPE_IPV6 || eth.vlans.length > 0) return undefined;
  const ip = decodeIPv6(eth.payload);
  if (!ip || ip.nextHeader !== NEXT_HEADER_ICMPV6 || ip.hopLimit !== ND_HOP_LIMIT) return undefined;
  if (!isLinkLocalIPv6(ip.src)) return undefined;
  const icmp = ip.payload;
  if (icmp.length < RA_MIN_LENGTH || icmp[0] !== ICMPV6_ROUTER_ADVERTISEMENT || icmp[1] !== 0) return undefined;
  if (!verifyIcmpv6Checksum(ip.src, ip.dst, icmp)) return undefined;
  if (!decodeNdOptions(icmp.subarray(RA_MIN_LENGTH))) return undefined;
  return {
    source: ip.src,
    sourceMac: Buffer.from(eth.src),
    routerLifetime: icmp.readUInt16BE(ROUTER_LIFETIME_OFFSET),
  };
}
