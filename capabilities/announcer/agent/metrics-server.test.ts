/**
 * The agent's /metrics endpoint over real sockets: plain HTTP on a chosen address, HTTPS
 * with a certificate made by the openssl CLI at test time, the certificate re-read when its
 * files change, and the settings it is configured by.
 */
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { get as httpGet, type IncomingMessage } from "node:http";
import { get as httpsGet } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import type { TLSSocket } from "node:tls";
import { join } from "node:path";
import { Counter, Registry } from "prom-client";
import { readMetricsServing, startMetricsServer, type MetricsServer } from "./metrics-server";

const registry = new Registry();
new Counter({ name: "metallb_test_total", help: "test", registers: [registry] }).inc(3);

/** A port nothing listens on now (port 0 means "disabled" to the server). */
const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

interface Reply {
  status: number;
  body: string;
  peerCert?: string;
}

function fetchText(url: string, ca?: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const done = (res: IncomingMessage) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      const cert = (res.socket as TLSSocket).getPeerCertificate?.();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, peerCert: cert?.fingerprint256 }));
    };
    const req = url.startsWith("https:") ? httpsGet(url, { ca, agent: false }, done) : httpGet(url, done);
    req.on("error", reject);
  });
}

/** A self-signed certificate for 127.0.0.1 (node:crypto cannot make X.509 certificates). */
function makeCert(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync(
    "openssl",
    [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-keyout", key, "-out", cert, "-days", "1", "-subj", `/CN=${name}`],
      ...["-addext", "subjectAltName=IP:127.0.0.1"],
    ],
    { stdio: "ignore" },
  );
  return { cert, key };
}

const fingerprint = (pem: string): string => new X509Certificate(readFileSync(pem)).fingerprint256;

describe("readMetricsServing", () => {
  it("defaults to today's behaviour: port 7472 on every interface, plain HTTP", () => {
    expect(readMetricsServing({})).toEqual({ port: 7472, address: "" });
  });

  it("reads the address, port and TLS pair", () => {
    expect(
      readMetricsServing({
        METALLB_METRICS_PORT: "9120",
        METALLB_METRICS_ADDRESS: "10.0.0.1",
        METALLB_METRICS_TLS_CERT: "/c",
        METALLB_METRICS_TLS_KEY: "/k",
      }),
    ).toEqual({ port: 9120, address: "10.0.0.1", tls: { certFile: "/c", keyFile: "/k" } });
  });

  it("refuses a bad address or port and half a TLS pair", () => {
    expect(() => readMetricsServing({ METALLB_METRICS_ADDRESS: "node-1" })).toThrow(/must be an IP address/);
    expect(() => readMetricsServing({ METALLB_METRICS_PORT: "70000" })).toThrow(/METALLB_METRICS_PORT/);
    expect(() => readMetricsServing({ METALLB_METRICS_TLS_CERT: "/c" })).toThrow(/set together/);
  });
});

describe("startMetricsServer", () => {
  let dir: string;
  const servers: MetricsServer[] = [];
  const logs: string[] = [];
  const log = (m: string) => void logs.push(m);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "metrics-tls-"));
  });
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("port 0 serves nothing", () => {
    expect(startMetricsServer(registry, { port: 0, address: "" }, log)).toBeUndefined();
  });

  it("serves plain HTTP on the configured address only", async () => {
    const port = await freePort();
    const s = startMetricsServer(registry, { port, address: "127.0.0.1" }, log)!;
    servers.push(s);
    await s.listening;
    expect(s.server.address()).toMatchObject({ address: "127.0.0.1", port });
    const reply = await fetchText(`http://127.0.0.1:${port}/metrics`);
    expect(reply.status).toBe(200);
    expect(reply.body).toContain("metallb_test_total 3");
    expect((await fetchText(`http://127.0.0.1:${port}/other`)).status).toBe(404);
  });

  it("serves HTTPS only when given a certificate, and re-reads it when the files change", async () => {
    const first = makeCert(dir, "first");
    const second = makeCert(dir, "second");
    const port = await freePort();
    const s = startMetricsServer(
      registry,
      { port, address: "127.0.0.1", tls: { certFile: first.cert, keyFile: first.key } },
      log,
      50,
    )!;
    servers.push(s);
    await s.listening;

    const reply = await fetchText(`https://127.0.0.1:${port}/metrics`, readFileSync(first.cert));
    expect(reply.status).toBe(200);
    expect(reply.body).toContain("metallb_test_total 3");
    expect(reply.peerCert).toBe(fingerprint(first.cert));
    // Plain HTTP gets no metrics from a TLS endpoint.
    await expect(fetchText(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();

    // A rotation (as a Secret volume does it: the files are replaced) is picked up without a restart.
    renameSync(second.cert, first.cert);
    renameSync(second.key, first.key);
    const deadline = Date.now() + 5000;
    let after = "";
    while (Date.now() < deadline) {
      // Trusting only the new certificate: until the reload the handshake fails.
      after = await fetchText(`https://127.0.0.1:${port}/metrics`, readFileSync(first.cert)).then(
        (r) => r.peerCert ?? "",
        () => "",
      );
      if (after === fingerprint(first.cert)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(after).toBe(fingerprint(first.cert));
    expect(logs).toContain("metrics server: TLS certificate reloaded");
  });

  it("an address the node does not have is logged, not fatal (the agent keeps announcing)", async () => {
    const port = await freePort();
    const s = startMetricsServer(registry, { port, address: "192.0.2.1" }, log)!;
    servers.push(s);
    await expect(s.listening).rejects.toThrow(/EADDRNOTAVAIL/);
    expect(logs.filter((l) => l.includes("EADDRNOTAVAIL"))).toHaveLength(1);
  });

  it("a certificate file that cannot be read is an error at start, never a fall-back to HTTP", async () => {
    const port = await freePort();
    expect(() =>
      startMetricsServer(registry, { port, address: "127.0.0.1", tls: { certFile: "/nope", keyFile: "/nope" } }, log),
    ).toThrow(/ENOENT/);
  });
});
