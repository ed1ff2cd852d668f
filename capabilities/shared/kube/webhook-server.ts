/**
 * Keeps the module's HTTPS server from closing kept-alive connections under the API
 * server's feet.
 *
 * Node closes an idle kept-alive connection after 5 s. The API server's webhook client
 * keeps idle connections for up to 90 s and reuses them. When Node closes one just as
 * an AdmissionReview arrives on it, the request is reset ("connection reset by peer").
 * With failurePolicy Fail, the user's create is then refused. The allocation benchmark
 * hit this during a burst of Service creates. The server's idle timeout must outlast the
 * client's. Pepr 1.1.4 creates its server inside `start()` and does not expose it, so
 * the one `https.createServer` call made during `start()` is wrapped.
 */
import https from "node:https";

/** Above the API server's 90 s idle connection timeout. */
export const KEEP_ALIVE_MS = 120_000;

export function startWithLongKeepAlive(start: () => void): void {
  const create = https.createServer;
  const wrapped = (...args: unknown[]) => {
    const server = (create as (...a: unknown[]) => https.Server)(...args);
    server.keepAliveTimeout = KEEP_ALIVE_MS;
    server.headersTimeout = KEEP_ALIVE_MS + 5_000; // Node requires it above keepAliveTimeout
    return server;
  };
  https.createServer = wrapped as typeof https.createServer;
  try {
    start();
  } finally {
    https.createServer = create;
  }
}
