/**
 * Which interfaces the L2 responder listens on. MetalLB's rules (reference/metallb.md §5.2):
 * Ethernet, up, ARP-capable, not enslaved to a bond or bridge, name not excluded. In a lab
 * (or with unusual NIC names) METALLB_L2_INTERFACES pins the list instead.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const IFF_UP = 0x1;
const IFF_NOARP = 0x80;
const ARPHRD_ETHER = 1;

export interface LinkFacts {
  name: string;
  /** ARPHRD_* */
  type: number;
  flags: number;
  /** Enslaved to a bond or bridge. */
  hasMaster: boolean;
}

/** Pure: the usable interface names among `links`, sorted. */
export function usableInterfaces(
  links: readonly LinkFacts[],
  exclude: readonly RegExp[],
  pinned?: readonly string[],
): string[] {
  if (pinned)
    return links
      .filter((l) => pinned.includes(l.name))
      .map((l) => l.name)
      .sort();
  return links
    .filter((l) => l.type === ARPHRD_ETHER && (l.flags & IFF_UP) !== 0 && (l.flags & IFF_NOARP) === 0 && !l.hasMaster)
    .filter((l) => !exclude.some((r) => r.test(l.name)))
    .map((l) => l.name)
    .sort();
}

/** The links of this network namespace, from /sys/class/net. */
export function readLinks(root = "/sys/class/net"): LinkFacts[] {
  const out: LinkFacts[] = [];
  for (const name of readdirSync(root)) {
    try {
      const dir = join(root, name);
      out.push({
        name,
        type: Number(readFileSync(join(dir, "type"), "utf8").trim()),
        flags: Number.parseInt(readFileSync(join(dir, "flags"), "utf8").trim(), 16),
        hasMaster: existsSync(join(dir, "master")),
      });
    } catch {
      // The link went away while we looked.
    }
  }
  return out;
}
