/**
 * The raw-socket ARP prober (hack/bench/arp-prober.ts) for labs and benchmarks: a who-has
 * every few milliseconds from the client namespace (arping cannot go below 1 s), each
 * reply naming the probe it answers.
 */
import { buildSync } from "esbuild";
import { join } from "node:path";
import type { L2Lab } from "./l2lab";
import { repoRoot } from "./local-cluster";

/** The raw-socket prober (hack/bench/arp-prober.ts), bundled once. */
export function buildProber(dir: string): string {
  const out = join(dir, "arp-prober.js");
  buildSync({
    entryPoints: [join(repoRoot, "hack", "bench", "arp-prober.ts")],
    bundle: true,
    platform: "node",
    target: "node20",
    external: ["*.node"],
    outfile: out,
    logLevel: "warning",
  });
  return out;
}

/** Probes `ip` from the client every `intervalMs`; reply times (prober clock, same host) by MAC. */
export function startProber(lab: L2Lab, prober: string, ip: string, intervalMs = 10) {
  const c = lab.net.client;
  const replies: Array<{ t: number; mac: string; seq: number }> = [];
  const sent: Array<{ t: number; seq: number }> = [];
  const addon = join(repoRoot, "build", "Release", "rawnet.node");
  const p = lab.net.spawnIn(c.ns, [process.execPath, prober, c.ifname, ip, String(intervalMs)], {
    METALLB_PEPR_RAWNET: addon,
  });
  let partial = "";
  p.proc.stdout!.on("data", (d: Buffer) => {
    partial += d.toString();
    const lines = partial.split("\n");
    partial = lines.pop()!;
    for (const line of lines) {
      const f = line.split(" ");
      if (f[0] === "REPLY") replies.push({ t: Number(f[1]), mac: f[2], seq: Number(f[3]) });
      else if (f[0] === "SENT") sent.push({ t: Number(f[1]), seq: Number(f[2]) });
    }
  });
  return { replies, sent, stop: () => p.kill("SIGKILL") };
}
