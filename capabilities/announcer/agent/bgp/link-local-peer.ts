/**
 * Finds the router at the other end of an unnumbered BGP interface (BGPPeer spec.interface)
 * and lets it find us, the way FRR does: both sides send IPv6 Router Advertisements on the
 * link and take the other's link-local address from the source of the RAs they receive
 * (router-advertisement.ts; RFC 4861 §4.2, §6.1.2). One finder per interface.
 *
 * Choices:
 * - We send an RA at start and every intervalMs (±10% jitter so nodes do not send in
 *   step, and never closer than MIN_DELAY_BETWEEN_RAS, 3 s, RFC 4861 §10), and at once when
 *   a new router appears, so that it learns us without waiting for the next interval.
 *   RFC 4861 §6.2.4 says a host MUST NOT send RAs; FRR's unnumbered peering needs one,
 *   and ours has Router Lifetime 0 and no options, so hosts take nothing from it (§6.3.4).
 * - Any valid RA not from our own address can name the router, whatever its lifetime: FRR
 *   can be told to advertise lifetime 0 too. An unnumbered link is point to point, so the
 *   latest sender wins, with one exception (preferredRouter): a sender with a router
 *   lifetime is not replaced by one without, which is what other nodes' agents send when
 *   a link is shared after all. The peer is kept until another router appears or stop():
 *   a router's link-local address is stable, and the BGP hold timer detects a dead router.
 * - A kernel filter (ROUTER_ADVERTISEMENT_FILTER) passes only hop-limit-255 ICMPv6 type
 *   134, so other IPv6 traffic on the link never wakes the agent. All-nodes ff02::1 needs
 *   no multicast join: the kernel joins it on every IPv6-enabled interface.
 * - A missing interface, MAC or link-local address is logged once per distinct problem
 *   and retried every interval (the interface may appear later); a failed open or send
 *   closes the socket so that the next attempt binds to a recreated interface.
 */
import { networkInterfaces, type NetworkInterfaceInfo } from "node:os";
import { formatIP, ipEquals, parseIP, type IP } from "../../../shared/net/ip";
import { ACCEPT, JEQ_K, LD_B_ABS, LD_H_ABS, RET_K } from "../bpf";
import { ETHERTYPE_IPV6 } from "../l2/ethernet";
import { formatMAC, macEquals } from "../l2/mac";
import {
  ARPHRD_ETHER,
  closePacket,
  interfaceInfo,
  openPacket,
  sendPacket,
  type BpfInstruction,
  type PacketHandle,
} from "../native";
import { isLinkLocalIPv6, parseRouterAdvertisement, routerAdvertisementFrame } from "./router-advertisement";

export const DEFAULT_INTERVAL_MS = 10_000;
/** RFC 4861 §10: multicast RAs from one interface are at least this far apart. */
export const MIN_DELAY_BETWEEN_RAS_MS = 3_000;
const JITTER = 0.1;

/**
 * Keeps only untagged IPv6 (EtherType at 12) ICMPv6 (next header at 20) with hop limit 255
 * (at 21, RFC 4861 §6.1.2) of type 134 (at 54, right after the fixed IPv6 header). It is
 * what `tcpdump -y EN10MB -dd 'ip6 and ip6[6] == 58 and ip6[7] == 255 and ip6[40] == 134'`
 * compiles to.
 */
export const ROUTER_ADVERTISEMENT_FILTER: readonly BpfInstruction[] = [
  [LD_H_ABS, 0, 0, 12],
  [JEQ_K, 0, 7, ETHERTYPE_IPV6],
  [LD_B_ABS, 0, 0, 20],
  [JEQ_K, 0, 5, 58],
  [LD_B_ABS, 0, 0, 21],
  [JEQ_K, 0, 3, 255],
  [LD_B_ABS, 0, 0, 54],
  [JEQ_K, 0, 1, 134],
  [RET_K, 0, 0, ACCEPT],
  [RET_K, 0, 0, 0],
];

export interface LinkLocalPeer {
  /** The router's link-local address (no zone: the interface is the finder's). */
  readonly address: IP;
  readonly mac: Buffer;
  /** Seconds, as its last RA said; 0 for a sender that does not offer to be a default router. */
  readonly routerLifetime: number;
}

