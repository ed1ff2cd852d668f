/**
 * The Link Bandwidth Extended Community (RFC 10005), which routers use to split traffic
 * over equal-cost paths in proportion to the values (weighted ECMP).
 *
 * Choices:
 * - Transitive Two-Octet AS-Specific type (0x00, sub-type 0x04). RFC 10005 allows the
 *   non-transitive type too, but FRR releases before 10.5 ignore a non-transitive one
 *   received over eBGP (FRR PR #20607), and eBGP to a ToR is the common case.
 * - Global Administrator: our AS, or AS_TRANS when it needs four octets (RFC 6793 §9:
 *   the 2-octet fields of other attributes carry AS_TRANS then).
 * - Local Administrator: the bandwidth in bytes per second as an IEEE 754 single (RFC 10005 §2).
 */
import { AS_TRANS } from "./messages";

const TRANSITIVE_TWO_OCTET_AS = 0x00;
const LINK_BANDWIDTH = 0x04;

export function linkBandwidthCommunity(localAS: number, bytesPerSecond: number): bigint {
  const b = Buffer.alloc(8);
  b.writeUInt8(TRANSITIVE_TWO_OCTET_AS, 0);
  b.writeUInt8(LINK_BANDWIDTH, 1);
  b.writeUInt16BE(localAS > 0xffff ? AS_TRANS : localAS, 2);
  b.writeFloatBE(bytesPerSecond, 4);
  return b.readBigUInt64BE(0);
}

/** The bandwidth a link bandwidth community carries, or undefined for another community. */
export function linkBandwidthOf(community: bigint): { as: number; bytesPerSecond: number } | undefined {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(community, 0);
  if ((b.readUInt8(0) & 0xbf) !== TRANSITIVE_TWO_OCTET_AS || b.readUInt8(1) !== LINK_BANDWIDTH) return undefined;
  return { as: b.readUInt16BE(2), bytesPerSecond: b.readFloatBE(4) };
}
