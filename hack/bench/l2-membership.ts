/**
 * What L2 membership costs each node: 3, 10 and 50 peers in network namespaces on one
 * bridge, each running the agent's Membership and heartbeat socket (hack/bench/
 * membership-peer.ts) at the default 50 ms interval, no API server. Per node: heartbeats and
 * bytes sent and received per second, the packet size, and CPU (user + system from /proc)
 * over a 10 s window after a 3 s warm-up. Every peer must end in quorum with every vote.
 *
 *   npm run bench -- l2-membership [sizes...]     (root; default 3 10 50)
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildSync } from "esbuild";
import { repoRoot } from "../../test/harness/local-cluster";
import { NetLab, labSkipReason } from "../../test/harness/netlab";
import { cpuSeconds } from "./memory";

const WINDOW_MS = 10_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Row {
  peers: number;
  packetBytes: number;
  sentPerSec: number;
  receivedPerSec: number;
  bytesOutPerSec: number;
  bytesInPerSec: number;
  cpuPercentMedian: number;
  cpuPercentMax: number;
  allInQuorum: boolean;
}

async function measure(n: number, peerJs: string): Promise<Row> {
  const net = await NetLab.create({ nodes: n });
  try {
    const voters = net.nodes.map((h) => h.ns);
    const roster = JSON.stringify({
      voters,
      tiebreaker: n % 2 === 0,
      addresses: Object.fromEntries(net.nodes.map((h) => [h.ns, h.ipv4])),
    });
    const key = randomBytes(32).toString("hex");
    const procs = net.nodes.map((h) =>
      net.spawnIn(h.ns, [process.execPath, peerJs], { NODE: h.ns, ROSTER: roster, KEY: key }),
    );
    await Promise.all(procs.map((p) => p.waitFor("peer ready", 30_000)));
    await sleep(3000);
    const cpu0 = procs.map((p) => cpuSeconds(p.pid));
    await sleep(WINDOW_MS);
    const cpu = procs.map((p, i) => ((cpuSeconds(p.pid) - cpu0[i]) / (WINDOW_MS / 1000)) * 100);
    const t = 3 + WINDOW_MS / 1000;
    for (const p of procs) p.kill("SIGTERM");
    await Promise.all(procs.map((p) => p.exited));
    const stats = procs.map(
      (p) => JSON.parse(p.output().trim().split("\n").pop()!) as Record<string, number | boolean>,
    );
    const avg = (k: string): number => stats.reduce((a, s) => a + Number(s[k]), 0) / stats.length / t;
    cpu.sort((a, b) => a - b);
    return {
      peers: n,
      packetBytes: Number(stats[0].packetBytes),
      sentPerSec: Math.round(avg("sent")),
      receivedPerSec: Math.round(avg("received")),
      bytesOutPerSec: Math.round(avg("bytesOut")),
      bytesInPerSec: Math.round(avg("bytesIn")),
      cpuPercentMedian: Number(cpu[Math.floor(cpu.length / 2)].toFixed(2)),
      cpuPercentMax: Number(cpu[cpu.length - 1].toFixed(2)),
      allInQuorum: stats.every((s) => s.inQuorum === true && s.votes === n),
    };
  } finally {
    await net.destroy();
  }
}

async function main(): Promise<void> {
  const skip = labSkipReason();
  if (skip) return void console.log(`l2-membership: skipped: ${skip}`);
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((x) => x > 0);
  const out = join(repoRoot, ".lab", "bench-l2-membership");
  mkdirSync(out, { recursive: true });
  const peerJs = join(out, "membership-peer.js");
  buildSync({
    entryPoints: [join(repoRoot, "hack", "bench", "membership-peer.ts")],
    bundle: true,
    platform: "node",
    target: "node20",
    outfile: peerJs,
    logLevel: "warning",
  });
  const rows: Row[] = [];
  for (const n of sizes.length ? sizes : [3, 10, 50]) {
    rows.push(await measure(n, peerJs));
    process.stderr.write(`${n} peers measured\n`);
  }
  console.log("\npeers  packet B  sent/s  recv/s  out B/s  in B/s  CPU % per node (median / max)  all in quorum");
  for (const r of rows)
    console.log(
      `${String(r.peers).padStart(5)} ${String(r.packetBytes).padStart(9)} ${String(r.sentPerSec).padStart(7)} ${String(r.receivedPerSec).padStart(7)} ${String(r.bytesOutPerSec).padStart(8)} ${String(r.bytesInPerSec).padStart(7)}  ${r.cpuPercentMedian} / ${r.cpuPercentMax}  ${r.allInQuorum}`,
    );
  const result = { when: new Date().toISOString(), intervalMs: 50, rows };
  const dir = join(repoRoot, "bench", "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "l2-membership.json"), JSON.stringify(result, null, 2));
  console.log(JSON.stringify(result));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
