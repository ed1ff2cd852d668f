/**
 * Heartbeats on the wire: one UDP socket per agent, bound to the membership port on every
 * address of the heartbeat address's family (the agent runs in the host network namespace).
 * Receiving is bounded by the socket buffer; each datagram costs one HMAC before anything
 * of it is parsed (heartbeat.ts).
 */
import { createSocket, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";

export class HeartbeatSocket {
  private socket?: Socket;

  constructor(
    private readonly port: number,
    private readonly family: 4 | 6,
    private readonly onPacket: (packet: Buffer, from: string) => void,
    private readonly log: (msg: string) => void,
    /** Bind to this address only (benchmarks simulate many peers in one namespace); default: all. */
    private readonly bindAddress?: string,
  ) {}

  static familyOf(address: string): 4 | 6 {
    return isIPv6(address) ? 6 : 4;
  }

  start(): Promise<void> {
    const socket = createSocket({ type: this.family === 6 ? "udp6" : "udp4", reuseAddr: false });
    this.socket = socket;
    socket.on("message", (msg, rinfo) => this.onPacket(msg, rinfo.address));
    return new Promise((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(this.port, this.bindAddress ?? (this.family === 6 ? "::" : "0.0.0.0"), () => {
        socket.off("error", reject);
        socket.on("error", (err) => this.log(`membership socket: ${err.message}`));
        resolve();
      });
    });
  }

  send(packet: Buffer, addresses: Iterable<string>): void {
    const socket = this.socket;
    if (!socket) return;
    for (const address of addresses) {
      if (HeartbeatSocket.familyOf(address) !== this.family) continue;
      socket.send(packet, this.port, address, (err) => {
        // A host that is down answers with ICMP unreachable; that is what heartbeats are for.
        if (err && (err as NodeJS.ErrnoException).code !== "ECONNREFUSED")
          this.log(`heartbeat to ${address}: ${err.message}`);
      });
    }
  }

  close(): void {
    this.socket?.close();
    this.socket = undefined;
  }
}
