/**
 * BGP speaker benchmark against FRR (root only; network namespaces from test/harness/netlab.ts):
 *   1. Service IP -> prefix in FRR's RIB: 100 /32s added one at a time (setRoutes), p50/p99;
 *   2. 1,000 and 10,000 prefixes: speaker start -> FRR pfxRcd holds them all;
 *   3. agent (speaker process) RSS with 10,000 prefixes and two peers.
 * Prints a table and JSON.  Run: npm run bench -- bgp
 */
import { mkdtempSync, rmSync } from "node:fs";
import { rssMB } from "./memory";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NetLab } from "../../test/harness/netlab";
import { Frr, Speaker, bundleSpeaker, sleep, until } from "../../test/harness/frr";
import { quantile } from "./stats";

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "mlbbgp-bench-"));
  const bundle = bundleSpeaker(dir);
  const lab = await NetLab.create({ nodes: 1, router: true });
  const frr = new Frr(lab.router!.ns, join(dir, "frr"));
  const speakers: Speaker[] = [];
  const results: Record<string, number> = {};
  try {
    frr.start({
      asn: 64512,
      routerId: "192.0.2.1",
      neighbors: [
        { address: "192.0.2.11", asn: 64513, keepalive: 10, hold: 30 },
        { address: "192.0.2.42", asn: 64514, keepalive: 10, hold: 30 },
      ],
    });
    await until("FRR vty", async () => ((await frr.vty("show version")) ? true : undefined), 10_000, 100);
    const ns = lab.nodes[0]!.ns;
    await lab.execOk(ns, ["ip", "addr", "add", "192.0.2.42/24", "dev", "eth0"]);
    const session = {
      peerAddress: "192.0.2.1",
      localAS: 64513,
      peerAS: 64512,
      routerId: "192.0.2.11",
      holdTime: 30,
      connectRetryTime: 2,
      backoff: { initial: 0.2, max: 1 },
    };
    const pfxRcd = async (addr: string): Promise<number> => {
      const s =
        await frr.json<Record<string, { peers?: Record<string, { pfxRcd?: number; state?: string }> }>>(
          "show bgp summary json",
        );
      for (const f of Object.values(s)) if (f?.peers?.[addr]) return f.peers[addr]!.pfxRcd ?? 0;
      return 0;
    };

    // 1. One at a time.
    const one = new Speaker(ns, bundle, { session, routes: [] });
    speakers.push(one);
    await one.waitFor("EOR", 15_000);
    const lat: number[] = [];
    for (let i = 0; i < 100; i++) {
      const prefix = `198.51.100.${i + 1}/32`;
      const t0 = performance.now();
      one.send({ add: prefix });
      await until(prefix, async () => ((await frr.paths(prefix)).length > 0 ? true : undefined), 10_000, 5);
      lat.push(performance.now() - t0);
    }
    results.add_p50_ms = quantile(lat, 0.5);
    results.add_p99_ms = quantile(lat, 0.99);
    one.send({ stop: true });
    await one.waitFor("STOPPED");
    await until("withdrawn", async () => ((await pfxRcd("192.0.2.11")) === 0 ? true : undefined), 10_000);

    // 2. Bulk from start.
    for (const n of [1000, 10000]) {
      const t0 = performance.now();
      const s = new Speaker(ns, bundle, { session, generate: n });
      speakers.push(s);
      await until(`${n} prefixes`, async () => ((await pfxRcd("192.0.2.11")) >= n ? true : undefined), 120_000, 20);
      results[`start_to_${n}_in_rib_ms`] = performance.now() - t0;
      if (n === 10000) {
        // 3. A second peer session from another address of the node.
        const s6 = new Speaker(ns, bundle, {
          session: { ...session, localAS: 64514, sourceAddress: "192.0.2.42", routerId: "192.0.2.42" },
          generate: n,
        });
        speakers.push(s6);
        await until("second peer", async () => ((await pfxRcd("192.0.2.42")) >= n ? true : undefined), 120_000, 50);
        await sleep(500);
        results.rss_10k_prefixes_one_session_MiB = rssMB(s.pid);
        results.rss_10k_prefixes_second_session_process_MiB = rssMB(s6.pid);
      }
      s.send({ stop: true });
      await s.waitFor("STOPPED");
      await until("withdrawn", async () => ((await pfxRcd("192.0.2.11")) === 0 ? true : undefined), 30_000);
    }
  } finally {
    for (const s of speakers) s.kill("SIGKILL");
    await frr.stop();
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log("| measure | value |\n|---|---|");
  for (const [k, v] of Object.entries(results)) console.log(`| ${k} | ${v.toFixed(1)} |`);
  console.log(JSON.stringify({ bench: "bgp", results }));
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err.stack ?? err.message);
    process.exit(1);
  },
);
