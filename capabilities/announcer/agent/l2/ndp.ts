/**
 * IPv6 Neighbor Discovery over Ethernet (RFC 4861): the IPv6 header, ICMPv6 checksum
 * over the pseudo-header (RFC 8200 §8.1), Neighbor Solicitation (§4.3) and Neighbor
 * Advertisement (§4.4) with their link-layer address options (§4.6.1), the
 * solicited-node multicast group (RFC 4291 §2.7.1) and its MAC. Pure: no I/O.
 */
import { IP, ipFromBytes, ipToBytes } from "../../../shared/net/ip";
import { ETHERTYPE_IPV6, encodeEthernet } from "./ethernet";
import { MAC_LENGTH, ipv6MulticastMAC } from "./mac";

export const IPV6_HEADER_LENGTH = 40;
export const NEXT_HEADER_ICMPV6 = 58;
/** ND messages are sent with, and only accepted with, hop limit 255 (RFC 4861 §6.1, §7.1). */
export const ND_HOP_LIMIT = 255;

export const ICMPV6_NEIGHBOR_SOLICITATION = 135;
export const ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;
/** Type, code, checksum, 4 reserved/flag bytes and the 16-byte target. */
export const ND_MIN_LENGTH = 24;

export const ND_OPT_SOURCE_LINK_LAYER = 1;
export const ND_OPT_TARGET_LINK_LAYER = 2;

const NA_FLAG_ROUTER = 0x80;
const NA_FLAG_SOLICITED = 0x40;
const NA_FLAG_OVERRIDE = 0x20;

export const UNSPECIFIED: IP = { family: 6, value: 0n };
/** ff02::1 */
export const ALL_NODES: IP = { family: 6, value: (0xff02n << 112n) | 1n };
const SOLICITED_NODE_PREFIX = 0xff02_0000_0000_0000_0000_0001_ff00_0000n; // ff02::1:ff00:0
const LOW_24 = (1n << 24n) - 1n;

export const isIPv6Multicast = (ip: IP): boolean => ip.family === 6 && ip.value >> 120n === 0xffn;
export const isUnspecified = (ip: IP): boolean => ip.family === 6 && ip.value === 0n;

/** ff02::1:ffXX:XXXX, from the low 24 bits of `ip`. */
export function solicitedNodeMulticast(ip: IP): IP {
  if (ip.family !== 6) throw new RangeError("solicited-node multicast is an IPv6 concept");
  return { family: 6, value: SOLICITED_NODE_PREFIX | (ip.value & LOW_24) };
}

/** True for any address in ff02::1:ff00:0/104. */
export const isSolicitedNodeMulticast = (ip: IP): boolean =>
  ip.family === 6 && ip.value >> 24n === SOLICITED_NODE_PREFIX >> 24n;

/** 33:33:ff:XX:XX:XX for the solicited-node group of `ip`. */
export const solicitedNodeMAC = (ip: IP): Buffer => ipv6MulticastMAC(solicitedNodeMulticast(ip));

// ---------------------------------------------------------------------------------------
// IPv6 header

export interface IPv6Packet {
  readonly trafficClass: number;
  readonly flowLabel: number;
  readonly nextHeader: number;
  readonly hopLimit: number;
  readonly src: IP;
  readonly dst: IP;
  /** Exactly `payload length` bytes; Ethernet padding after it is dropped. */
  readonly payload: Buffer;
}

/** Decodes a fixed IPv6 header; undefined if not version 6 or truncated. Jumbograms are not supported. */
export function decodeIPv6(buf: Buffer): IPv6Packet | undefined {
  if (buf.length < IPV6_HEADER_LENGTH) return undefined;
  const word = buf.readUInt32BE(0);
  if (word >>> 28 !== 6) return undefined;
  const payloadLength = buf.readUInt16BE(4);
  if (buf.length < IPV6_HEADER_LENGTH + payloadLength) return undefined;
  return {
    trafficClass: (word >>> 20) & 0xff,
    flowLabel: word & 0xfffff,
    nextHeader: buf[6],
    hopLimit: buf[7],
    src: ipFromBytes(buf.subarray(8, 24)),
    dst: ipFromBytes(buf.subarray(24, 40)),
    payload: buf.subarray(IPV6_HEADER_LENGTH, IPV6_HEADER_LENGTH + payloadLength),
  };
}

