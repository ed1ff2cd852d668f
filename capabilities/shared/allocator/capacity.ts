/**
 * How many addresses a pool can hand out, computed from prefix lengths alone (never by
 * enumerating), with MetalLB's conventions for avoidBuggyIPs and huge IPv6 ranges.
 */
import { cidrFirst, cidrLast, cidrSize, familyBits, type CIDR, type IP } from "../net/ip";

/** math.MaxInt64: what MetalLB reports for IPv6 ranges too large to count in an int64. */
export const MAX_INT64 = (1n << 63n) - 1n;

/** IPv6 CIDRs with this many host bits or more count as MAX_INT64 on their own. */
const HUGE_IPV6_HOST_BITS = 62;

/** IPv4 addresses ending in .0 or .255, which some old network gear mistakes for broadcast. */
export function isBuggyIP(ip: IP): boolean {
  return ip.family === 4 && isBuggyIPv4Value(ip.value);
}

export function isBuggyIPv4Value(value: bigint): boolean {
  const lastOctet = value & 0xffn;
  return lastOctet === 0n || lastOctet === 0xffn;
}

/** Addresses in one CIDR the pool may hand out. */
export function cidrCapacity(cidr: CIDR, avoidBuggyIPs: boolean): bigint {
  const size = cidrSize(cidr);
  if (!avoidBuggyIPs || cidr.family !== 4) return size;
  // A /24 or larger holds exactly one .0 and one .255 per /24; a smaller block can hold at
  // most one of them, at its first or last address.
  if (cidr.prefixLength <= 24) return size - 2n * (size / 256n);
  const buggyEnds = [cidrFirst(cidr), cidrLast(cidr)].filter(isBuggyIP).length;
  return size - BigInt(cidr.prefixLength === 32 ? Math.min(buggyEnds, 1) : buggyEnds);
}

/** Capacity per family of a list of CIDRs; IPv6 saturates at MAX_INT64 like MetalLB's status. */
export function poolCapacity(cidrs: readonly CIDR[], avoidBuggyIPs: boolean): { v4: bigint; v6: bigint } {
  let v4 = 0n;
  let v6 = 0n;
  for (const cidr of cidrs) {
    if (cidr.family === 4) {
      v4 += cidrCapacity(cidr, avoidBuggyIPs);
    } else if (familyBits(6) - cidr.prefixLength >= HUGE_IPV6_HOST_BITS) {
      v6 = MAX_INT64;
    } else {
      v6 += cidrCapacity(cidr, avoidBuggyIPs);
    }
  }
  return { v4, v6: v6 > MAX_INT64 ? MAX_INT64 : v6 };
}
