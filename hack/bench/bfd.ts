/**
 * BFD detection time, both ways, at 300 ms x 3 (MetalLB's BFDProfile defaults), against FRR's
 * bfdd (root only; network namespaces from test/harness/netlab.ts, FRR from
 * hack/install-deps.sh, the rawnet addon from hack/build-native.sh):
 *   - node -> FRR cut (a blackhole route on the node): how long until FRR's bfdd says down
 *     (its log, microsecond timestamps);
 *   - FRR -> node cut (a blackhole policy rule on the node for packets from FRR): how long until our session
 *     (hack/bench/bfd-peer.ts, the agent's code) says Down.
 * Each time is from the moment the route was in place; the bound is Detect Mult x interval
 * = 900 ms after the last packet that got through (so 600-900 ms after the cut, plus jitter).
 * Prints a table and JSON.  Run: npm run bench -- bfd [rounds]
 */
import { ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildSync } from "esbuild";
import { NetLab } from "../../test/harness/netlab";
import { ADDON, ROOT } from "../../test/harness/frr";
import { FrrBfd } from "../../test/harness/frr-bfd";
import { until } from "../../test/harness/wait";
import { quantile } from "./stats";

const ROUTER = "192.0.2.1";
const NODE = "192.0.2.11";

interface Change {
  t: number;
  state: string;
  diag: string;
}

/** bfdd log lines "YYYY/MM/DD hh:mm:ss.uuuuuu BFD: ... state-change: [...] up -> down ..." after `since`. */
function frrDownAt(log: string, since: number): number | undefined {
  for (const line of log.split("\n")) {
    const m = /^(\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{6}) .*state-change:.* up -> down/.exec(line);
    if (!m) continue;
    const [, y, mo, d, h, mi, s, us] = m;
    const t = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!) + Number(us) / 1000;
    if (t >= since) return t;
  }
  return undefined;
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 5);
  const dir = mkdtempSync(join(tmpdir(), "mlb-bfd-bench-"));
  const fixture = join(dir, "bfd-peer.js");
  buildSync({
    entryPoints: [join(ROOT, "hack/bench/bfd-peer.ts")],
    bundle: true,
    platform: "node",
    target: "node20",
    outfile: fixture,
    logLevel: "warning",
  });
  const lab = await NetLab.create({ nodes: 1, router: true, runId: `bfdb${randomBytes(2).toString("hex")}` });
  const node = lab.nodes[0]!.ns;
  const routerNs = lab.router!.ns;
  // Its own temporary directory: bfdd and zebra run as the frr user, who cannot enter `dir`.
  const frrDir = mkdtempSync(join(tmpdir(), "mlb-bfd-bench-frr-"));
  const frr = new FrrBfd(routerNs, frrDir);
  let peer: ChildProcess | undefined;
  const changes: Change[] = [];
  const toFrr: number[] = [];
  const toNode: number[] = [];
  try {
    await frr.start({
      asn: 64512,
      routerId: ROUTER,
      neighbors: [],
      noBgp: true,
      bfdProfile: { name: "fast", receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3 },
      bfdNeighbors: [],
      bfdPeers: [{ address: NODE, local: ROUTER }],
    });
    peer = spawn("ip", ["netns", "exec", node, process.execPath, fixture, ROUTER, "300", "3"], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, METALLB_PEPR_RAWNET: ADDON },
    });
    let partial = "";
    peer.stdout!.on("data", (b: Buffer) => {
      partial += b.toString();
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const l of lines) if (l.startsWith("{")) changes.push(JSON.parse(l) as Change);
    });
    const ours = (): string | undefined => changes[changes.length - 1]?.state;
    const dropFromFrr = ["pref", "10", "from", `${ROUTER}/32`, "iif", lab.nodes[0]!.ifname, "blackhole"];
    // Input rules are read after the local table's rule (pref 0): move that one behind ours.
    await lab.execOk(node, ["ip", "rule", "add", "pref", "1000", "lookup", "local"]);
    await lab.execOk(node, ["ip", "rule", "del", "pref", "0"]);
    const bothUp = async (): Promise<void> => {
      await until("our session Up", async () => (ours() === "Up" ? true : undefined), 20_000, 20);
      await until(
        "FRR's peer up",
        async () => ((await frr.bfdPeer(NODE))?.status === "up" ? true : undefined),
        20_000,
        50,
      );
    };
    for (let i = 0; i < rounds; i++) {
      // node -> FRR: FRR detects.
      await bothUp();
      await lab.execOk(node, ["ip", "route", "add", "blackhole", `${ROUTER}/32`]);
      const t0 = Date.now();
      const tFrr = await until(
        "FRR's bfdd logs up -> down",
        async () => frrDownAt(readFileSync(join(frrDir, "bfdd.log"), "utf8"), t0 - 50),
        10_000,
        20,
      );
      toFrr.push(tFrr - t0);
      await lab.execOk(node, ["ip", "route", "del", "blackhole", `${ROUTER}/32`]);

      // FRR -> node: we detect. A policy rule on the node drops what arrives from FRR (a
      // route on FRR's side would not: bfdd's socket is bound to its interface).
      await bothUp();
      const before = changes.length;
      await lab.execOk(node, ["ip", "rule", "add", ...dropFromFrr]);
      const t1 = Date.now();
      const down = await until(
        "our session leaves Up",
        async () => changes.slice(before).find((c) => c.state !== "Up"),
        10_000,
        10,
      );
      toNode.push(down.t - t1);
      if (down.diag !== "control detection time expired") throw new Error(`unexpected diagnostic ${down.diag}`);
      await lab.execOk(node, ["ip", "rule", "del", ...dropFromFrr]);
    }
  } finally {
    peer?.kill("SIGKILL");
    await frr.stop();
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
    rmSync(frrDir, { recursive: true, force: true });
  }
  const row = (name: string, xs: number[]) =>
    `| ${name} | ${xs.length} | ${quantile(xs, 0.5).toFixed(0)} | ${Math.max(...xs).toFixed(0)} | ${Math.min(...xs).toFixed(0)} |`;
  console.log("BFD detection at 300 ms x 3 (bound: 900 ms after the last packet that got through)");
  console.log("| direction | runs | median ms | max ms | min ms |\n|---|---|---|---|---|");
  console.log(row("node -> FRR cut, FRR bfdd detects", toFrr));
  console.log(row("FRR -> node cut, agent detects", toNode));
  console.log(
    JSON.stringify({ bench: "bfd", interval_ms: 300, detect_mult: 3, frr_detects_ms: toFrr, agent_detects_ms: toNode }),
  );
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err.stack ?? err.message);
    process.exit(1);
  },
);
