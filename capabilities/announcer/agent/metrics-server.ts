/**
 * Serves a Prometheus registry at /metrics over HTTP or HTTPS, on one address.
 *
 * The agent runs on the host network, so a server bound to every interface answers on
 * every address the node has (public ones included). METALLB_METRICS_ADDRESS narrows it:
 * the node's own IP (status.hostIP, what a PodMonitor scrapes) or 127.0.0.1 (a local
 * scraper or proxy only). With METALLB_METRICS_TLS_CERT and METALLB_METRICS_TLS_KEY the
 * endpoint speaks HTTPS only, and the pair is read again when the files change (a
 * cert-manager or Secret rotation needs no restart).
 */
import { readFileSync, unwatchFile, watchFile, type Stats } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { Registry } from "prom-client";
import { readListenOn, type ListenOn } from "./listen-env";

export interface MetricsTls {
  certFile: string;
  keyFile: string;
}

export interface MetricsServing extends ListenOn {
  /** HTTPS with this certificate and key; undefined = plain HTTP. */
  tls?: MetricsTls;
}

/** METALLB_METRICS_PORT (7472), METALLB_METRICS_ADDRESS (""), METALLB_METRICS_TLS_CERT/_KEY (both or none). */
export function readMetricsServing(env: NodeJS.ProcessEnv): MetricsServing {
  const { port, address } = readListenOn(env, "METRICS", 7472);
  const certFile = env.METALLB_METRICS_TLS_CERT ?? "";
  const keyFile = env.METALLB_METRICS_TLS_KEY ?? "";
  if ((certFile === "") !== (keyFile === ""))
    throw new Error("METALLB_METRICS_TLS_CERT and METALLB_METRICS_TLS_KEY must be set together");
  return { port, address, ...(certFile ? { tls: { certFile, keyFile } } : {}) };
}

export interface MetricsServer {
  readonly server: Server | HttpsServer;
  /** Resolves once listening (with the bound port), rejects if the address cannot be bound. */
  readonly listening: Promise<number>;
  close(): void;
}

/** How often the certificate files are checked for a change (Secret volumes update in about a minute). */
const TLS_POLL_MS = 10_000;

/** Starts the endpoint; undefined when the port is 0. A failure to bind is logged, not fatal. */
export function startMetricsServer(
  registry: Pick<Registry, "metrics" | "contentType">,
  serving: MetricsServing,
  log: (msg: string) => void,
  tlsPollMs = TLS_POLL_MS,
): MetricsServer | undefined {
  if (serving.port === 0) return undefined;
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { "Content-Type": registry.contentType }).end(text),
      (err: Error) => res.writeHead(500).end(err.message),
    );
  };
  const tls = serving.tls;
  // A bad certificate at start is fatal (the operator asked for HTTPS; never fall back to HTTP).
  const server = tls ? createHttpsServer(readPair(tls), handler) : createHttpServer(handler);
  const reload = tls ? watchPair(tls, server as HttpsServer, log, tlsPollMs) : undefined;
  const listening = new Promise<number>((resolve, reject) => {
    server.once("listening", () => {
      const a = server.address();
      resolve(typeof a === "object" && a ? a.port : serving.port);
    });
    server.once("error", reject);
  });
  listening.catch(() => undefined); // logged by the handler below; awaiting it is optional
  server.on("error", (err) => log(`metrics server: ${err.message}`));
  if (serving.address) server.listen(serving.port, serving.address);
  else server.listen(serving.port);
  return {
    server,
    listening,
    close: () => {
      reload?.();
      server.close();
    },
  };
}

function readPair(tls: MetricsTls): { cert: Buffer; key: Buffer } {
  return { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) };
}

/** Re-reads the pair when either file changes; a half-written or bad pair keeps the old one. */
function watchPair(tls: MetricsTls, server: HttpsServer, log: (msg: string) => void, interval: number): () => void {
  const onChange = (now: Stats, before: Stats): void => {
    if (now.mtimeMs === before.mtimeMs && now.ino === before.ino) return;
    try {
      server.setSecureContext(readPair(tls));
      log("metrics server: TLS certificate reloaded");
    } catch (err) {
      log(`metrics server: keeping the previous TLS certificate: ${(err as Error).message}`);
    }
  };
  for (const f of [tls.certFile, tls.keyFile]) watchFile(f, { interval, persistent: false }, onChange);
  return () => {
    for (const f of [tls.certFile, tls.keyFile]) unwatchFile(f, onChange);
  };
}
