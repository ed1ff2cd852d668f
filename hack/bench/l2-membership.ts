/**
 * What L2 membership costs a node at 3, 10 and 50 voters (more with arguments): one measured
 * peer (hack/bench/membership-peer.ts: the agent's Membership and heartbeat socket, evaluating
 * once per burst as the agent does) in its own network namespace, and every other voter as a
 * full Membership in one "crowd" process in a second namespace, each with its own address
 * (hack/bench/membership-crowd.ts): this machine's 2 cores cannot run 50 Node processes, and
 * the measured node's cost depends only on what it sends and hears, which is the real thing.
 * Reported per node: heartbeats and bytes sent and received per second, the packet size, and
 * the measured peer's CPU (user + system from /proc) over a 10 s window after a 3 s warm-up.
 * The measured peer must end in quorum with every voter's vote. No API server.
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
  cpuPercent: number;
  inQuorumWithEveryVote: boolean;
}

async function measure(n: number, peerJs: string, crowdJs: string): Promise<Row> {
  const net = await NetLab.create({ nodes: 2 });
  try {
    const [me, crowdHost] = net.nodes;
    const voters = Array.from({ length: n }, (_, i) => `v${String(i).padStart(3, "0")}`);
    const addresses: Record<string, string> = { [voters[0]]: me.ipv4 };
    // The crowd's addresses: 192.0.2.100 upwards, aliases on the crowd namespace's interface.
    for (let i = 1; i < n; i++) {
      addresses[voters[i]] = `192.0.2.${99 + i}`;
      await net.execOk(crowdHost.ns, ["ip", "addr", "add", `${addresses[voters[i]]}/24`, "dev", crowdHost.ifname]);
    }
    const roster = JSON.stringify({ voters, tiebreaker: n % 2 === 0, addresses });
    const key = randomBytes(32).toString("hex");
    const crowd = net.spawnIn(crowdHost.ns, [process.execPath, crowdJs], {
      MEASURED: voters[0],
      ROSTER: roster,
      KEY: key,
    });
    await crowd.waitFor("crowd ready", 30_000);
    const peer = net.spawnIn(me.ns, [process.execPath, peerJs], { NODE: voters[0], ROSTER: roster, KEY: key });
    await peer.waitFor("peer ready", 30_000);
    await sleep(3000);
    const cpu0 = cpuSeconds(peer.pid);
    await sleep(WINDOW_MS);
    const cpu = ((cpuSeconds(peer.pid) - cpu0) / (WINDOW_MS / 1000)) * 100;
    const t = 3 + WINDOW_MS / 1000;
    peer.kill("SIGTERM");
    await peer.exited;
    crowd.kill("SIGKILL");
    const stats = JSON.parse(peer.output().trim().split("\n").pop()!) as Record<string, number | boolean>;
    const per = (k: string): number => Math.round(Number(stats[k]) / t);
    return {
      peers: n,
      packetBytes: Number(stats.packetBytes),
      sentPerSec: per("sent"),
      receivedPerSec: per("received"),
      bytesOutPerSec: per("bytesOut"),
      bytesInPerSec: per("bytesIn"),
      cpuPercent: Number(cpu.toFixed(2)),
      inQuorumWithEveryVote: stats.inQuorum === true && stats.votes === n,
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
  const build = (name: string): string => {
    const js = join(out, `${name}.js`);
    const entry = join(repoRoot, "hack", "bench", `${name}.ts`);
    buildSync({
      entryPoints: [entry],
      bundle: true,
      platform: "node",
      target: "node20",
      outfile: js,
      logLevel: "warning",
    });
    return js;
  };
  const [peerJs, crowdJs] = [build("membership-peer"), build("membership-crowd")];
  const rows: Row[] = [];
  for (const n of sizes.length ? sizes : [3, 10, 50]) {
    rows.push(await measure(n, peerJs, crowdJs));
    process.stderr.write(`${n} peers measured\n`);
  }
  console.log("\nvoters  packet B  sent/s  recv/s  out B/s  in B/s  CPU % of one core  in quorum, every vote");
  for (const r of rows)
    console.log(
      `${String(r.peers).padStart(5)} ${String(r.packetBytes).padStart(9)} ${String(r.sentPerSec).padStart(7)} ${String(r.receivedPerSec).padStart(7)} ${String(r.bytesOutPerSec).padStart(8)} ${String(r.bytesInPerSec).padStart(7)}  ${String(r.cpuPercent).padStart(16)}  ${r.inQuorumWithEveryVote}`,
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
