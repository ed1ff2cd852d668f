/**
 * Drain choreography (RFC 8326) end to end: the real API server and controller, three real
 * agents in node namespaces and FRR in the router namespace. What is asserted is what a
 * network engineer sees in `show bgp ipv4 unicast <prefix> json`: the node's path carries
 * the GRACEFUL_SHUTDOWN community (FRR: "gracefulShutdown") and loses its preference while
 * it is still there, and only later disappears.
 *
 * Topology: n0 and n1 peer over eBGP (AS 64513), n2 over iBGP (AS 64512, FRR's own), all
 * with FRR at 192.0.2.1; one Service, served from every node. Before any drain FRR prefers
 * n2 (iBGP, shorter AS path). Agents run with METALLB_BGP_GRACEFUL_SHUTDOWN_SECONDS=4.
 * Namespaces are mlb-gs<hex>-*, removed by name with everything the lab created.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kubectlOk } from "../harness/kubectl";
import { L2Lab, NS } from "../harness/l2lab";
import { Frr } from "../harness/frr";
import { labDescribe, needs } from "../harness/lab-suite";
import { until } from "../harness/wait";

const d = labDescribe("BGP drain (RFC 8326 graceful shutdown)", needs.lab, needs.frr, needs.addon);

const FRR_AS = 64512;
const NODE_AS = 64513;
const VIP = "192.0.2.180";
const PREFIX = `${VIP}/32`;
const WAIT_SECONDS = 4;

/** One path of FRR's `show bgp ipv4 unicast <prefix> json`, the fields looked at here. */
interface DetailPath {
  locPrf?: number;
  multipath?: boolean;
  bestpath?: { overall?: boolean };
  community?: { string?: string; list?: string[] };
  nexthops?: { ip?: string }[];
  peer?: { peerId?: string };
}

/** What FRR shows for one node's path at one moment. */
interface Seen {
  at: number;
  present: boolean;
  gshut: boolean;
  locPrf?: number;
  best: boolean;
  multipath: boolean;
}

