/**
 * Wraps the one `https.createServer` call Pepr 1.1.4 makes inside `start()` (it does not expose
 * the server) to fix two things about the module's HTTPS server.
 *
 * Keep-alive: Node closes an idle kept-alive connection after 5 s. The API server's webhook
 * client keeps idle connections for up to 90 s and reuses them. When Node closes one just as
 * an AdmissionReview arrives on it, the request is reset ("connection reset by peer").
 * With failurePolicy Fail, the user's create is then refused. The allocation benchmark
 * hit this during a burst of Service creates. The server's idle timeout must outlast the
 * client's.
 *
 * Certificate: Pepr reads the serving pair once; serving-cert.ts reloads it when the mounted
 * Secret changes, and the expiry gauge (serving-cert-metric.ts) joins Pepr's /metrics.
 */
import https from "node:https";
import { Log, metricsCollector } from "pepr";
import type { MetricsCollectorLike } from "./metrics-merge";
import { certExpiry, exposeCertExpiry } from "./serving-cert-metric";
import { POLL_MS, servingCertPaths, watchServingCert, type CertPaths, type CertWatcher } from "./serving-cert";

/** Above the API server's 90 s idle connection timeout. */
export const KEEP_ALIVE_MS = 120_000;

export interface ServerOptions {
  /** Where the served pair is re-read from; default: where Pepr read it (SSL_*_PATH or /etc/certs). */
  certPaths?: CertPaths;
  pollMs?: number;
  log?: { info(msg: string): void; warn(msg: string): void };
  /** The /metrics collector the expiry gauge joins; default Pepr's. */
  metrics?: MetricsCollectorLike;
  /** Receives the certificate watcher (tests poll it instead of waiting). */
  onWatch?: (watcher: CertWatcher) => void;
}

type Pem = string | Buffer;
const isPem = (v: unknown): v is Pem => typeof v === "string" || Buffer.isBuffer(v);

export function startWithLongKeepAlive(start: () => void, opts: ServerOptions = {}): void {
  const log = opts.log ?? { info: (m: string) => Log.info(m), warn: (m: string) => Log.warn(m) };
  const create = https.createServer;
  const wrapped = (...args: unknown[]) => {
    const server = (create as (...a: unknown[]) => https.Server)(...args);
    server.keepAliveTimeout = KEEP_ALIVE_MS;
    server.headersTimeout = KEEP_ALIVE_MS + 5_000; // Node requires it above keepAliveTimeout
    const tls = (typeof args[0] === "object" ? args[0] : {}) as { cert?: unknown; key?: unknown };
    if (isPem(tls.cert) && isPem(tls.key)) {
      const watcher = watchServingCert(server, {
        paths: opts.certPaths ?? servingCertPaths(),
        initial: { cert: tls.cert, key: tls.key },
        intervalMs: opts.pollMs ?? POLL_MS,
        log,
        onServed: (notAfter) => {
          certExpiry.set(notAfter);
          exposeCertExpiry(opts.metrics ?? metricsCollector); // only once it has a value: 0 would alert
        },
      });
      // Pepr answers EADDRINUSE with close() and listen() again: resume when it listens.
      server.on("close", () => watcher.stop());
      server.on("listening", () => watcher.start());
      opts.onWatch?.(watcher);
    }
    return server;
  };
  https.createServer = wrapped as typeof https.createServer;
  try {
    start();
  } finally {
    https.createServer = create;
  }
}
