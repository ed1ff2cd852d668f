import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { selfSignedPair } from "./test-certs";
import { certificateExpiry, pairDigest, planReload, servingCertPaths, watchServingCert } from "./serving-cert";

const dir = mkdtempSync(join(tmpdir(), "serving-cert-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pair = (name: string, days: number) => selfSignedPair(dir, name, days);
const a = pair("a", 30);
const b = pair("b", 365);

describe("servingCertPaths", () => {
  it("is where Pepr 1.1.4 reads the pair: SSL_*_PATH (pepr dev), else the tls Secret volume", () => {
    expect(servingCertPaths({})).toEqual({ cert: "/etc/certs/tls.crt", key: "/etc/certs/tls.key" });
    expect(servingCertPaths({ SSL_CERT_PATH: "insecure-tls.crt", SSL_KEY_PATH: "insecure-tls.key" })).toEqual({
      cert: "insecure-tls.crt",
      key: "insecure-tls.key",
    });
  });
});

describe("certificateExpiry", () => {
  it("is the notAfter in unix seconds, of the first certificate of a chain", () => {
    const days = (certificateExpiry(a.cert) - Date.now() / 1000) / 86400;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
    expect(certificateExpiry(a.cert + b.cert)).toBe(certificateExpiry(a.cert));
  });
});

describe("planReload", () => {
  const served = pairDigest(a.cert, a.key);

  it("keeps the served pair, reloads a new matching one with its expiry", () => {
    expect(planReload(served, a.cert, a.key)).toEqual({ action: "keep" });
    expect(planReload(served, b.cert, b.key)).toEqual({
      action: "reload",
      digest: pairDigest(b.cert, b.key),
      notAfter: certificateExpiry(b.cert),
    });
  });

  it.each([
    ["a half-written certificate", () => [b.cert.slice(0, 200), b.key], /certificate does not parse/],
    ["a half-written key", () => [b.cert, b.key.slice(0, 60)], /private key does not parse/],
    ["a key of another certificate", () => [b.cert, a.key], /private key does not match/],
    ["garbage", () => ["not a certificate", "nor a key"], /certificate does not parse/],
  ])("rejects %s", (_what, make, reason) => {
    const [cert, key] = make();
    const plan = planReload(served, cert, key);
    expect(plan.action).toBe("reject");
    expect(plan.action === "reject" && plan.reason).toMatch(reason);
  });
});

describe("watchServingCert", () => {
  it("applies a new pair once, ignores a bad one with one log line, and reports each served expiry", () => {
    const paths = { cert: join(dir, "w.crt"), key: join(dir, "w.key") };
    writeFileSync(paths.cert, a.cert);
    writeFileSync(paths.key, a.key);
    const contexts: string[] = [];
    const served: number[] = [];
    const warnings: string[] = [];
    const infos: string[] = [];
    const watcher = watchServingCert(
      { setSecureContext: (o) => contexts.push(o.cert.toString()) },
      {
        paths,
        initial: a,
        log: { info: (m) => infos.push(m), warn: (m) => warnings.push(m) },
        onServed: (t) => served.push(t),
      },
    );
    try {
      expect([contexts, served]).toEqual([[], [certificateExpiry(a.cert)]]);

      writeFileSync(paths.cert, b.cert); // the key is not written yet
      watcher.poll();
      watcher.poll();
      expect(contexts).toEqual([]);
      expect(warnings).toEqual([expect.stringMatching(/ignoring the new pair \(private key does not match/)]);

      writeFileSync(paths.key, b.key);
      watcher.poll();
      watcher.poll();
      expect(contexts).toEqual([b.cert]);
      expect(served).toEqual([certificateExpiry(a.cert), certificateExpiry(b.cert)]);
      expect(infos).toEqual([expect.stringMatching(/webhook certificate reloaded from .*w\.crt; valid until 20/)]);

      rmSync(paths.key);
      watcher.poll();
      expect(warnings[1]).toMatch(/cannot read/);
      expect(contexts).toEqual([b.cert]);
    } finally {
      watcher.stop();
    }
  });
});
