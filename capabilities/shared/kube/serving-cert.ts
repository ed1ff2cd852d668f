/**
 * Hot reload of the webhook server's certificate.
 *
 * Pepr 1.1.4 reads the pair once, in Controller.startServer, from SSL_CERT_PATH / SSL_KEY_PATH
 * (`pepr dev` sets them to insecure-tls.crt/.key in the working directory) or else from
 * /etc/certs/tls.crt and tls.key, where the admission and watcher pods mount the Secret
 * pepr-<uuid>-tls. When that Secret changes (a rebuild and redeploy, cert-manager renewing it),
 * the kubelet swaps the volume's `..data` symlink; the files change under the running server,
 * which would keep serving the old certificate until it expires. The watcher below re-reads the
 * files on a timer (fs.watch loses its watch when the symlink's target is replaced; stat
 * stamps miss a rewrite within one kernel clock tick, and two files of a few hundred bytes a
 * minute cost nothing) and hands a new, complete, matching pair to server.setSecureContext.
 * A pair that does not parse or whose key does not match (half written, copied one file at a
 * time) is logged and ignored: the old one stays in force.
 */
import { createHash, createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";

export interface CertPaths {
  cert: string;
  key: string;
}

/** The paths Pepr 1.1.4's controller reads (node_modules/pepr/src/lib/controller/index.ts). */
export function servingCertPaths(env: NodeJS.ProcessEnv = process.env): CertPaths {
  return { cert: env.SSL_CERT_PATH || "/etc/certs/tls.crt", key: env.SSL_KEY_PATH || "/etc/certs/tls.key" };
}

/** Unix seconds of the first certificate's notAfter (a cert-manager tls.crt may carry its chain after it). */
export function certificateExpiry(certPem: string | Buffer): number {
  return Math.floor(Date.parse(new X509Certificate(certPem).validTo) / 1000);
}

export const pairDigest = (cert: string | Buffer, key: string | Buffer): string =>
  createHash("sha256").update(cert).update("\0").update(key).digest("hex");

export type ReloadPlan =
  | { action: "keep" }
  | { action: "reload"; digest: string; notAfter: number }
  | { action: "reject"; digest: string; reason: string };

/**
 * What to do with the pair now on disk, given the digest of the pair being served: nothing if it
 * is the same, reload if it is a certificate and the private key that belongs to it, else reject.
 */
export function planReload(served: string, cert: string | Buffer, key: string | Buffer): ReloadPlan {
  const digest = pairDigest(cert, key);
  if (digest === served) return { action: "keep" };
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    return { action: "reject", digest, reason: `certificate does not parse: ${(err as Error).message}` };
  }
  try {
    if (!x509.checkPrivateKey(createPrivateKey(key)))
      return { action: "reject", digest, reason: "private key does not match the certificate" };
  } catch (err) {
    return { action: "reject", digest, reason: `private key does not parse: ${(err as Error).message}` };
  }
  return { action: "reload", digest, notAfter: certificateExpiry(cert) };
}

/** The part of https.Server the watcher needs. */
export interface SecureContextTarget {
  setSecureContext(options: { cert: Buffer; key: Buffer }): void;
}

export interface WatchOptions {
  paths: CertPaths;
  /** The pair the server was created with. */
  initial: { cert: string | Buffer; key: string | Buffer };
  intervalMs?: number;
  log: { info(msg: string): void; warn(msg: string): void };
  /** Called with the served certificate's notAfter (unix seconds) at start and after each reload. */
  onServed?: (notAfter: number) => void;
}

/** 60 s: the kubelet itself takes up to a minute or so to project a changed Secret. */
export const POLL_MS = 60_000;

export interface CertWatcher {
  /** One poll, now (the timer calls it; tests call it to avoid waiting). */
  poll(): void;
  /** Polls now and then on the timer; idempotent (watchServingCert has already started it). */
  start(): void;
  stop(): void;
}

export function watchServingCert(server: SecureContextTarget, opts: WatchOptions): CertWatcher {
  let served = pairDigest(opts.initial.cert, opts.initial.key);
  let rejected = "";
  let unreadable = "";
  try {
    opts.onServed?.(certificateExpiry(opts.initial.cert));
  } catch (err) {
    opts.log.warn(`webhook certificate: cannot read the served certificate's expiry: ${(err as Error).message}`);
  }

  const poll = (): void => {
    let cert: Buffer, key: Buffer;
    try {
      cert = readFileSync(opts.paths.cert);
      key = readFileSync(opts.paths.key);
    } catch (err) {
      // Mid-swap, a path can be missing for an instant; the next poll sees the finished swap.
      const msg = `webhook certificate: cannot read ${opts.paths.cert} / ${opts.paths.key}: ${(err as Error).message}`;
      if (msg !== unreadable) opts.log.warn(msg); // once, not every minute
      unreadable = msg;
      return;
    }
    unreadable = "";
    const plan = planReload(served, cert, key);
    if (plan.action === "keep" || plan.digest === rejected) return; // a refused pair is logged once
    if (plan.action === "reject") {
      opts.log.warn(`webhook certificate: ignoring the new pair (${plan.reason}); still serving the previous one`);
      rejected = plan.digest;
      return;
    }
    try {
      server.setSecureContext({ cert, key });
    } catch (err) {
      opts.log.warn(`webhook certificate: the server refused the new pair: ${(err as Error).message}`);
      rejected = plan.digest;
      return;
    }
    served = plan.digest;
    opts.onServed?.(plan.notAfter);
    opts.log.info(`webhook certificate reloaded from ${opts.paths.cert}; valid until ${isoSeconds(plan.notAfter)}`);
  };

  let timer: NodeJS.Timeout | undefined;
  const start = () => {
    if (timer) return;
    poll();
    timer = setInterval(poll, opts.intervalMs ?? POLL_MS);
    timer.unref(); // never what keeps the process alive
  };
  start();
  return {
    poll,
    start,
    stop: () => {
      clearInterval(timer);
      timer = undefined;
    },
  };
}

const isoSeconds = (s: number) => new Date(s * 1000).toISOString();
