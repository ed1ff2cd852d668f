/**
 * L2 membership under the faults issue 12 names, with real agents in network namespaces, the
 * controller in `pepr dev` and the real kube-apiserver: a paused owner (SIGSTOP), the API
 * server itself paused for a minute, and a two-node cluster where the tie-breaker Lease
 * decides. A capture on the client's link checks that two MACs never claim one address.
 * Needs root; skips with the reason otherwise.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { L2Lab } from "../harness/l2lab";
import { buildProber, handOversIn, startProber, watchClaims } from "../harness/arp-probe";
import { labSkipReason } from "../harness/netlab";
import { sleep, until } from "../harness/wait";
import { bounds, DEFAULT_SLACK } from "../../capabilities/announcer/l2/spread";
import { testCluster } from "../integration/global-setup";

const skip = labSkipReason();
const d = skip ? describe.skip : describe;
if (skip) console.warn(`test/lab/l2-membership.test.ts skipped: ${skip}`);

const countBy = (xs: string[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
};

/** The recorded owner of `service`, once it is also the node answering for `ip`. */
async function settled(lab: L2Lab, service: string, ip: string): Promise<string> {
  return until(
    "the recorded owner answers",
    async () => {
      const o = await lab.owner(service);
      return o && (await lab.arping(ip, 1)) === lab.host(o).mac ? o : undefined;
    },
    30_000,
  );
}

d("L2 membership: a paused owner and a paused API server (three agents)", () => {
  let lab: L2Lab;
  let proberJs: string;
  const V4 = "192.0.2.170";

  beforeAll(async () => {
    lab = await L2Lab.create({ nodes: 3 });
    proberJs = buildProber(lab.net.dir);
    await lab.createService("web", V4);
  }, 120_000);

  afterAll(async () => {
    await lab?.destroy();
  }, 60_000);

  it("SIGSTOP of the owner: a standby takes over, and the resumed owner stays silent", async () => {
    const old = await settled(lab, "web", V4);
    const w = await watchClaims(lab, V4, proberJs);
    const agent = lab.agents.get(old)!;
    agent.kill("SIGSTOP");
    try {
      const next = await lab.waitOwner("web", (n) => n !== old, 15_000);
      await sleep(1000);
      agent.kill("SIGCONT");
      await sleep(2000);
      const claims = await w.stop();
      expect(handOversIn(claims)).toEqual([lab.host(old).mac, lab.host(next).mac]);
      expect(await lab.owner("web")).toBe(next);
    } finally {
      agent.kill("SIGCONT");
    }
  });

  it("kube-apiserver paused for 60 s: the owner keeps answering every probe, and a killed owner still fails over", async () => {
    const old = await settled(lab, "web", V4);
    const w = await watchClaims(lab, V4, proberJs);
    const apiserver = Number(readFileSync(join(testCluster.stateDir, "apiserver.pid"), "utf8"));
    process.kill(apiserver, "SIGSTOP");
    let victimKilledAt = 0;
    try {
      await sleep(20_000);
      // Every probe of the first 20 s, API server gone, was answered by the owner.
      const before = w.probe.sent.filter((s) => s.t < Date.now() - 1000);
      const answered = new Set(w.probe.replies.filter((r) => r.mac === lab.host(old).mac).map((r) => r.seq));
      const unanswered = before.filter((s) => !answered.has(s.seq)).length;
      expect(unanswered).toBe(0);
      victimKilledAt = Date.now();
      lab.agents.get(old)!.kill("SIGKILL");
      await sleep(40_000);
    } finally {
      process.kill(apiserver, "SIGCONT");
    }
    const claims = await w.stop();
    const order = handOversIn(claims);
    // The owner, then one standby that took over with no API server at all.
    expect(order).toHaveLength(2);
    expect(order[0]).toBe(lab.host(old).mac);
    const standby = lab.nodeByMac(order[1])!;
    const firstAnswer = w.probe.replies.find((r) => r.mac === order[1] && r.t >= victimKilledAt);
    expect(firstAnswer).toBeDefined();
    // A figure for the issue note, not an assertion (timings belong in benchmarks).
    console.log(`failover with kube-apiserver paused: ${firstAnswer!.t - victimKilledAt} ms`);
    // Once the API server is back, the controller records the standby (it moved nothing on its own).
    await lab.waitOwner("web", (n) => n === standby, 30_000);
    await lab.startAgent(old);
  }, 180_000);

  it("a node back from a crash takes back only its share of addresses, make-before-break: every probe is answered", async () => {
    const ipOf = new Map([["web", V4], ...[0, 1, 2, 3, 4].map((i) => [`spread-${i}`, `192.0.2.${180 + i}`] as const)]);
    const names = [...ipOf.keys()];
    for (const [name, ip] of ipOf) if (name !== "web") await lab.createService(name, ip);
    for (const [name, ip] of ipOf) await settled(lab, name, ip);
    const start = await lab.owners();
    const victim = Object.entries(countBy(names.map((n) => start.get(n)!))).sort((a, b) => b[1] - a[1])[0][0];
    lab.agents.get(victim)!.kill("SIGKILL");
    // The failover is done when the crashed node's addresses are on the others and the load is
    // within the two survivors' band: the standbys that took over may hold more than their
    // share at first, and the controller evens that out among them (a move of its own, which
    // must not be counted as one caused by the return below).
    const band = bounds(names.length, 2, DEFAULT_SLACK);
    const survivors = await until(
      "the crashed node's addresses are recorded on the others, within the survivors' band",
      async () => {
        const o = await lab.owners();
        if (!names.every((n) => o.get(n) !== undefined && o.get(n) !== victim)) return undefined;
        const counts = Object.values(countBy(names.map((n) => o.get(n)!)));
        return counts.length === 2 && counts.every((c) => c >= band.lo && c <= band.hi) ? o : undefined;
      },
      30_000,
    );
    for (const [name, ip] of ipOf) await settled(lab, name, ip);

    const probes = names.map((n) => ({ name: n, probe: startProber(lab, proberJs, ipOf.get(n)!, 20) }));
    await lab.startAgent(victim);
    const back = await until(
      "the returning node is given addresses",
      async () => {
        const o = await lab.owners();
        return names.some((n) => o.get(n) === victim) && names.every((n) => o.has(n)) ? o : undefined;
      },
      60_000,
    );
    await sleep(3000);
    const stoppedAt = Date.now();
    probes.forEach((p) => p.probe.stop());
    // Settled: nothing moves after the rebalance.
    expect(await lab.owners()).toEqual(back);

    // Only what the band requires moves, and only onto the returning node: 6 addresses over
    // 3 nodes keep every node within [floor(0.75 x 2), ceil(1.25 x 2)] = [1, 3].
    const moved = names.filter((n) => survivors.get(n) !== back.get(n));
    for (const n of moved) expect(back.get(n)).toBe(victim);
    for (const count of Object.values(countBy(names.map((n) => back.get(n)!)))) {
      expect(count).toBeGreaterThanOrEqual(1);
      expect(count).toBeLessThanOrEqual(3);
    }
    for (const { name, probe } of probes) {
      // Every probe but the last in flight was answered, through the hand-over too.
      const answered = new Set(probe.replies.map((r) => r.seq));
      const unanswered = probe.sent.filter((p) => p.t < stoppedAt - 200 && !answered.has(p.seq));
      expect({ name, unanswered: unanswered.length }).toEqual({ name, unanswered: 0 });
      const macs = probe.replies.map((r) => r.mac);
      const from = lab.host(survivors.get(name)!).mac;
      const to = lab.host(back.get(name)!).mac;
      // Probes both nodes answered during the hand-over (two live nodes, by design): reported.
      const byMac = new Map<number, Set<string>>();
      for (const r of probe.replies) byMac.set(r.seq, (byMac.get(r.seq) ?? new Set()).add(r.mac));
      const both = [...byMac.values()].filter((m) => m.size > 1).length;
      if (from !== to)
        console.log(`hand-over of ${name}: ${both} of ${probe.sent.length} probes answered by both nodes`);
      // The old owner until the new one, then the new one alone: never a third node.
      expect(new Set(macs)).toEqual(new Set(from === to ? [from] : [from, to]));
      expect(macs[0]).toBe(from);
      expect(macs[macs.length - 1]).toBe(to);
    }
  }, 180_000);
});

