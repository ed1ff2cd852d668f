/**
 * Opening the TCP connection of a BGP session (RFC 4271 §8.2.1.2: we are the
 * active side only). Plain `net` when there is no password and the TTL need
 * not be set; otherwise a socket from the rawnet addon, which can sign
 * segments with TCP MD5 (RFC 2385), bind a source address and set the TTL.
 *
 * TTL: a directly connected eBGP peer gets TTL 1 (RFC 4271 leaves it to the
 * implementation; it is what FRR and MetalLB's FRR mode do for single-hop
 * eBGP, and it keeps the session from being reachable via a routed path);
 * ebgpMultiHop and iBGP get 255.
 */
import * as net from "node:net";
import { md5Connect } from "../native";

export interface DialOptions {
  readonly host: string;
  readonly port: number;
  readonly password?: string;
  readonly sourceAddress?: string;
  /** 1..255; undefined leaves the kernel default. */
  readonly ttl?: number;
}

/** A connection attempt: `onConnected` fires once TCP is up; errors and close arrive as socket events. */
export interface Dialled {
  readonly socket: net.Socket;
  /** Stops watching for completion (the attempt is being dropped). */
  cancel(): void;
}

export type Dialer = (opts: DialOptions, onConnected: () => void) => Dialled;

/** How often an addon socket is checked for the end of its non-blocking connect. */
const CONNECT_POLL_MS = 5;

/**
 * The default dialer. A socket wrapped around an fd whose connect is still in
 * progress gets no 'connect' event from Node, so completion is detected by
 * getpeername succeeding (Node's `remoteAddress` does not cache failures).
 */
export const dial: Dialer = (opts, onConnected) => {
  const needAddon = Boolean(opts.password) || opts.ttl !== undefined;
  let fd: number | undefined;
  if (needAddon) {
    try {
      fd = md5Connect(opts.host, opts.port, opts.password ?? "", opts.sourceAddress, opts.ttl);
    } catch (err) {
      // Without a password the addon only sets the TTL: fall back to plain TCP.
      if (opts.password) throw err;
    }
  }
  if (fd === undefined) {
    const socket = net.connect({
      host: opts.host,
      port: opts.port,
      ...(opts.sourceAddress ? { localAddress: opts.sourceAddress } : {}),
    });
    let live = true;
    socket.once("connect", () => live && onConnected());
    return {
      socket,
      cancel: () => {
        live = false;
      },
    };
  }
  const socket = new net.Socket({ fd, readable: true, writable: true });
  let timer: NodeJS.Timeout | undefined = setInterval(() => {
    if (socket.destroyed) return stop();
    if (socket.remoteAddress !== undefined) {
      stop();
      onConnected();
    }
  }, CONNECT_POLL_MS);
  const stop = (): void => {
    if (timer) clearInterval(timer);
    timer = undefined;
  };
  socket.once("close", stop);
  return { socket, cancel: stop };
};
