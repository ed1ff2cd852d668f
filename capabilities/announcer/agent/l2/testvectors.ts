/**
 * Hand-annotated wire vectors shared by the L2 codec tests. Each field is written out on
 * its own line from the RFC layouts (RFC 826 for ARP, RFC 8200 + RFC 4861 for NDP).
 * The NDP and ARP exchanges between 02:00:00:00:00:0b (2001:db8:1::12, 192.0.2.12) and
 * 02:00:00:00:00:0a (2001:db8:1::11, 192.0.2.11) were cross-checked against what a Linux
 * 6.x kernel put on a veth for the same exchange (tcpdump -xx), so the ICMPv6 checksums
 * below are independently computed.
 */

/** Hex with whitespace and `#` comments stripped. */
export function hex(text: string): Buffer {
  const clean = text.replace(/#[^\n]*/g, "").replace(/\s+/g, "");
  if (!/^([0-9a-f]{2})*$/i.test(clean)) throw new Error(`bad hex vector: ${clean}`);
  return Buffer.from(clean, "hex");
}

export const MAC_A = "02:00:00:00:00:0a";
export const MAC_B = "02:00:00:00:00:0b";

/** B asks who has 192.0.2.11 (42 bytes, unpadded as the kernel sends it on veth). */
export const ARP_REQUEST_B_FOR_A = `
  ffffffffffff      # eth dst: broadcast
  02000000000b      # eth src: B
  0806              # ethertype ARP
  0001              # htype Ethernet
  0800              # ptype IPv4
  06 04             # hlen, plen
  0001              # op request
  02000000000b      # sha B
  c000020c          # spa 192.0.2.12
  000000000000      # tha unknown
  c000020b          # tpa 192.0.2.11
`;

/** A's reply (first 42 bytes; our encoder pads to 60 with zeros). */
export const ARP_REPLY_A_TO_B = `
  02000000000b      # eth dst: B
  02000000000a      # eth src: A
  0806
  0001 0800 06 04
  0002              # op reply
  02000000000a      # sha A
  c000020b          # spa 192.0.2.11
  02000000000b      # tha B
  c000020c          # tpa 192.0.2.12
`;

/** B's multicast NS for 2001:db8:1::11 with an SLLA option. */
export const NS_B_FOR_A = `
  3333ff000011      # eth dst: 33:33 + solicited-node ff02::1:ff00:11
  02000000000b      # eth src: B
  86dd              # ethertype IPv6
  60000000          # version 6, traffic class 0, flow label 0
  0020              # payload length 32
  3a                # next header ICMPv6
  ff                # hop limit 255
  20010db8000100000000000000000012   # src 2001:db8:1::12
  ff0200000000000000000001ff000011   # dst ff02::1:ff00:11
  87                # type 135 NS
  00                # code
  1bec              # checksum
  00000000          # reserved
  20010db8000100000000000000000011   # target 2001:db8:1::11
  01 01 02000000000b                 # option SLLA, length 1 (8 bytes), B
`;

/** A's solicited NA back to B: source = target, S|O, TLLA. */
export const NA_A_TO_B = `
  02000000000b      # eth dst: B
  02000000000a      # eth src: A
  86dd
  60000000 0020 3a ff
  20010db8000100000000000000000011   # src 2001:db8:1::11 (the target)
  20010db8000100000000000000000012   # dst 2001:db8:1::12
  88                # type 136 NA
  00                # code
  8a37              # checksum
  60000000          # flags: S (0x40) | O (0x20), R clear
  20010db8000100000000000000000011   # target
  02 01 02000000000a                 # option TLLA, length 1, A
`;

/** B's DAD probe for its link-local address, with a Nonce option (RFC 7527, type 14). */
export const NS_DAD_B = `
  3333ff00000b 02000000000b 86dd
  60000000 0020 3a ff
  00000000000000000000000000000000   # src :: (unspecified)
  ff0200000000000000000001ff00000b   # dst ff02::1:ff00:b
  87 00 2fa4 00000000
  fe80000000000000000000fffe00000b   # target fe80::ff:fe00:b
  0e 01 757f711a58ca                 # option 14 (nonce), length 1
`;

/** Unsolicited NA for VIP 2001:db8:1::100 at A, to all-nodes (checksum worked out separately). */
export const UNSOLICITED_NA_VIP = `
  333300000001      # eth dst: 33:33 + ff02::1
  02000000000a      # eth src: A
  86dd
  60000000 0020 3a ff
  20010db8000100000000000000000100   # src = the VIP
  ff020000000000000000000000000001   # dst ff02::1
  88 00 f721        # NA, code 0, checksum
  20000000          # flags: O only (S clear, R clear)
  20010db8000100000000000000000100   # target
  02 01 02000000000a                 # TLLA A
`;