d("L2 membership: two nodes and the tie-breaker Lease", () => {
  let lab: L2Lab;
  let proberJs: string;
  const V4 = "192.0.2.171";

  beforeAll(async () => {
    // A short tie-breaker Lease, so the holder's death is decided within the test.
    lab = await L2Lab.create({
      nodes: 2,
      agentEnv: { METALLB_L2_TIEBREAKER_DURATION_MS: "4000", METALLB_L2_TIEBREAKER_RENEW_MS: "1000" },
    });
    proberJs = buildProber(lab.net.dir);
    await lab.createService("web", V4);
  }, 120_000);

  afterAll(async () => {
    await lab?.destroy();
  }, 60_000);

  it("either node survives the other's death: the survivor answers alone, never both", async () => {
    for (let round = 0; round < 2; round++) {
      const old = await settled(lab, "web", V4);
      const w = await watchClaims(lab, V4, proberJs);
      lab.agents.get(old)!.kill("SIGKILL");
      const next = await lab.waitOwner("web", (n) => n !== old, 30_000);
      await until(
        "the survivor answers",
        async () => ((await lab.arping(V4, 1)) === lab.host(next).mac ? true : undefined),
        30_000,
      );
      const claims = await w.stop();
      const detail = `round ${round}: killed ${old} (${lab.host(old).mac}), survivor ${next} (${lab.host(next).mac}); ${claims.length} claims, prober replies by MAC ${JSON.stringify(countBy(w.probe.replies.map((r) => r.mac)))}`;
      expect({ detail, order: handOversIn(claims) }).toEqual({
        detail,
        order: [lab.host(old).mac, lab.host(next).mac],
      });
      await lab.startAgent(old);
      // Let the restarted agent rejoin before failing the other node.
      await sleep(3000);
    }
  }, 180_000);
});
