/**
 * Typed access to the rawnet addon (native/rawnet.c): AF_PACKET sockets for the ARP/NDP
 * responder, TCP_MD5SIG sockets for BGP passwords, and UDP sockets with a socket filter that
 * checks the received TTL for BFD (dgram can neither set one nor read the TTL).
 *
 * The addon is loaded lazily on first use, from (first match wins):
 *   1. $METALLB_PEPR_RAWNET, an absolute path to rawnet.node;
 *   2. build/Release/rawnet.node or rawnet.node in this file's directory or any parent,
 *      which covers both the source tree (capabilities/announcer/agent/ -> repo root) and
 *      an esbuild bundle (dist/agent.js -> package root, or the addon copied beside it).
 * Build it with hack/build-native.sh.
 */
import { existsSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { dirname, join, resolve } from "node:path";
import { ACCEPT, JEQ_K, LD_B_ABS, LD_H_ABS, RET_K } from "./bpf";

export const ADDON_ENV = "METALLB_PEPR_RAWNET";
const ADDON_RELATIVE_PATHS = [join("build", "Release", "rawnet.node"), "rawnet.node"];

export const L2_NEEDS_LINUX = "L2 mode needs Linux AF_PACKET sockets";
export const MD5_NEEDS_LINUX = "BGP passwords (TCP MD5 signatures) need Linux TCP_MD5SIG sockets";
export const BFD_NEEDS_LINUX = "BFD needs Linux UDP sockets with a TTL filter (SO_ATTACH_FILTER)";

/** An open packet socket (opaque; pass it back to sendPacket/closePacket). */
export type PacketHandle = object & { readonly __rawnetPacketSocket: never };

/** One classic BPF instruction: [code, jt, jf, k] as in struct sock_filter. */
export type BpfInstruction = readonly [code: number, jt: number, jf: number, k: number];

export interface InterfaceInfo {
  /** The kernel interface index. */
  readonly index: number;
  /** The 6-byte hardware address. */
  readonly mac: Buffer;
  /** ARPHRD_* hardware type: 1 is Ethernet, 772 loopback. */
  readonly type: number;
}

export const ARPHRD_ETHER = 1;

export interface Md5Peer {
  readonly ip: string;
  /** Empty: this peer connects without a signature. */
  readonly key: string;
}

/** The addon's exports, as implemented in native/rawnet.c. */
export interface RawnetAddon {
  openPacket(
    ifname: string,
    ethertype: number,
    onFrame: (frame: Buffer) => void,
    filter?: readonly BpfInstruction[] | null,
  ): PacketHandle;
  sendPacket(handle: PacketHandle, frame: Uint8Array): number;
  closePacket(handle: PacketHandle): void;
  packetMembership(handle: PacketHandle, mac: Uint8Array, join: boolean): void;
  interfaceInfo(ifname: string): InterfaceInfo;
  md5Connect(ip: string, port: number, key: string, sourceIp?: string | null, ttl?: number | null): number;
  md5Listen(ip: string, port: number, peers: readonly Md5Peer[]): number;
  setMd5(fd: number, peerIp: string, key: string): void;
  udpSocket(ip: string, port: number, ttl?: number | null, filter?: readonly BpfInstruction[] | null): number;
  attachFilter(fd: number, filter: readonly BpfInstruction[]): void;
}

/** Where the addon is looked for, in order, and the first that exists. */
export function locateAddon(
  env: NodeJS.ProcessEnv = process.env,
  startDir: string = __dirname,
): { found?: string; searched: string[] } {
  const explicit = env[ADDON_ENV];
  if (explicit) {
    const file = resolve(explicit);
    return { found: existsSync(file) ? file : undefined, searched: [file] };
  }
  const searched: string[] = [];
  let dir = resolve(startDir);
  for (;;) {
    for (const rel of ADDON_RELATIVE_PATHS) {
      const file = join(dir, rel);
      searched.push(file);
      if (existsSync(file)) return { found: file, searched };
    }
    const parent = dirname(dir);
    if (parent === dir) return { searched };
    dir = parent;
  }
}

let cached: RawnetAddon | undefined;

/**
 * Loads the addon (once). `feature` picks the message for non-Linux platforms.
 * Throws a clear Error when the platform is not Linux or the addon is not built.
 */
export function loadRawnet(
  feature: "l2" | "md5" | "bfd" = "l2",
  platform: NodeJS.Platform = process.platform,
): RawnetAddon {
  if (platform !== "linux") {
    const what = { l2: L2_NEEDS_LINUX, md5: MD5_NEEDS_LINUX, bfd: BFD_NEEDS_LINUX }[feature];
    throw new Error(`${what} (this platform is ${platform})`);
  }
  if (cached) return cached;
  const { found, searched } = locateAddon();
  if (!found) {
    throw new Error(
      `the rawnet native addon is not built (looked for ${searched.slice(0, 4).join(", ")}${searched.length > 4 ? ", ..." : ""}); run hack/build-native.sh, or set ${ADDON_ENV}`,
    );
  }
  const mod: { exports: unknown } = { exports: {} };
  try {
    // dlopen rather than require: bundlers leave it alone and it needs no require cache.
    process.dlopen(mod, found, osConstants.dlopen.RTLD_NOW);
  } catch (err) {
    throw new Error(
      `loading the rawnet native addon from ${found} failed: ${(err as Error).message}; rebuild it with hack/build-native.sh`,
    );
  }
  cached = mod.exports as RawnetAddon;
  return cached;
}

// ---------------------------------------------------------------------------------------
// Packet sockets (L2)

/**
 * Opens an AF_PACKET socket on `ifname` for frames of `ethertype` (our own outgoing frames
 * are not delivered). `onFrame` runs on the event loop once per received frame, with a
 * Buffer it may keep. An optional classic BPF `filter` drops frames in the kernel.
 * Needs CAP_NET_RAW. Keeps the process alive until closePacket.
 */
export function openPacket(
  ifname: string,
  ethertype: number,
  onFrame: (frame: Buffer) => void,
  filter?: readonly BpfInstruction[],
): PacketHandle {
  return loadRawnet("l2").openPacket(ifname, ethertype, onFrame, filter ?? null);
}

/** Sends one complete Ethernet frame (from the destination MAC on, no FCS); returns bytes sent. */
export function sendPacket(handle: PacketHandle, frame: Uint8Array): number {
  return loadRawnet("l2").sendPacket(handle, frame);
}

/** Stops receiving and closes the socket; idempotent. */
export function closePacket(handle: PacketHandle): void {
  loadRawnet("l2").closePacket(handle);
}

/**
 * Joins a link-layer multicast group on the socket's interface (counted per socket, left
 * automatically on close). NICs filter multicast: without this an NS to the VIP's
 * solicited-node MAC (33:33:ff:xx:xx:xx, see l2/ndp.ts solicitedNodeMAC) may never arrive.
 */
export function joinMulticast(handle: PacketHandle, mac: Uint8Array): void {
  loadRawnet("l2").packetMembership(handle, mac, true);
}

/** Leaves one membership taken with joinMulticast. */
export function leaveMulticast(handle: PacketHandle, mac: Uint8Array): void {
  loadRawnet("l2").packetMembership(handle, mac, false);
}

/** Index, MAC and hardware type of an interface in the current network namespace. */
export function interfaceInfo(ifname: string): InterfaceInfo {
  return loadRawnet("l2").interfaceInfo(ifname);
}

// Classic BPF opcodes used by the filters below (linux/filter.h).

/**
 * Keeps only ICMPv6 Neighbor Solicitations and Advertisements without extension headers
 * (IPv6 next header 58 at frame offset 20, ICMPv6 type 135 or 136 at offset 54) on an
 * ETHERTYPE_IPV6 socket, so the agent does not wake up for every IPv6 packet on the link.
 * Solicitations are answered; advertisements tell a draining agent that the new owner
 * of an address has announced it.
 */
export const NEIGHBOR_DISCOVERY_FILTER: readonly BpfInstruction[] = [
  [LD_B_ABS, 0, 0, 20],
  [JEQ_K, 0, 4, 58],
  [LD_B_ABS, 0, 0, 54],
  [JEQ_K, 1, 0, 135],
  [JEQ_K, 0, 1, 136],
  [RET_K, 0, 0, ACCEPT],
  [RET_K, 0, 0, 0],
];

/** Keeps only ARP requests (opcode 1 at frame offset 20) on an ETHERTYPE_ARP socket. */
export const ARP_REQUEST_FILTER: readonly BpfInstruction[] = [
  [LD_H_ABS, 0, 0, 20],
  [JEQ_K, 0, 1, 1],
  [RET_K, 0, 0, ACCEPT],
  [RET_K, 0, 0, 0],
];

// ---------------------------------------------------------------------------------------
// TCP MD5 (BGP passwords)

/**
 * A non-blocking TCP socket connecting to ip:port, signed with `key` (RFC 2385) when the
 * key is not empty, optionally bound to `sourceIp` and with the given TTL / hop limit.
 * The connect is still in progress on return; wrap the fd with
 * `new net.Socket({ fd, readable: true, writable: true })`.
 */
export function md5Connect(ip: string, port: number, key: string, sourceIp?: string, ttl?: number): number {
  return loadRawnet("md5").md5Connect(ip, port, key, sourceIp ?? null, ttl ?? null);
}

/**
 * A listening TCP socket on ip:port ("::" also accepts IPv4) that requires the given MD5
 * key from each peer with a non-empty key. Use with `net.createServer().listen({ fd })`.
 */
export function md5Listen(ip: string, port: number, peers: readonly Md5Peer[]): number {
  return loadRawnet("md5").md5Listen(ip, port, peers);
}

/** Adds or changes the MD5 key for `peerIp` on a socket; an empty key removes it. */
export function setMd5(fd: number, peerIp: string, key: string): void {
  loadRawnet("md5").setMd5(fd, peerIp, key);
}

// ---------------------------------------------------------------------------------------
// UDP with a socket filter (BFD)

/**
 * A bound, non-blocking UDP socket on ip:port (port 0: any) sending with the given TTL /
 * hop limit, with an optional classic BPF filter (which may read the IP header through
 * SKF_NET_OFF, e.g. to drop packets whose TTL is not 255). IPv6 sockets are V6ONLY.
 * Wrap it with `dgram.createSocket(type).bind({ fd })`.
 */
export function udpSocket(ip: string, port: number, ttl?: number, filter?: readonly BpfInstruction[]): number {
  return loadRawnet("bfd").udpSocket(ip, port, ttl ?? null, filter ?? null);
}

/** Replaces the filter of a socket made by udpSocket. */
export function attachFilter(fd: number, filter: readonly BpfInstruction[]): void {
  loadRawnet("bfd").attachFilter(fd, filter);
}