d("BGP drain: GRACEFUL_SHUTDOWN before the withdraw, seen in FRR", () => {
  let lab: L2Lab;
  let frr: Frr;
  let frrDir: string;
  let n0: string, n1: string, n2: string;
  const addr = (node: string): string => lab.host(node).ipv4;

  const paths = async (): Promise<DetailPath[]> => {
    const out = await frr.vty(`show bgp ipv4 unicast ${PREFIX} json`);
    return (JSON.parse(out) as { paths?: DetailPath[] }).paths ?? [];
  };
  const look = async (node: string): Promise<Seen> => {
    const p = (await paths()).find((x) => (x.peer?.peerId ?? x.nexthops?.[0]?.ip) === addr(node));
    return {
      at: Date.now(),
      present: p !== undefined,
      gshut: p?.community?.list?.includes("gracefulShutdown") ?? false,
      ...(p?.locPrf !== undefined ? { locPrf: p.locPrf } : {}),
      best: p?.bestpath?.overall === true,
      multipath: p?.multipath === true || p?.bestpath?.overall === true,
    };
  };
  const waitSeen = (what: string, node: string, ok: (s: Seen) => boolean, timeoutMs = 30_000): Promise<Seen> =>
    until(
      what,
      async () => {
        const s = await look(node);
        return ok(s) ? s : undefined;
      },
      timeoutMs,
      100,
    );
  /** Polls a node's path until it is gone, recording every look. */
  const watchUntilGone = async (node: string, timeoutMs = 30_000): Promise<Seen[]> => {
    const seen: Seen[] = [];
    await until(
      `${PREFIX} via ${node} withdrawn`,
      async () => {
        const s = await look(node);
        seen.push(s);
        return s.present ? undefined : true;
      },
      timeoutMs,
      50,
    );
    return seen;
  };

  beforeAll(async () => {
    lab = await L2Lab.create({
      nodes: 3,
      router: true,
      runId: `gs${randomBytes(2).toString("hex")}`,
      agentEnv: { METALLB_BGP_GRACEFUL_SHUTDOWN_SECONDS: String(WAIT_SECONDS) },
    });
    [n0, n1, n2] = lab.nodeNames as [string, string, string];
    const [k, v] = lab.label;
    frrDir = mkdtempSync(join(tmpdir(), "mlbgs-frr-"));
    frr = new Frr(lab.net.router!.ns, frrDir);
    frr.start({
      asn: FRR_AS,
      routerId: "192.0.2.1",
      neighbors: [
        { address: addr(n0), asn: NODE_AS },
        { address: addr(n1), asn: NODE_AS },
        { address: addr(n2), asn: FRR_AS },
      ],
    });
    const host = (n: string) => ({ matchLabels: { "kubernetes.io/hostname": n } });
    const peer = (name: string, myASN: number, nodes: string[]) => ({
      apiVersion: "metallb.io/v1beta2",
      kind: "BGPPeer",
      metadata: { name, namespace: NS, labels: { [k]: v } },
      spec: {
        myASN,
        peerASN: FRR_AS,
        peerAddress: "192.0.2.1",
        holdTime: "9s",
        keepaliveTime: "1s",
        connectTime: "2s",
        nodeSelectors: nodes.map(host),
      },
    });
    const objects = [
      peer(`${lab.pool}-ebgp`, NODE_AS, [n0, n1]),
      peer(`${lab.pool}-ibgp`, FRR_AS, [n2]),
      {
        apiVersion: "metallb.io/v1beta1",
        kind: "BGPAdvertisement",
        metadata: { name: `${lab.pool}-bgp`, namespace: NS, labels: { [k]: v } },
        spec: { ipAddressPools: [lab.pool], peers: [`${lab.pool}-ebgp`, `${lab.pool}-ibgp`] },
      },
    ];
    await kubectlOk(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
    await lab.createService("gs-web", VIP);
    await lab.setEndpoints("gs-web", lab.nodeNames);
    await until(
      `${PREFIX} from all three nodes, via n2 (iBGP)`,
      async () => {
        const ps = await paths();
        const best = ps.find((p) => p.bestpath?.overall);
        return ps.length === 3 && best?.nexthops?.[0]?.ip === addr(n2) ? true : undefined;
      },
      90_000,
      250,
    );
  }, 240_000);

  afterAll(async () => {
    await frr?.stop();
    await lab?.destroy();
    if (frrDir) rmSync(frrDir, { recursive: true, force: true });
  }, 60_000);

  it("cordon (iBGP node): its path gets 65535:0 and LOCAL_PREF 0 and stops being best, but stays; uncordon restores it", async () => {
    const before = await look(n2);
    expect(before).toMatchObject({ present: true, gshut: false, locPrf: 100, best: true });
    await kubectlOk(["cordon", n2]);
    const tagged = await waitSeen("n2's path with graceful-shutdown", n2, (s) => s.gshut);
    expect(tagged).toMatchObject({ present: true, locPrf: 0 });
    // Traffic moves (FRR re-runs best-path selection just after it stores the new attributes):
    // the eBGP nodes carry it while n2's path is still there.
    const moved = await waitSeen("n2's path no longer best", n2, (s) => !s.best, 10_000);
    expect(moved).toMatchObject({ present: true, gshut: true, multipath: false });
    expect((await look(n0)).multipath && (await look(n1)).multipath).toBe(true);
    // A cordoned node still forwards: its path stays, as a last resort, past the wait.
    await new Promise((r) => setTimeout(r, (WAIT_SECONDS + 2) * 1000));
    expect(await look(n2)).toMatchObject({ present: true, gshut: true, locPrf: 0 });
    await kubectlOk(["uncordon", n2]);
    const back = await waitSeen("n2's path without graceful-shutdown", n2, (s) => s.present && !s.gshut);
    expect(back).toMatchObject({ locPrf: 100 });
    await waitSeen("n2 best again", n2, (s) => s.best);
  });

  it("SIGTERM (eBGP node): its path carries gracefulShutdown and leaves ECMP while still present, then is withdrawn", async () => {
    // With n2 out of the way, n0 and n1 share the traffic (ECMP).
    await kubectlOk(["cordon", n2]);
    try {
      await waitSeen("n0 in ECMP", n0, (s) => s.multipath && !s.gshut);
      await waitSeen("n1 in ECMP", n1, (s) => s.multipath);
      const agent = lab.agents.get(n0)!;
      agent.kill("SIGTERM");
      const seen = await watchUntilGone(n0);
      const firstTagged = seen.findIndex((s) => s.present && s.gshut);
      const unused = seen.findIndex((s) => s.present && s.gshut && !s.multipath);
      const gone = seen.findIndex((s) => !s.present);
      // Order of events, as FRR saw them: tagged, then out of ECMP while still present, then withdrawn.
      expect(firstTagged).toBeGreaterThanOrEqual(0);
      expect(unused).toBeGreaterThanOrEqual(firstTagged);
      expect(unused).toBeLessThan(gone);
      // FRR applies RFC 8326 §4.1 itself on eBGP: LOCAL_PREF 0 on import.
      expect(seen[unused]).toMatchObject({ locPrf: 0, best: false });
      expect(await look(n1)).toMatchObject({ present: true, best: true });
      console.log(
        `n0 SIGTERM: out of ECMP ${seen[unused]!.at - seen[firstTagged]!.at} ms after FRR was seen holding it tagged, withdrawn ${
          seen[gone]!.at - seen[unused]!.at
        } ms after that (wait ${WAIT_SECONDS} s)`,
      );
      expect(await agent.exited).toBe(0);
      expect(agent.output()).toMatch(/BGP graceful shutdown: stopping; routes re-advertised with GRACEFUL_SHUTDOWN/);
    } finally {
      await lab.startAgent(n0);
      await kubectlOk(["uncordon", n2]);
    }
    await waitSeen("n0's path back, untagged", n0, (s) => s.present && !s.gshut);
  });

  it("a second SIGTERM ends the wait: the agent withdraws and exits without waiting it out", async () => {
    await waitSeen("n0's path, untagged", n0, (s) => s.present && !s.gshut);
    const agent = lab.agents.get(n0)!;
    try {
      agent.kill("SIGTERM");
      await waitSeen("n0's path tagged", n0, (s) => s.present && s.gshut);
      agent.kill("SIGTERM");
      expect(await agent.exited).toBe(0);
      expect(agent.output()).toMatch(/BGP graceful shutdown: asked again to stop; withdrawing now/);
      await waitSeen("n0's path withdrawn", n0, (s) => !s.present);
    } finally {
      await lab.startAgent(n0);
    }
    await waitSeen("n0's path back, untagged", n0, (s) => s.present && !s.gshut);
  });

  it("exclusion label (eBGP node): tagged first, withdrawn after the wait; removing the label brings it back untagged", async () => {
    const label = "node.kubernetes.io/exclude-from-external-load-balancers";
    await waitSeen("n1's path", n1, (s) => s.present && !s.gshut);
    await lab.labelNode(n1, label, "true");
    try {
      const seen = await watchUntilGone(n1);
      const firstTagged = seen.findIndex((s) => s.present && s.gshut);
      const gone = seen.findIndex((s) => !s.present);
      expect(firstTagged).toBeGreaterThanOrEqual(0);
      expect(firstTagged).toBeLessThan(gone);
      console.log(
        `n1 excluded: withdrawn ${seen[gone]!.at - seen[firstTagged]!.at} ms after it was seen tagged (wait ${WAIT_SECONDS} s)`,
      );
    } finally {
      await lab.labelNode(n1, label, undefined);
    }
    await waitSeen("n1's path back, untagged", n1, (s) => s.present && !s.gshut);
  });
});
