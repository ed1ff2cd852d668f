/**
 * The serving certificate through a real TLS socket: a server started through the wrapper,
 * whose mounted pair changes the way the kubelet changes a Secret volume (a new timestamped
 * directory, then an atomic rename of the `..data` symlink).
 */
import { X509Certificate } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { selfSignedPair } from "./test-certs";
import tls from "node:tls";
import type { CertWatcher } from "./serving-cert";
import { startWithLongKeepAlive } from "./webhook-server";

const dir = mkdtempSync(join(tmpdir(), "webhook-cert-"));
const volume = join(dir, "volume");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pair = (name: string, days: number) => selfSignedPair(dir, name, days);

let generation = 0;
/** What the kubelet does on a Secret update: write a new directory, then swap ..data to it. */
function project(files: { cert: string; key: string }): void {
  const data = `..gen_${++generation}`;
  mkdirSync(join(volume, data));
  writeFileSync(join(volume, data, "tls.crt"), files.cert);
  writeFileSync(join(volume, data, "tls.key"), files.key);
  symlinkSync(data, join(volume, "..data_tmp"));
  renameSync(join(volume, "..data_tmp"), join(volume, "..data"));
}

/** The certificate a TLS client is shown on a new connection. */
function servedCN(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      const cn = socket.getPeerCertificate().subject.CN;
      socket.end();
      resolve(String(cn));
    });
    socket.on("error", reject);
  });
}

describe("the module's HTTPS server reloads its mounted certificate", () => {
  const a = pair("pair-a", 30);
  const b = pair("pair-b", 365);
  let server: https.Server;
  let watcher: CertWatcher;
  const warnings: string[] = [];
  const metrics = { getMetrics: async () => "# pepr's own\npepr_errors 0\n" };

  beforeAll(async () => {
    mkdirSync(volume);
    project(a);
    symlinkSync("..data/tls.crt", join(volume, "tls.crt"));
    symlinkSync("..data/tls.key", join(volume, "tls.key"));
    startWithLongKeepAlive(
      () => {
        // What Pepr's startServer does with the mounted pair.
        const options = { cert: readFileSync(join(volume, "tls.crt")), key: readFileSync(join(volume, "tls.key")) };
        server = https.createServer(options, (_req, res) => res.end("ok")).listen(0, "127.0.0.1");
      },
      {
        certPaths: { cert: join(volume, "tls.crt"), key: join(volume, "tls.key") },
        log: { info: () => undefined, warn: (m) => warnings.push(m) },
        metrics,
        onWatch: (w) => (watcher = w),
      },
    );
    await new Promise((resolve) => server.once("listening", resolve));
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const port = () => (server.address() as AddressInfo).port;
  const expiryOf = (pem: string) => Math.floor(Date.parse(new X509Certificate(pem).validTo) / 1000);
  const metricValue = async () =>
    Number(
      (await metrics.getMetrics()).match(/^metallb_pepr_webhook_certificate_expiry_timestamp_seconds (\d+)$/m)?.[1],
    );

  it("serves A and publishes A's expiry on /metrics next to Pepr's own series", async () => {
    expect(await servedCN(port())).toBe("pair-a");
    const text = await metrics.getMetrics();
    expect(text).toContain("pepr_errors 0");
    expect(await metricValue()).toBe(expiryOf(a.cert));
  });

  it("keeps serving A when the volume is updated with a garbage certificate", async () => {
    project({ cert: "-----BEGIN CERTIFICATE-----\ngarbage\n", key: b.key });
    watcher.poll();
    expect(await servedCN(port())).toBe("pair-a");
    expect(await metricValue()).toBe(expiryOf(a.cert));
    expect(warnings).toEqual([expect.stringMatching(/ignoring the new pair \(certificate does not parse/)]);
  });

  it("serves B to new connections after the volume is updated with B, without a restart", async () => {
    project(b);
    watcher.poll();
    expect(await servedCN(port())).toBe("pair-b");
    expect(await metricValue()).toBe(expiryOf(b.cert));
    expect(warnings).toHaveLength(1);
  });

  it("does the same on its own timer, also after the server closes and listens again", async () => {
    let w: CertWatcher | undefined;
    let s: https.Server | undefined;
    project(a);
    startWithLongKeepAlive(
      () => {
        s = https.createServer(b).listen(0, "127.0.0.1");
      },
      {
        certPaths: { cert: join(volume, "tls.crt"), key: join(volume, "tls.key") },
        pollMs: 50,
        log: { info: () => undefined, warn: () => undefined },
        metrics: { getMetrics: async () => "" },
        onWatch: (x) => (w = x),
      },
    );
    try {
      await new Promise((resolve) => s!.once("listening", resolve));
      // The first poll runs at start: the volume already holds A, so A is served straight away.
      expect(await servedCN((s!.address() as AddressInfo).port)).toBe("pair-a");
      project(b);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await servedCN((s!.address() as AddressInfo).port)).toBe("pair-b");
      // Closed and listening again, as Pepr does on EADDRINUSE: the timer resumes.
      await new Promise((resolve) => s!.close(resolve));
      s!.listen(0, "127.0.0.1");
      await new Promise((resolve) => s!.once("listening", resolve));
      project(a);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await servedCN((s!.address() as AddressInfo).port)).toBe("pair-a");
    } finally {
      w?.stop();
      await new Promise((resolve) => s!.close(resolve));
    }
  });
});
