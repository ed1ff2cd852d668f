/**
 * IP address math on bigints: one representation for IPv4 and IPv6 so that
 * pools, allocation, BGP prefixes and ARP/NDP share the same arithmetic.
 * Pure: no I/O, no Kubernetes.
 */
import { isIPv4, isIPv6 } from "node:net";

export type Family = 4 | 6;

export interface IP {
  readonly family: Family;
  readonly value: bigint;
}

export interface CIDR {
  readonly family: Family;
  /** The network address (host bits zero). */
  readonly base: bigint;
  readonly prefixLength: number;
}

export const familyBits = (family: Family): number => (family === 4 ? 32 : 128);

/** Parses a textual IPv4 or IPv6 address (no zone, no prefix); undefined if malformed. */
export function parseIP(text: string): IP | undefined {
  const s = text.trim();
  if (isIPv4(s)) {
    const value = s.split(".").reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
    return { family: 4, value };
  }
  if (isIPv6(s) && !s.includes("%")) return { family: 6, value: parseIPv6(s) };
  return undefined;
}

/**
 * parseIP for addresses as sockets report them: an IPv6 link-local address may carry its
 * zone ("fe80::1%eth1", RFC 4007 §11), which is dropped.
 */
export const parseZonedIP = (text: string): IP | undefined => parseIP(text.replace(/%[^%]*$/, ""));

function parseIPv6(s: string): bigint {
  let text = s;
  // An embedded dotted quad (::ffff:1.2.3.4) becomes two hex groups.
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    const v4 = parseIP(tail)!.value;
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, rest] = text.split("::");
  const headGroups = head ? head.split(":") : [];
  const restGroups = rest ? rest.split(":") : [];
  const missing = 8 - headGroups.length - restGroups.length;
  const groups = rest === undefined ? headGroups : [...headGroups, ...Array<string>(missing).fill("0"), ...restGroups];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lowercase, longest zero run compressed). */
export function formatIP(ip: IP): string {
  if (ip.family === 4) {
    return [24n, 16n, 8n, 0n].map((shift) => ((ip.value >> shift) & 0xffn).toString()).join(".");
  }
  const groups = Array.from({ length: 8 }, (_, i) => Number((ip.value >> BigInt(112 - 16 * i)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

/** Network-order bytes: 4 for IPv4, 16 for IPv6. */
export function ipToBytes(ip: IP): Buffer {
  const len = ip.family === 4 ? 4 : 16;
  const out = Buffer.alloc(len);
  let v = ip.value;
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Inverse of ipToBytes; the length (4 or 16) decides the family. */
export function ipFromBytes(bytes: Uint8Array): IP {
  if (bytes.length !== 4 && bytes.length !== 16)
    throw new RangeError(`an IP address has 4 or 16 bytes, got ${bytes.length}`);
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  return { family: bytes.length === 4 ? 4 : 6, value };
}

export const ipEquals = (a: IP, b: IP): boolean => a.family === b.family && a.value === b.value;

export function hostMask(family: Family, prefixLength: number): bigint {
  return (1n << BigInt(familyBits(family) - prefixLength)) - 1n;
}

/** Parses "addr/len"; rejects host bits set only when strict (MetalLB accepts them and masks). */
export function parseCIDR(text: string): CIDR | undefined {
  const s = text.trim();
  const slash = s.indexOf("/");
  if (slash < 0) return undefined;
  const ip = parseIP(s.slice(0, slash));
  const lenText = s.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(lenText)) return undefined;
  const prefixLength = Number(lenText);
  if (prefixLength > familyBits(ip.family)) return undefined;
  return { family: ip.family, base: ip.value & ~hostMask(ip.family, prefixLength), prefixLength };
}

export const formatCIDR = (c: CIDR): string => `${formatIP({ family: c.family, value: c.base })}/${c.prefixLength}`;

export const cidrFirst = (c: CIDR): IP => ({ family: c.family, value: c.base });
export const cidrLast = (c: CIDR): IP => ({ family: c.family, value: c.base | hostMask(c.family, c.prefixLength) });
export const cidrSize = (c: CIDR): bigint => 1n << BigInt(familyBits(c.family) - c.prefixLength);

export function cidrContains(c: CIDR, ip: IP): boolean {
  return c.family === ip.family && (ip.value & ~hostMask(c.family, c.prefixLength)) === c.base;
}

export function cidrsOverlap(a: CIDR, b: CIDR): boolean {
  if (a.family !== b.family) return false;
  const shorter = a.prefixLength <= b.prefixLength ? a : b;
  const longer = shorter === a ? b : a;
  return cidrContains(shorter, { family: longer.family, value: longer.base });
}

/** The minimal list of CIDRs covering [start, end] exactly, in ascending order. */
export function rangeToCIDRs(start: IP, end: IP): CIDR[] {
  if (start.family !== end.family) throw new RangeError("range ends are of different families");
  const bits = familyBits(start.family);
  const out: CIDR[] = [];
  let cur = start.value;
  while (cur <= end.value) {
    // Largest block aligned at cur that does not pass end.
    let size = cur === 0n ? 1n << BigInt(bits) : cur & -cur;
    while (cur + size - 1n > end.value) size >>= 1n;
    const hostBits = size.toString(2).length - 1;
    out.push({ family: start.family, base: cur, prefixLength: bits - hostBits });
    cur += size;
  }
  return out;
}