/**
 * Which sender names the router: the latest, unless it advertises no router lifetime and
 * the current one does (an agent on a shared link does not displace the router).
 */
export function preferredRouter(current: LinkLocalPeer | undefined, heard: LinkLocalPeer): LinkLocalPeer {
  if (!current || ipEquals(current.address, heard.address)) return heard;
  return heard.routerLifetime === 0 && current.routerLifetime > 0 ? current : heard;
}

export type PeerListener = (peer: LinkLocalPeer | undefined) => void;
export type LogLevel = "info" | "warn" | "debug";
export type Timer = ReturnType<typeof setTimeout>;

/** The finder's contact with the system; replaced in unit tests. */
export interface LinkLocalPeerIO {
  open(ifname: string, onFrame: (frame: Buffer) => void, filter: readonly BpfInstruction[]): PacketHandle;
  send(handle: PacketHandle, frame: Uint8Array): void;
  close(handle: PacketHandle): void;
  /** The interface's MAC; throws when it is missing or not Ethernet. */
  interfaceMac(ifname: string): Buffer;
  linkLocalOf(ifname: string): IP | undefined;
  timers: { setTimeout(fn: () => void, ms: number): Timer; clearTimeout(timer: Timer): void };
  /** Milliseconds, for the RA rate limit. */
  now(): number;
  /** [0, 1), for the jitter. */
  random(): number;
}

export interface LinkLocalPeerOptions {
  readonly log: (level: LogLevel, msg: string) => void;
  /** Between our RAs; at least MIN_DELAY_BETWEEN_RAS_MS. */
  readonly intervalMs?: number;
  readonly io?: Partial<LinkLocalPeerIO>;
}

/** The first link-local IPv6 address Node reports on `ifname` (Node omits the %zone). */
export function linkLocalAddressOf(
  ifname: string,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): IP | undefined {
  for (const entry of interfaces[ifname] ?? []) {
    const ip = entry.family === "IPv6" ? parseIP(entry.address) : undefined;
    if (ip && isLinkLocalIPv6(ip)) return ip;
  }
  return undefined;
}

function ethernetMac(ifname: string): Buffer {
  const info = interfaceInfo(ifname);
  if (info.type !== ARPHRD_ETHER) throw new Error(`${ifname} is not an Ethernet interface (ARPHRD ${info.type})`);
  return info.mac;
}

const nativeIO: LinkLocalPeerIO = {
  open: (ifname, onFrame, filter) => openPacket(ifname, ETHERTYPE_IPV6, onFrame, filter),
  send: (handle, frame) => {
    sendPacket(handle, frame);
  },
  close: closePacket,
  interfaceMac: ethernetMac,
  linkLocalOf: (ifname) => linkLocalAddressOf(ifname),
  // Looked up at each call, so that Jest's fake timers apply.
  timers: { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (timer) => clearTimeout(timer) },
  now: () => Date.now(),
  random: () => Math.random(),
};

const samePeer = (a: LinkLocalPeer, b: LinkLocalPeer): boolean =>
  ipEquals(a.address, b.address) && macEquals(a.mac, b.mac);

const describePeer = (p: LinkLocalPeer): string => `${formatIP(p.address)} (${formatMAC(p.mac)})`;

export class LinkLocalPeerFinder {
  private readonly io: LinkLocalPeerIO;
  private readonly intervalMs: number;
  private readonly listeners = new Set<PeerListener>();
  private running = false;
  private handle?: PacketHandle;
  private timer?: Timer;
  private ownAddress?: IP;
  private lastSentAt?: number;
  private current?: LinkLocalPeer;
  /** The last status logged, so that a persisting problem is logged once. */
  private status?: string;

  constructor(
    readonly ifname: string,
    private readonly options: LinkLocalPeerOptions,
  ) {
    this.io = { ...nativeIO, ...options.io };
    this.intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
    if (!Number.isFinite(this.intervalMs) || this.intervalMs < MIN_DELAY_BETWEEN_RAS_MS) {
      throw new RangeError(`router advertisement interval must be at least ${MIN_DELAY_BETWEEN_RAS_MS} ms`);
    }
  }