export interface IPv6PacketInput {
  readonly trafficClass?: number;
  readonly flowLabel?: number;
  readonly nextHeader: number;
  readonly hopLimit: number;
  readonly src: IP;
  readonly dst: IP;
  readonly payload: Uint8Array;
}

export function encodeIPv6(p: IPv6PacketInput): Buffer {
  if (p.src.family !== 6 || p.dst.family !== 6) throw new RangeError("IPv6 header needs IPv6 addresses");
  if (p.payload.length > 0xffff) throw new RangeError("IPv6 payload too long");
  const out = Buffer.alloc(IPV6_HEADER_LENGTH + p.payload.length);
  const word = ((6 << 28) | (((p.trafficClass ?? 0) & 0xff) << 20) | ((p.flowLabel ?? 0) & 0xfffff)) >>> 0;
  out.writeUInt32BE(word, 0);
  out.writeUInt16BE(p.payload.length, 4);
  out[6] = p.nextHeader;
  out[7] = p.hopLimit;
  out.set(ipToBytes(p.src), 8);
  out.set(ipToBytes(p.dst), 24);
  out.set(p.payload, IPV6_HEADER_LENGTH);
  return out;
}

// ---------------------------------------------------------------------------------------
// ICMPv6 checksum

function sum16(acc: number, bytes: Uint8Array): number {
  let s = acc;
  const even = bytes.length & ~1;
  for (let i = 0; i < even; i += 2) s += (bytes[i] << 8) | bytes[i + 1];
  if (bytes.length & 1) s += bytes[bytes.length - 1] << 8;
  return s;
}

function fold(s: number): number {
  let v = s;
  while (v > 0xffff) v = (v & 0xffff) + Math.floor(v / 0x10000);
  return v;
}

/** One's-complement sum of the pseudo-header (src, dst, upper-layer length, next header 58) and `message`. */
function pseudoHeaderSum(src: IP, dst: IP, message: Uint8Array): number {
  const pseudo = Buffer.alloc(40);
  pseudo.set(ipToBytes(src), 0);
  pseudo.set(ipToBytes(dst), 16);
  pseudo.writeUInt32BE(message.length, 32);
  pseudo[39] = NEXT_HEADER_ICMPV6;
  return fold(sum16(sum16(0, pseudo), message));
}

/**
 * The ICMPv6 checksum for `message` between `src` and `dst`, computed as if the
 * checksum field (bytes 2-3) were zero, whatever it holds.
 */
export function icmpv6Checksum(src: IP, dst: IP, message: Uint8Array): number {
  if (message.length < 4) throw new RangeError("ICMPv6 message shorter than its header");
  const copy = Buffer.from(message);
  copy[2] = 0;
  copy[3] = 0;
  return ~pseudoHeaderSum(src, dst, copy) & 0xffff;
}

/** True when the checksum stored in `message` is correct for `src` → `dst`. */
export function verifyIcmpv6Checksum(src: IP, dst: IP, message: Uint8Array): boolean {
  return message.length >= 4 && pseudoHeaderSum(src, dst, message) === 0xffff;
}

// ---------------------------------------------------------------------------------------
// Neighbor Solicitation / Advertisement

export interface NdOption {
  readonly type: number;
  /** The option body after the type and length bytes (length*8 - 2 bytes). */
  readonly data: Buffer;
}

interface NdCommon {
  readonly code: number;
  readonly checksum: number;
  readonly target: IP;
  readonly options: readonly NdOption[];
}

export interface NeighborSolicitation extends NdCommon {
  readonly type: typeof ICMPV6_NEIGHBOR_SOLICITATION;
  readonly sourceLinkLayer?: Buffer;
}

