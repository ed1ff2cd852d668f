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

/** One claim of an address seen on the wire: an ARP reply or a gratuitous request, by MAC. */
export interface Claim {
  /** Capture time, seconds (tcpdump -tt). */
  t: number;
  mac: string;
}

/** Who claimed `ip` in a `tcpdump -n -e -tt arp` capture (ARP replies and gratuitous requests), in time order. */
export function claimsIn(output: string, ip: string): Claim[] {
  const claims: Claim[] = [];
  for (const line of output.split("\n")) {
    const m = /^(\d+\.\d+) ([0-9a-f:]{17}) > .*?(?:Reply (\S+) is-at|Request who-has ([0-9.]+) tell ([0-9.]+))/.exec(
      line,
    );
    if (!m) continue;
    const claimed = m[3] ?? (m[4] === m[5] ? m[4] : undefined);
    if (claimed === ip) claims.push({ t: Number(m[1]), mac: m[2] });
  }
  return claims;
}

/** The MACs that claimed in turn: one entry per unbroken run, so two answerers at once show as interleaving. */
export function handOversIn(claims: readonly Claim[]): string[] {
  const order: string[] = [];
  for (const c of claims) if (order[order.length - 1] !== c.mac) order.push(c.mac);
  return order;
}

/**
 * tcpdump on the client's link while the raw prober asks for `ip` every `intervalMs`;
 * resolves after the first answer, so a fault injected next meets a prober that runs.
 * `stop` returns who claimed `ip`, in time order.
 */
export async function watchClaims(lab: L2Lab, ip: string, proberJs: string, intervalMs = 20) {
  const c = lab.net.client;
  // --immediate-mode: libpcap otherwise hands packets over in blocks (up to about a second
  // late), and a SIGINT in that window drops the newest ones: in CI the survivor's claims were
  // on the wire (the prober got its replies) but missing from the capture.
  const dump = lab.net.spawnIn(c.ns, ["tcpdump", "--immediate-mode", "-i", c.ifname, "-n", "-e", "-l", "-tt", "arp"]);
  await dump.waitFor("listening on", 10_000);
  const probe = startProber(lab, proberJs, ip, intervalMs);
  const deadline = Date.now() + 10_000;
  while (probe.replies.length === 0) {
    if (Date.now() > deadline) {
      probe.stop();
      dump.kill("SIGINT");
      throw new Error(`nobody answered the prober for ${ip} within 10 s`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    probe,
    stop: async (): Promise<Claim[]> => {
      probe.stop();
      await new Promise((r) => setTimeout(r, 200)); // what is in flight reaches the capture
      dump.kill("SIGINT");
      await dump.exited;
      return claimsIn(dump.output(), ip);
    },
  };
}