  /** The router last heard on the interface, if any. */
  get peer(): LinkLocalPeer | undefined {
    return this.current;
  }

  /** Calls `listener` when the router appears or changes, and with undefined on stop(); returns an unsubscribe. */
  onPeer(listener: PeerListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.advertise();
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    if (this.timer !== undefined) this.io.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.closeSocket();
    this.ownAddress = undefined;
    this.lastSentAt = undefined;
    this.status = undefined;
    if (this.current) {
      this.current = undefined;
      this.emit(undefined);
    }
  }

  /** Sends an RA now and schedules the next one. */
  private advertise(): void {
    const problem = this.sendAdvertisement();
    if (problem) this.report("warn", `${problem}; retrying every ${this.intervalMs / 1000}s`);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined) this.io.timers.clearTimeout(this.timer);
    const jittered = this.intervalMs * (1 + JITTER * (2 * this.io.random() - 1));
    const delay = Math.max(MIN_DELAY_BETWEEN_RAS_MS, Math.round(jittered));
    this.timer = this.io.timers.setTimeout(() => {
      this.timer = undefined;
      if (this.running) this.advertise();
    }, delay);
  }

  /** One RA to all-nodes; returns what stopped it, if anything. */
  private sendAdvertisement(): string | undefined {
    try {
      const handle = this.socket();
      const mac = this.io.interfaceMac(this.ifname);
      const address = this.io.linkLocalOf(this.ifname);
      if (!address) return `interface ${this.ifname} has no IPv6 link-local address yet`;
      this.ownAddress = address;
      this.io.send(handle, routerAdvertisementFrame(mac, address));
      this.lastSentAt = this.io.now();
      this.report("info", `sending router advertisements on ${this.ifname} from ${formatIP(address)}`);
      return undefined;
    } catch (err) {
      this.closeSocket();
      return `cannot send router advertisements on ${this.ifname}: ${(err as Error).message}`;
    }
  }

  private socket(): PacketHandle {
    this.handle ??= this.io.open(this.ifname, (frame) => this.onFrame(frame), ROUTER_ADVERTISEMENT_FILTER);
    return this.handle;
  }

  private closeSocket(): void {
    const handle = this.handle;
    this.handle = undefined;
    if (handle) this.io.close(handle);
  }

  private onFrame(frame: Buffer): void {
    if (!this.running) return;
    const ra = parseRouterAdvertisement(frame);
    if (!ra) {
      this.options.log("debug", `ignored an invalid router advertisement on ${this.ifname}`);
      return;
    }
    if (this.ownAddress && ipEquals(ra.source, this.ownAddress)) return;
    this.setPeer(
      preferredRouter(this.current, { address: ra.source, mac: ra.sourceMac, routerLifetime: ra.routerLifetime }),
    );
  }

  private setPeer(peer: LinkLocalPeer): void {
    const previous = this.current;
    this.current = peer; // the same router may change its lifetime: keep the latest
    if (previous && samePeer(previous, peer)) return;
    this.options.log(
      "info",
      previous
        ? `router on ${this.ifname} changed from ${describePeer(previous)} to ${describePeer(peer)}`
        : `router on ${this.ifname} is ${describePeer(peer)}`,
    );
    this.answer(previous, peer);
    this.emit(peer);
  }

  /** A new router hears from us at once, within the RA rate limit (RFC 4861 §10). */
  private answer(previous: LinkLocalPeer | undefined, peer: LinkLocalPeer): void {
    if (previous && ipEquals(previous.address, peer.address)) return;
    if (this.lastSentAt !== undefined && this.io.now() - this.lastSentAt < MIN_DELAY_BETWEEN_RAS_MS) return;
    this.advertise();
  }

  private emit(peer: LinkLocalPeer | undefined): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(peer);
      } catch (err) {
        this.options.log("warn", `a router listener for ${this.ifname} failed: ${(err as Error).message}`);
      }
    }
  }

  /** Logs `msg` unless it is the status already logged. */
  private report(level: LogLevel, msg: string): void {
    if (msg === this.status) return;
    this.status = msg;
    this.options.log(level, msg);
  }
}
