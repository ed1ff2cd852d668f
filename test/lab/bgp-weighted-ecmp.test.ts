/**
 * Weighted ECMP (metallb#1) against FRR with zebra: the real API server and controller,
 * three node namespaces running real agents, and FRR (zebra + bgpd) in a router namespace.
 * Only Kubernetes objects go in (a BGPAdvertisement annotated metallb.io/weighted-ecmp, an
 * externalTrafficPolicy: Local Service and its EndpointSlice); what is checked is what a
 * network engineer sees: the link bandwidth of each path in FRR's BGP table and the
 * next-hop weights zebra installs.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kubectlOk } from "../harness/kubectl";
import { L2Lab, NS } from "../harness/l2lab";
import { FrrBfd, ZEBRA } from "../harness/frr-bfd";
import { labDescribe, needs } from "../harness/lab-suite";
import { until } from "../harness/wait";

const d = labDescribe("weighted ECMP with FRR", needs.lab, needs.frr, needs.addon, () =>
  existsSync(ZEBRA) ? undefined : "needs FRR's zebra: run hack/install-deps.sh as root",
);

const FRR_AS = 64512;
const NODE_AS = 64513;
const ROUTER = "192.0.2.1";
const VIP = "192.0.2.176";

interface BgpPath {
  valid?: boolean;
  multipath?: boolean;
  bestpath?: boolean;
  nexthops?: { ip?: string }[];
  extendedCommunity?: { string?: string };
}
interface RibEntry {
  nexthops?: { ip?: string; weight?: number; active?: boolean }[];
}

d("weighted ECMP: link bandwidth by serving endpoints, weights in FRR's RIB", () => {
  let lab: L2Lab;
  let frr: FrrBfd;
  let dir: string;
  const addr = (node: string): string => lab.host(node).ipv4;

  /** Next hop -> the link bandwidth FRR's BGP table shows for that path ("LB:AS:bytes/s"). */
  const bandwidths = async (): Promise<Map<string, string>> => {
    const detail = await frr.frr.json<{ paths?: BgpPath[] }>(`show bgp ipv4 unicast ${VIP}/32 json`);
    return new Map(
      (detail.paths ?? [])
        .filter((p) => p.valid !== false)
        .map((p) => [p.nexthops?.[0]?.ip ?? "?", /LB:\d+:\d+/.exec(p.extendedCommunity?.string ?? "")?.[0] ?? "none"]),
    );
  };
  /** Next hop -> weight zebra installed for the VIP. */
  const weights = async (): Promise<Map<string, number>> => {
    const rib = await frr.frr.json<Record<string, RibEntry[]>>(`show ip route ${VIP}/32 json`);
    const hops = rib[`${VIP}/32`]?.[0]?.nexthops ?? [];
    return new Map(hops.filter((h) => h.active !== false).map((h) => [h.ip ?? "?", h.weight ?? 0]));
  };
  const bandwidthsBecome = (want: Record<string, string>) =>
    until(
      `FRR's paths to carry ${JSON.stringify(want)}`,
      async () => {
        const got = Object.fromEntries([...(await bandwidths())].sort());
        if (JSON.stringify(got) === JSON.stringify(Object.fromEntries(Object.entries(want).sort()))) return got;
        throw new Error(`FRR shows ${JSON.stringify(got)}`); // the last view goes into the timeout message
      },
      30_000,
      200,
    );
  const weightsOf = (nodes: string[]) =>
    until(
      `zebra to install weighted next hops via ${nodes.join(", ")}`,
      async () => {
        const w = await weights();
        return nodes.every((n) => (w.get(addr(n)) ?? 0) > 0) && w.size === nodes.length ? w : undefined;
      },
      30_000,
      200,
    );

  beforeAll(async () => {
    lab = await L2Lab.create({ nodes: 3, router: true, runId: `wecmp${randomBytes(2).toString("hex")}` });
    const [k, v] = lab.label;
    dir = mkdtempSync(join(tmpdir(), "mlb-wecmp-"));
    frr = new FrrBfd(lab.net.router!.ns, dir);
    await frr.start({
      asn: FRR_AS,
      routerId: ROUTER,
      neighbors: lab.nodeNames.map((n) => ({ address: addr(n), asn: NODE_AS })),
      bfdProfile: { name: "unused", receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3 },
      bfdNeighbors: [],
    });
    const labels = { [k]: v };
    const peer = `${lab.pool}-rtr`;
    const objects = [
      {
        apiVersion: "metallb.io/v1beta2",
        kind: "BGPPeer",
        metadata: { name: peer, namespace: NS, labels },
        spec: {
          myASN: NODE_AS,
          peerASN: FRR_AS,
          peerAddress: ROUTER,
          holdTime: "9s",
          nodeSelectors: [{ matchLabels: labels }],
        },
      },
      {
        apiVersion: "metallb.io/v1beta1",
        kind: "BGPAdvertisement",
        metadata: { name: lab.pool, namespace: NS, labels, annotations: { "metallb.io/weighted-ecmp": "true" } },
        spec: { ipAddressPools: [lab.pool], peers: [peer] },
      },
    ];
    await kubectlOk(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
    // Every node's session up first: the tests' waits are then for routes alone.
    await until(
      "three Established sessions",
      async () => {
        const out = await kubectlOk(["get", "bgpsessions", "-n", NS, "-l", `metallb.io/peer=${peer}`, "-o", "json"]);
        const items = (JSON.parse(out) as { items: { status?: { state?: string } }[] }).items;
        return items.length === 3 && items.every((i) => i.status?.state === "Established") ? true : undefined;
      },
      90_000,
      250,
    );
  }, 180_000);

  afterAll(async () => {
    await frr?.stop();
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("each node advertises 1 Mbit/s per serving endpoint; zebra weights the next hops 1:2", async () => {
    const [n0, n1, n2] = lab.nodeNames;
    await lab.createService("wecmp-web", VIP, { local: true });
    await lab.setEndpoints("wecmp-web", [n0, n1, n1]);
    // n2 has no endpoint: with externalTrafficPolicy Local it does not advertise at all.
    expect(
      await bandwidthsBecome({ [addr(n0)]: `LB:${NODE_AS}:125000`, [addr(n1)]: `LB:${NODE_AS}:250000` }),
    ).not.toHaveProperty(addr(n2));
    const w = await weightsOf([n0, n1]);
    const [w0, w1] = [w.get(addr(n0))!, w.get(addr(n1))!];
    console.log(`zebra's next-hop weights for ${VIP}/32: ${addr(n0)} ${w0}, ${addr(n1)} ${w1} (endpoints 1 and 2)`);
    // FRR scales the weights (rounding); the ratio is the endpoints'.
    expect(Math.abs(w1 - 2 * w0)).toBeLessThanOrEqual(2);
  });

  it("the weights follow the endpoints: a pod moving from one node to another re-advertises both", async () => {
    const [n0, n1] = lab.nodeNames;
    await lab.setEndpoints("wecmp-web", [n0, n0, n0, n1]);
    await bandwidthsBecome({ [addr(n0)]: `LB:${NODE_AS}:375000`, [addr(n1)]: `LB:${NODE_AS}:125000` });
    const w = await until(
      "zebra's weights to favour the node with three endpoints",
      async () => {
        const now = await weights();
        const [w0, w1] = [now.get(addr(n0)) ?? 0, now.get(addr(n1)) ?? 0];
        return w1 > 0 && w0 > 2 * w1 ? now : undefined;
      },
      30_000,
      200,
    );
    expect(Math.abs(w.get(addr(n0))! - 3 * w.get(addr(n1))!)).toBeLessThanOrEqual(3);
  });

  it("the advertisement's opt-in removed: the paths lose their link bandwidth and FRR falls back to even ECMP", async () => {
    const [n0, n1] = lab.nodeNames;
    await kubectlOk(["annotate", "bgpadvertisement", lab.pool, "-n", NS, "metallb.io/weighted-ecmp-"]);
    await bandwidthsBecome({ [addr(n0)]: "none", [addr(n1)]: "none" });
    const w = await until(
      "even weights",
      async () => {
        const now = await weights();
        return now.size === 2 && now.get(addr(n0)) === now.get(addr(n1)) ? now : undefined;
      },
      30_000,
      200,
    );
    expect(w.size).toBe(2);
  });
});
