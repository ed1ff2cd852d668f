/**
 * Addresses no IPAddressPool may hold: a Service given one could never be reached
 * from outside its node, whatever the network looks like. Pure.
 */
import { cidrsOverlap, formatCIDR, parseCIDR, type CIDR } from "../net/ip";

interface AddressClass {
  readonly cidr: CIDR;
  /** Fits "overlaps <what>". */
  readonly what: string;
}

const klass = (text: string, what: string): AddressClass => ({ cidr: parseCIDR(text)!, what });

/**
 * Deliberately absent: private space (RFC 1918, fc00::/7), shared address space
 * 100.64.0.0/10 and 240.0.0.0/4, which some networks route on purpose, and the
 * documentation prefixes our own examples use. Subnet-broadcast style .0/.255
 * addresses are avoidBuggyIPs' business.
 */
const REFUSED: readonly AddressClass[] = [
  klass("0.0.0.0/8", `the "this network" block 0.0.0.0/8, which holds the unspecified address 0.0.0.0`),
  klass("127.0.0.0/8", "loopback addresses 127.0.0.0/8, which never leave a host"),
  klass("169.254.0.0/16", "link-local addresses 169.254.0.0/16, which routers do not forward"),
  klass("224.0.0.0/4", "multicast addresses 224.0.0.0/4, which name groups of receivers, not a host"),
  klass("255.255.255.255/32", "the limited broadcast address 255.255.255.255"),
  klass("::/128", "the unspecified address ::"),
  klass("::1/128", "the loopback address ::1, which never leaves a host"),
  // Never on the wire (RFC 4291 2.5.5.2), and Kubernetes (Go's net package) reads
  // ::ffff:192.0.2.1 as the IPv4 address 192.0.2.1: a Service of family IPv6 given one
  // would be published with an address of the wrong family.
  klass("::ffff:0:0/96", "IPv4-mapped addresses ::ffff:0:0/96, which Kubernetes reads as IPv4"),
  klass("fe80::/10", "link-local addresses fe80::/10, which routers do not forward"),
  klass("ff00::/8", "multicast addresses ff00::/8, which name groups of receivers, not a host"),
];

const EXAMPLE = { 4: `"192.0.2.0/24"`, 6: `"2001:db8:1::/120"` } as const;

/**
 * Why a pool entry (its CIDRs, one contiguous block) may not be used, as the rest of a
 * sentence that starts with the entry and ends with the fix; undefined when it may.
 */
export function refusedAddressClass(cidrs: readonly CIDR[]): string | undefined {
  if (cidrs.length === 0) return undefined;
  const family = cidrs[0].family;
  // A prefix of length 0 (or a range that sums to one) is every address of the family.
  if (cidrs.some((c) => c.prefixLength === 0)) {
    return `covers the whole IPv${family} address space; list only the addresses Services may receive, such as ${EXAMPLE[family]}`;
  }
  const hit = REFUSED.find((k) => cidrs.some((c) => cidrsOverlap(c, k.cidr)));
  if (!hit) return undefined;
  return `overlaps ${hit.what}; use addresses outside ${formatCIDR(hit.cidr)} that reach the cluster's nodes, such as ${EXAMPLE[family]}`;
}