export interface NeighborAdvertisement extends NdCommon {
  readonly type: typeof ICMPV6_NEIGHBOR_ADVERTISEMENT;
  readonly router: boolean;
  readonly solicited: boolean;
  readonly override: boolean;
  readonly targetLinkLayer?: Buffer;
}

export type NdMessage = NeighborSolicitation | NeighborAdvertisement;

/** Parses the TLV options; undefined if any has length 0 or runs past the end (RFC 4861 §4.6). */
export function decodeNdOptions(buf: Buffer): NdOption[] | undefined {
  const out: NdOption[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < 2) return undefined;
    const len = buf[off + 1] * 8;
    if (len === 0 || off + len > buf.length) return undefined;
    out.push({ type: buf[off], data: buf.subarray(off + 2, off + len) });
    off += len;
  }
  return out;
}

/** A link-layer address option for Ethernet: type, length 1 (8 bytes), MAC. */
export function linkLayerOption(
  type: typeof ND_OPT_SOURCE_LINK_LAYER | typeof ND_OPT_TARGET_LINK_LAYER,
  mac: Uint8Array,
): Buffer {
  if (mac.length !== MAC_LENGTH) throw new RangeError("Ethernet link-layer option carries a 6-byte MAC");
  const out = Buffer.alloc(8);
  out[0] = type;
  out[1] = 1;
  out.set(mac, 2);
  return out;
}

const linkLayerAddress = (options: readonly NdOption[], type: number): Buffer | undefined => {
  const opt = options.find((o) => o.type === type);
  return opt && opt.data.length >= MAC_LENGTH ? Buffer.from(opt.data.subarray(0, MAC_LENGTH)) : undefined;
};

/**
 * Decodes an ICMPv6 NS or NA (the IPv6 payload). Structure only: undefined for other
 * types, messages shorter than 24 bytes and malformed options. The checksum, code and
 * hop limit are reported, not judged; see `responder.ts` for the validity rules.
 */
export function decodeNdMessage(icmp: Buffer): NdMessage | undefined {
  if (icmp.length < ND_MIN_LENGTH) return undefined;
  const type = icmp[0];
  if (type !== ICMPV6_NEIGHBOR_SOLICITATION && type !== ICMPV6_NEIGHBOR_ADVERTISEMENT) return undefined;
  const options = decodeNdOptions(icmp.subarray(ND_MIN_LENGTH));
  if (!options) return undefined;
  const common = { code: icmp[1], checksum: icmp.readUInt16BE(2), target: ipFromBytes(icmp.subarray(8, 24)), options };
  if (type === ICMPV6_NEIGHBOR_SOLICITATION) {
    return { type, ...common, sourceLinkLayer: linkLayerAddress(options, ND_OPT_SOURCE_LINK_LAYER) };
  }
  const flags = icmp[4];
  return {
    type,
    ...common,
    router: (flags & NA_FLAG_ROUTER) !== 0,
    solicited: (flags & NA_FLAG_SOLICITED) !== 0,
    override: (flags & NA_FLAG_OVERRIDE) !== 0,
    targetLinkLayer: linkLayerAddress(options, ND_OPT_TARGET_LINK_LAYER),
  };
}

function ndMessage(src: IP, dst: IP, type: number, flags: number, target: IP, options: readonly Uint8Array[]): Buffer {
  if (target.family !== 6) throw new RangeError("ND target must be an IPv6 address");
  const optLength = options.reduce((n, o) => n + o.length, 0);
  const out = Buffer.alloc(ND_MIN_LENGTH + optLength);
  out[0] = type;
  out[1] = 0;
  out[4] = flags;
  out.set(ipToBytes(target), 8);
  let off = ND_MIN_LENGTH;
  for (const o of options) {
    out.set(o, off);
    off += o.length;
  }
  out.writeUInt16BE(icmpv6Checksum(src, dst, out), 2);
  return out;
}

