/**
 * The next hop for routes of the other IP family than a session's transport
 * (BGPPeer dualStackAddressFamily): the node's address of that family on the interface
 * the session runs over. Without it the router would get IPv6 routes with no IPv6 next
 * hop to forward to. Pure choice over an interface list; the list is read at the edge.
 */
import { networkInterfaces, type NetworkInterfaceInfo } from "node:os";
import { parseIP, type Family, type IP } from "../../../shared/net/ip";

/** Finds the node's address of `family` beside `local` (the session's own address). */
export type HostAddresses = (local: IP, family: Family) => IP | undefined;

/** Link-local (fe80::/10, 169.254/16) cannot be a next hop a router resolves without an interface. */
function linkLocal(ip: IP): boolean {
  if (ip.family === 6) return ip.value >> 118n === 0x3fan;
  return ip.value >> 16n === 0xa9fen;
}

/**
 * The first usable address of `family` on the interface holding `local`, in the order
 * the kernel lists them (the primary first); undefined if there is none.
 */
export function sameInterfaceAddress(
  interfaces: Readonly<Record<string, readonly NetworkInterfaceInfo[] | undefined>>,
  local: IP,
  family: Family,
): IP | undefined {
  for (const addresses of Object.values(interfaces)) {
    const list = addresses ?? [];
    const holds = list.some((a) => {
      const ip = parseIP(a.address);
      return ip !== undefined && ip.family === local.family && ip.value === local.value;
    });
    if (!holds) continue;
    for (const a of list) {
      const ip = parseIP(a.address);
      if (ip && ip.family === family && !a.internal && !linkLocal(ip)) return ip;
    }
    return undefined;
  }
  return undefined;
}

/** The host's interfaces as the process sees them now (the node's, on the host network). */
export const osHostAddresses: HostAddresses = (local, family) =>
  sameInterfaceAddress(networkInterfaces(), local, family);
