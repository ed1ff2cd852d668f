/**
 * A fault-injecting HTTPS reverse proxy between the watcher and the API server.
 * It forwards every request as is (the watcher's bearer token included), long
 * watch streams too, and on command:
 *   - answers 429 (with Retry-After) or 500 to new requests for a while, as an
 *     overloaded or failing API server would;
 *   - cuts every stream in flight (watches and pending requests), as a load
 *     balancer or a network blip would.
 * Its certificate is self-signed: the watcher's kubeconfig skips verification.
 */
import { Agent, createServer, request, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface ProxyOptions {
  /** The real API server, e.g. https://127.0.0.1:36443 */
  upstream: string;
  upstreamCa: string;
  key: string;
  cert: string;
}

export interface ErrorWindow {
  status: 429 | 500;
  until: number;
  /** Share of new requests answered with the error (1 = all). */
  fraction: number;
  retryAfterSec: number;
}

export interface ProxyStats {
  forwarded: number;
  failed: number;
  cut: number;
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"]);

export class FaultProxy {
  readonly stats: ProxyStats = { forwarded: 0, failed: 0, cut: 0 };
  private readonly upstream: URL;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  private readonly server: Server;
  private readonly inFlight = new Set<() => void>();
  private readonly sockets = new Set<Socket>();
  private errors?: ErrorWindow;

  constructor(private readonly opts: ProxyOptions) {
    this.upstream = new URL(opts.upstream);
    this.server = createServer({ key: opts.key, cert: opts.cert }, (req, res) => this.handle(req, res));
    this.server.on("connection", (s: Socket) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
  }

  /** Listens on loopback; resolves with the port. */
  listen(port = 0): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, "127.0.0.1", () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  /** From now, for `ms`, answer `status` to (a `fraction` of) new requests. */
  failFor(status: 429 | 500, ms: number, fraction = 1, retryAfterSec = 1): void {
    this.errors = { status, until: Date.now() + ms, fraction, retryAfterSec };
  }

  /** Whether an error window is open. */
  get failing(): boolean {
    return this.errors !== undefined && Date.now() < this.errors.until;
  }

  /** Ends every request and stream in flight; returns how many. */
  cutStreams(): number {
    const n = this.inFlight.size;
    for (const cut of [...this.inFlight]) cut();
    this.stats.cut += n;
    return n;
  }

  async close(): Promise<void> {
    this.cutStreams();
    for (const s of this.sockets) s.destroy();
    this.agent.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const errors = this.errors;
    if (errors && Date.now() < errors.until && Math.random() < errors.fraction) {
      this.stats.failed++;
      req.resume();
      const tooMany = errors.status === 429;
      const body = JSON.stringify({
        kind: "Status",
        apiVersion: "v1",
        status: "Failure",
        message: tooMany ? "chaos: too many requests, please try again later" : "chaos: injected internal error",
        reason: tooMany ? "TooManyRequests" : "InternalError",
        code: errors.status,
        ...(tooMany ? { details: { retryAfterSeconds: errors.retryAfterSec } } : {}),
      });
      res.writeHead(errors.status, {
        "Content-Type": "application/json",
        "Content-Length": Buffer.byteLength(body),
        ...(tooMany ? { "Retry-After": String(errors.retryAfterSec) } : {}),
      });
      res.end(body);
      return;
    }
    this.forward(req, res);
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    this.stats.forwarded++;
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    headers.host = this.upstream.host;
    const isWatch = /[?&]watch=(1|true)/.test(req.url ?? "");
    const up = request({
      method: req.method,
      hostname: this.upstream.hostname,
      port: this.upstream.port,
      path: req.url,
      headers,
      ca: this.opts.upstreamCa,
      // A watch holds its connection for minutes: never one of the pooled sockets.
      agent: isWatch ? false : this.agent,
    });
    const cut = (): void => {
      up.destroy();
      res.destroy();
    };
    this.inFlight.add(cut);
    const done = (): void => {
      this.inFlight.delete(cut);
    };
    up.on("response", (upRes) => {
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(upRes.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
      res.writeHead(upRes.statusCode ?? 502, out);
      upRes.pipe(res);
      upRes.on("error", cut);
      upRes.on("end", done);
    });
    up.on("error", () => {
      done();
      if (!res.headersSent) {
        res.writeHead(502, { "Content-Type": "text/plain" });
        res.end("chaos proxy: upstream unreachable");
      } else res.destroy();
    });
    res.on("close", () => {
      done();
      if (!res.writableEnded) up.destroy();
    });
    req.pipe(up);
  }
}