export interface NeighborSolicitationInput {
  readonly src: IP;
  readonly dst: IP;
  readonly target: IP;
  /** Omit for a DAD probe (source ::), which must not carry one. */
  readonly sourceLinkLayer?: Uint8Array;
}

/** An NS ICMPv6 message with a valid checksum for src → dst. */
export function encodeNeighborSolicitation(ns: NeighborSolicitationInput): Buffer {
  const opts = ns.sourceLinkLayer ? [linkLayerOption(ND_OPT_SOURCE_LINK_LAYER, ns.sourceLinkLayer)] : [];
  return ndMessage(ns.src, ns.dst, ICMPV6_NEIGHBOR_SOLICITATION, 0, ns.target, opts);
}

export interface NeighborAdvertisementInput {
  readonly src: IP;
  readonly dst: IP;
  readonly target: IP;
  readonly router?: boolean;
  readonly solicited: boolean;
  readonly override: boolean;
  readonly targetLinkLayer?: Uint8Array;
}

/** An NA ICMPv6 message with a valid checksum for src → dst. */
export function encodeNeighborAdvertisement(na: NeighborAdvertisementInput): Buffer {
  const flags =
    (na.router ? NA_FLAG_ROUTER : 0) | (na.solicited ? NA_FLAG_SOLICITED : 0) | (na.override ? NA_FLAG_OVERRIDE : 0);
  const opts = na.targetLinkLayer ? [linkLayerOption(ND_OPT_TARGET_LINK_LAYER, na.targetLinkLayer)] : [];
  return ndMessage(na.src, na.dst, ICMPV6_NEIGHBOR_ADVERTISEMENT, flags, na.target, opts);
}

/** Wraps an ND message in IPv6 (hop limit 255) and Ethernet. */
export function ndFrame(ethDst: Uint8Array, ethSrc: Uint8Array, src: IP, dst: IP, icmp: Uint8Array): Buffer {
  const ip = encodeIPv6({ nextHeader: NEXT_HEADER_ICMPV6, hopLimit: ND_HOP_LIMIT, src, dst, payload: icmp });
  return encodeEthernet({ dst: ethDst, src: ethSrc, etherType: ETHERTYPE_IPV6, payload: ip });
}

/**
 * A Neighbor Advertisement frame for `target` at `mac`. The IPv6 source is the target
 * itself, so that tools which match the NA source against the target (ndisc6) accept it.
 */
export function neighborAdvertisementFrame(a: {
  readonly ethDst: Uint8Array;
  readonly ipDst: IP;
  readonly target: IP;
  readonly mac: Uint8Array;
  readonly solicited: boolean;
  readonly override: boolean;
}): Buffer {
  const icmp = encodeNeighborAdvertisement({
    src: a.target,
    dst: a.ipDst,
    target: a.target,
    solicited: a.solicited,
    override: a.override,
    targetLinkLayer: a.mac,
  });
  return ndFrame(a.ethDst, a.mac, a.target, a.ipDst, icmp);
}

/** Unsolicited NA to all-nodes ff02::1: Override set, Solicited clear (RFC 4861 §7.2.6). */
export function unsolicitedNeighborAdvertisementFrame(target: IP, mac: Uint8Array): Buffer {
  return neighborAdvertisementFrame({
    ethDst: ipv6MulticastMAC(ALL_NODES),
    ipDst: ALL_NODES,
    target,
    mac,
    solicited: false,
    override: true,
  });
}

/** A multicast NS for `target` to its solicited-node group (used by tests and probes). */
export function neighborSolicitationFrame(src: IP, srcMac: Uint8Array, target: IP): Buffer {
  const dst = solicitedNodeMulticast(target);
  const icmp = encodeNeighborSolicitation({
    src,
    dst,
    target,
    sourceLinkLayer: isUnspecified(src) ? undefined : srcMac,
  });
  return ndFrame(solicitedNodeMAC(target), srcMac, src, dst, icmp);
}
