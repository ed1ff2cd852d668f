/**
 * BFD over UDP: RFC 5881 (single hop) and RFC 5883 (multihop).
 *
 * - Receiving: one socket per (address family, single hop or multihop), bound to the
 *   wildcard address on port 3784 (RFC 5881 §4) or 4784 (RFC 5883 §5), shared by every
 *   session; the sessions layer demultiplexes by discriminator or source address.
 * - Sending: one socket per session, bound to the session's local address (when known)
 *   and a source port of its own in 49152-65535 (RFC 5881 §4: unique per session), with
 *   TTL / Hop Limit 255 (RFC 5881 §5; RFC 5883 §2 leaves the multihop TTL to us: 255,
 *   so the peer's minimum TTL check has the most room).
 * - The TTL check (GTSM, RFC 5881 §5: "MUST be discarded if the received TTL or Hop
 *   Limit is not equal to 255"; RFC 5883 §5 with the profile's minimumTtl): Node's dgram
 *   cannot read a received TTL, so the rawnet addon makes the socket and attaches a
 *   classic BPF filter that reads the IP header (SKF_NET_OFF) and drops a packet with a
 *   wrong TTL in the kernel. Multihop filters hold one rule per peer source address with
 *   that peer's minimum TTL; a packet from any other source is dropped there too.
 */
import * as dgram from "node:dgram";
import { ipToBytes, type Family, type IP } from "../../../shared/net/ip";
import { ACCEPT, JEQ_K, JGE_K, LD_B_ABS, LD_W_ABS, RET_K } from "../bpf";
import { attachFilter, udpSocket, type BpfInstruction } from "../native";

export const SINGLE_HOP_PORT = 3784;
export const MULTIHOP_PORT = 4784;
/** RFC 5881 §4: the source port range. */
export const SOURCE_PORT_MIN = 49152;
export const SOURCE_PORT_MAX = 65535;
export const SEND_TTL = 255;

/** SKF_NET_OFF (-0x100000) as an unsigned 32-bit offset: loads relative to the IP header. */
const NET = 0xfff00000;
/** Offsets in the IP header: TTL / Hop Limit, and the source address. */
const TTL_OFFSET: Record<Family, number> = { 4: 8, 6: 7 };
const SOURCE_OFFSET: Record<Family, number> = { 4: 12, 6: 8 };

export const DROP_ALL: readonly BpfInstruction[] = [[RET_K, 0, 0, 0]];

/** RFC 5881 §5: keep a packet only when its TTL / Hop Limit is 255. */
export function singleHopFilter(family: Family): BpfInstruction[] {
  return [
    [LD_B_ABS, 0, 0, NET + TTL_OFFSET[family]],
    [JEQ_K, 0, 1, 255],
    [RET_K, 0, 0, ACCEPT],
    [RET_K, 0, 0, 0],
  ];
}

export interface MultihopRule {
  readonly source: IP;
  /** 1-255: the smallest TTL accepted from this source. */
  readonly minTtl: number;
}

/** RFC 5883 §5: per source address, keep a packet whose TTL is at least that peer's minimum. */
export function multihopFilter(family: Family, rules: readonly MultihopRule[]): BpfInstruction[] {
  const out: BpfInstruction[] = [];
  for (const rule of rules.filter((r) => r.source.family === family)) {
    const bytes = ipToBytes(rule.source);
    const words = bytes.length / 4;
    // Per rule: (load word, compare) per address word, load TTL, compare, accept, drop.
    const block = words * 2 + 4;
    for (let w = 0; w < words; w++) {
      const at = w * 2;
      out.push([LD_W_ABS, 0, 0, NET + SOURCE_OFFSET[family] + 4 * w]);
      // Not this source: jump to the next rule's first instruction.
      out.push([JEQ_K, 0, block - (at + 2), bytes.readUInt32BE(4 * w)]);
    }
    out.push([LD_B_ABS, 0, 0, NET + TTL_OFFSET[family]]);
    out.push([JGE_K, 0, 1, rule.minTtl]);
    out.push([RET_K, 0, 0, ACCEPT]);
    out.push([RET_K, 0, 0, 0]);
  }
  out.push([RET_K, 0, 0, 0]);
  return out;
}

export interface Datagram {
  readonly data: Buffer;
  readonly address: string;
  readonly port: number;
}

/** A UDP socket made by the addon and driven by dgram. */
export class BfdSocket {
  private constructor(
    readonly socket: dgram.Socket,
    readonly fd: number,
    readonly port: number,
  ) {}

  /**
   * Binds `address:port` (port 0: the first free one in 49152-65535 from a random start),
   * with TTL 255 and the filter.
   */
  static async open(
    family: Family,
    address: string | undefined,
    port: number,
    filter: readonly BpfInstruction[],
    onDatagram?: (d: Datagram) => void,
  ): Promise<BfdSocket> {
    const bindTo = address ?? (family === 4 ? "0.0.0.0" : "::");
    let fd: number | undefined;
    let chosen = port;
    if (port !== 0) fd = udpSocket(bindTo, port, SEND_TTL, filter);
    else {
      const span = SOURCE_PORT_MAX - SOURCE_PORT_MIN + 1;
      const start = Math.floor(Math.random() * span);
      for (let i = 0; i < span && fd === undefined; i++) {
        chosen = SOURCE_PORT_MIN + ((start + i) % span);
        try {
          fd = udpSocket(bindTo, chosen, SEND_TTL, filter);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
        }
      }
      if (fd === undefined) throw new Error(`no free UDP source port in ${SOURCE_PORT_MIN}-${SOURCE_PORT_MAX}`);
    }
    const socket = dgram.createSocket({ type: family === 4 ? "udp4" : "udp6" });
    if (onDatagram)
      socket.on("message", (data, rinfo) => onDatagram({ data, address: rinfo.address, port: rinfo.port }));
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind({ fd: fd! }, () => {
        socket.off("error", reject);
        resolve();
      });
    });
    return new BfdSocket(socket, fd!, chosen);
  }

  send(data: Buffer, address: string, port: number): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.send(data, port, address, (err) => (err ? reject(err) : resolve())),
    );
  }

  setFilter(filter: readonly BpfInstruction[]): void {
    attachFilter(this.fd, filter);
  }

  close(): void {
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }
}
