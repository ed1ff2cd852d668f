/**
 * BFD interop with FRR's bfdd (Debian's frr): the real API server and controller, one node
 * namespace running a real agent, and FRR (zebra + bfdd + bgpd) in a router namespace.
 * Only Kubernetes objects go in (BFDProfile 300 ms x 3, a BGPPeer naming it, an
 * advertisement, a Service); what is checked is what users see: FRR's `show bfd peers json`
 * and RIB, and `kubectl get bgpsessions` (its BFD column and status.bfd).
 *
 * BGP runs with a 90 s hold time on both sides, so a route that leaves FRR within the
 * waits below (15 s) left because of BFD, not the hold timer. Timings are not asserted:
 * `npm run bench -- bfd` measures them.
 *
 * Failures are one-way and inside the node's namespace (this kernel has no netem or tc
 * filters): a blackhole route towards FRR drops everything the node sends to FRR; a
 * blackhole policy rule for packets from FRR arriving on eth0 drops everything FRR sends
 * to the node (a route on FRR's side would not: bfdd binds its socket to the interface,
 * and an interface-bound lookup skips a blackhole route).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kubectl, kubectlOk } from "../harness/kubectl";
import { L2Lab, NS } from "../harness/l2lab";
import { BFDD, FrrBfd, ZEBRA } from "../harness/frr-bfd";
import { labDescribe, needs } from "../harness/lab-suite";
import { until, sleep } from "../harness/wait";
import { BfdState, controlPacket, encode } from "../../capabilities/announcer/agent/bfd/packet";

const d = labDescribe("BFD interop with FRR bfdd", needs.lab, needs.frr, needs.addon, () =>
  existsSync(BFDD) && existsSync(ZEBRA) ? undefined : "needs FRR's bfdd and zebra: run hack/install-deps.sh as root",
);

const FRR_AS = 64512;
const NODE_AS = 64513;
const ROUTER = "192.0.2.1";
const ROUTER6 = "2001:db8:1::1";
/** FRR's loopback address, one routed hop from the node: the multihop peer. */
const ROUTER_LO = "198.51.100.1";
/** The node's second address, the multihop session's source. */
const NODE_MH = "192.0.2.42";
const VIP = "192.0.2.175";
/** Well under the 90 s hold time: only BFD can explain a change within it. */
const BFD_WAIT_MS = 15_000;

interface SessionObject {
  spec: { node: string; bfd?: Record<string, unknown> };
  status?: {
    state?: string;
    lastError?: string;
    bfd?: {
      state?: string;
      remoteState?: string;
      diagnostic?: string;
      transmitInterval?: number;
      detectionTime?: number;
      multihop?: boolean;
      downEvents?: number;
    };
  };
}

d("BFD with a real agent and FRR bfdd (300 ms x 3)", () => {
  let lab: L2Lab;
  let frr: FrrBfd;
  let dir: string;
  let peer: string;
  let profile: string;
  let node: string;
  let nodeIP: string;
  let nodeIP6: string;

  const session = async (name = peer): Promise<SessionObject | undefined> => {
    const out = await kubectlOk(["get", "bgpsessions", "-n", NS, "-l", `metallb.io/peer=${name}`, "-o", "json"]);
    return (JSON.parse(out) as { items: SessionObject[] }).items[0];
  };
  const sessionWhere = (what: string, ok: (s: SessionObject) => boolean, timeoutMs = 30_000, name = peer) =>
    until(
      what,
      async () => {
        const s = await session(name);
        return s && ok(s) ? s : undefined;
      },
      timeoutMs,
      100,
    );
  const frrBfd = (what: string, ok: (status: string, diag: string) => boolean, timeoutMs = 30_000, address = nodeIP) =>
    until(
      what,
      async () => {
        const p = await frr.bfdPeer(address);
        return p && ok(p.status, p.diagnostic ?? "") ? p : undefined;
      },
      timeoutMs,
      100,
    );
  const routeInFrr = async (): Promise<boolean> => (await frr.frr.paths(`${VIP}/32`)).length > 0;
  const exec = (ns: string, cmd: string[]) => lab.net.execOk(ns, cmd);

  /** Everything Up and the route in FRR (start, and after each repaired failure). */
  async function healthy(): Promise<void> {
    try {
      await healthyInner();
    } catch (err) {
      const detail = JSON.stringify({ frr: await frr.bfdPeer(nodeIP), ours: (await session())?.status });
      throw new Error(`${(err as Error).message}; ${detail}`);
    }
  }
  async function healthyInner(): Promise<void> {
    await frrBfd("FRR's BFD peer up", (s) => s === "up");
    await sessionWhere(
      "BGP Established with BFD Up",
      (s) => s.status?.state === "Established" && s.status.bfd?.state === "Up",
    );
    await until(`${VIP}/32 in FRR`, async () => ((await routeInFrr()) ? true : undefined), 30_000, 200);
  }

  beforeAll(async () => {
    lab = await L2Lab.create({ nodes: 1, router: true, runId: `bfd${randomBytes(2).toString("hex")}` });
    const [k, v] = lab.label;
    node = lab.nodeNames[0]!;
    nodeIP = lab.host(node).ipv4;
    nodeIP6 = lab.host(node).ipv6;
    peer = `${lab.pool}-rtr`;
    profile = `${lab.pool}-fast`;
    dir = mkdtempSync(join(tmpdir(), "mlb-bfd-frr-"));
    frr = new FrrBfd(lab.net.router!.ns, dir);
    await exec(lab.net.router!.ns, ["ip", "addr", "add", `${ROUTER_LO}/32`, "dev", "lo"]);
    await exec(node, ["ip", "addr", "add", `${NODE_MH}/24`, "dev", lab.host(node).ifname]);
    await exec(node, ["ip", "route", "add", `${ROUTER_LO}/32`, "via", ROUTER]);
    await frr.start({
      asn: FRR_AS,
      routerId: ROUTER,
      // BGP's own failure detection is slow on purpose (90 s), see the file header.
      neighbors: [
        { address: nodeIP, asn: NODE_AS, keepalive: 30, hold: 90 },
        { address: nodeIP6, asn: NODE_AS, keepalive: 30, hold: 90 },
        { address: NODE_MH, asn: NODE_AS, keepalive: 30, hold: 90 },
      ],
      multihopNeighbors: [{ address: NODE_MH, updateSource: ROUTER_LO }],
      bfdProfile: { name: "fast", receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3 },
      bfdNeighbors: [nodeIP, nodeIP6, NODE_MH],
    });
    const labels = { [k]: v };
    const objects = [
      {
        apiVersion: "metallb.io/v1beta1",
        kind: "BFDProfile",
        metadata: { name: profile, namespace: NS, labels },
        spec: { receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3 },
      },
      {
        apiVersion: "metallb.io/v1beta2",
        kind: "BGPPeer",
        metadata: { name: peer, namespace: NS, labels },
        spec: {
          myASN: NODE_AS,
          peerASN: FRR_AS,
          peerAddress: ROUTER,
          holdTime: "90s",
          bfdProfile: profile,
          nodeSelectors: [{ matchLabels: labels }],
        },
      },
      {
        apiVersion: "metallb.io/v1beta2",
        kind: "BGPPeer",
        metadata: { name: `${peer}6`, namespace: NS, labels },
        spec: {
          myASN: NODE_AS,
          peerASN: FRR_AS,
          peerAddress: ROUTER6,
          holdTime: "90s",
          bfdProfile: profile,
          nodeSelectors: [{ matchLabels: labels }],
        },
      },
      {
        apiVersion: "metallb.io/v1beta2",
        kind: "BGPPeer",
        metadata: { name: `${peer}mh`, namespace: NS, labels },
        spec: {
          myASN: NODE_AS,
          peerASN: FRR_AS,
          peerAddress: ROUTER_LO,
          sourceAddress: NODE_MH,
          ebgpMultiHop: true,
          holdTime: "90s",
          bfdProfile: profile,
          nodeSelectors: [{ matchLabels: labels }],
        },
      },
      {
        apiVersion: "metallb.io/v1beta1",
        kind: "BGPAdvertisement",
        metadata: { name: lab.pool, namespace: NS, labels },
        spec: { ipAddressPools: [lab.pool], peers: [peer] },
      },
    ];
    await kubectlOk(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
    await lab.createService("bfd-web", VIP);
    await lab.setEndpoints("bfd-web", [node]);
  }, 180_000);

  afterAll(async () => {
    await frr?.stop();
    await lab?.destroy(); // deletes the BGPPeer first, so the profile is no longer in use
    if (profile) await kubectl(["delete", "bfdprofiles", "-n", NS, profile, "--ignore-not-found"]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("comes Up on both sides with the profile's timers; `kubectl get bgpsessions` shows BFD Up", async () => {
    await healthy();
    const p = (await frr.bfdPeer(nodeIP))!;
    // What FRR heard from us: the BFDProfile's values.
    expect([p["remote-receive-interval"], p["remote-transmit-interval"], p["remote-detect-multiplier"]]).toEqual([
      300, 300, 3,
    ]);
    const s = (await session())!;
    expect(s.spec.bfd).toMatchObject({ profile, receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3 });
    expect(s.status?.bfd).toMatchObject({ state: "Up", remoteState: "Up", transmitInterval: 300, detectionTime: 900 });
    const table = await kubectlOk(["get", "bgpsessions", "-n", NS, "-l", `metallb.io/peer=${peer}`]);
    expect(table.split("\n")[0]).toMatch(/\bSTATE\s+BFD\b/);
    expect(table).toMatch(/Established\s+Up\b/);
  });

  it("the node's packets stop reaching FRR: FRR's BFD goes down on its detection time and FRR drops the node's route", async () => {
    await healthy();
    await exec(node, ["ip", "route", "add", "blackhole", `${ROUTER}/32`]);
    try {
      const p = await frrBfd("FRR's BFD peer down", (s) => s === "down", BFD_WAIT_MS);
      expect(p.diagnostic).toBe("control detection time expired");
      await until(`${VIP}/32 gone from FRR`, async () => ((await routeInFrr()) ? undefined : true), BFD_WAIT_MS, 100);
      // FRR tells us it is Down (its packets still arrive): our side leaves Up and BGP too.
      const s = await sessionWhere(
        "our BFD Down, BGP not Established",
        (x) => x.status?.bfd?.state !== "Up" && x.status?.state !== "Established",
        BFD_WAIT_MS,
      );
      expect(s.status?.bfd?.remoteState).not.toBe("Up");
    } finally {
      await exec(node, ["ip", "route", "del", "blackhole", `${ROUTER}/32`]);
    }
    await healthy();
  });

  it("FRR's packets stop reaching the node: the agent's BFD goes down on its detection time, tears BGP down with Cease / BFD Down, FRR drops the route", async () => {
    await healthy();
    const ifname = lab.host(node).ifname;
    const dropFromFrr = ["pref", "10", "from", `${ROUTER}/32`, "iif", ifname, "blackhole"];
    // Input rules are read after the local table's rule (pref 0): move that one behind ours.
    if (!(await exec(node, ["ip", "rule", "show"])).includes("1000:")) {
      await exec(node, ["ip", "rule", "add", "pref", "1000", "lookup", "local"]);
      await exec(node, ["ip", "rule", "del", "pref", "0"]);
    }
    await exec(node, ["ip", "rule", "add", ...dropFromFrr]);
    try {
      const s = await sessionWhere(
        "the agent's BFD Down on a detection timeout, BGP torn down",
        (x) => x.status?.bfd?.state === "Down" && x.status.state !== "Established",
        BFD_WAIT_MS,
      );
      expect(s.status?.bfd?.diagnostic).toBe("control detection time expired");
      expect(s.status?.lastError).toMatch(/Cease \/ BFD Down/);
      await until(`${VIP}/32 gone from FRR`, async () => ((await routeInFrr()) ? undefined : true), BFD_WAIT_MS, 100);
      // While BFD stays down the agent does not dial BGP again (RFC 5882: not over a broken path).
      const held = await session();
      expect(held?.status?.state).not.toBe("Established");
    } finally {
      await exec(node, ["ip", "rule", "del", ...dropFromFrr]);
    }
    await healthy();
  });

  it("over IPv6 too: Up in FRR and in `kubectl get bgpsessions` (hop limit 255 checked the same way)", async () => {
    const p = await frrBfd("FRR's IPv6 BFD peer up", (x) => x === "up", 30_000, nodeIP6);
    expect([p["remote-receive-interval"], p["remote-transmit-interval"], p["remote-detect-multiplier"]]).toEqual([
      300, 300, 3,
    ]);
    await sessionWhere("the IPv6 session's BFD Up", (x) => x.status?.bfd?.state === "Up", 30_000, `${peer}6`);
  });

  it("an ebgpMultiHop peer gets multihop BFD (RFC 5883): Up in FRR as a multihop peer, and in status.bfd", async () => {
    const p = await frrBfd("FRR's multihop BFD peer up", (x) => x === "up", 30_000, NODE_MH);
    expect(p).toMatchObject({ multihop: true, local: ROUTER_LO });
    const s = await sessionWhere(
      "the multihop session's BFD Up",
      (x) => x.status?.bfd?.state === "Up",
      30_000,
      `${peer}mh`,
    );
    expect(s.status?.bfd?.multihop).toBe(true);
    expect(s.status?.state).toBe("Established");
  });

  it("GTSM (RFC 5881 §5): a forged AdminDown from FRR's address is ignored with TTL 254 and obeyed with TTL 255", async () => {
    await healthy();
    const frrView = (await frr.bfdPeer(nodeIP))!;
    // Exactly what FRR would send to take the session down administratively.
    const forged = encode(
      controlPacket({
        state: BfdState.AdminDown,
        diag: 7,
        detectMult: 3,
        myDiscriminator: frrView.id!,
        yourDiscriminator: frrView["remote-id"]!,
        desiredMinTxUs: 300_000,
        requiredMinRxUs: 300_000,
      }),
    ).toString("hex");
    const send = (ttl: number) =>
      exec(lab.net.router!.ns, [
        process.execPath,
        "-e",
        `const s=require("node:dgram").createSocket("udp4");s.bind({address:"${ROUTER}",port:0},()=>{s.setTTL(${ttl});` +
          `s.send(Buffer.from("${forged}","hex"),3784,"${nodeIP}",()=>s.close())})`,
      ]);
    const downEvents = async () => (await session())?.status?.bfd?.downEvents ?? 0;
    const before = await downEvents();
    await send(254);
    // Nothing to wait for when a packet is dropped: give a wrongly accepted one time to show.
    await sleep(2000);
    expect((await session())?.status?.bfd?.state).toBe("Up");
    expect(await downEvents()).toBe(before);
    // The same packet with TTL 255 is a valid AdminDown: the session leaves Up (the filter was the only difference).
    await send(255);
    await sessionWhere("the forged AdminDown obeyed", (x) => (x.status?.bfd?.downEvents ?? 0) > before, BFD_WAIT_MS);
    await healthy();
  });

  it("a BGPPeer's bfdProfile removed: the agent says AdminDown to FRR and does not end BGP itself; status.bfd goes away", async () => {
    await healthy();
    const patch = (ops: unknown) =>
      kubectlOk(["patch", "bgppeers.v1beta2.metallb.io", peer, "-n", NS, "--type=json", "-p", JSON.stringify(ops)]);
    await patch([{ op: "remove", path: "/spec/bfdProfile" }]);
    try {
      const p = await frrBfd("FRR's BFD peer down", (x) => x === "down", BFD_WAIT_MS);
      expect(p["remote-diagnostic"]).toBe("administratively down");
      const s = await sessionWhere("status.bfd gone", (x) => x.status?.bfd === undefined, BFD_WAIT_MS);
      expect(s.spec.bfd).toBeUndefined();
      // RFC 5882 §3.2: AdminDown is not a path failure, so the agent sends no Cease / BFD Down.
      // (FRR 8.4's bgpd does end the session on it, with its own Cease / BFD Down; BGP comes back.)
      expect(s.status?.lastError ?? "").not.toMatch(/^sent NOTIFICATION/);
      await sessionWhere("BGP Established without BFD", (x) => x.status?.state === "Established" && !x.status.bfd);
    } finally {
      await patch([{ op: "add", path: "/spec/bfdProfile", value: profile }]);
    }
    await healthy();
  });

  it("FRR's bfdd is killed: the agent's BFD goes down on its detection time and tears BGP down; FRR drops the route", async () => {
    await healthy();
    await frr.kill("bfdd");
    const s = await sessionWhere(
      "the agent's BFD Down after bfdd died, BGP torn down",
      (x) => x.status?.bfd?.state === "Down" && x.status.state !== "Established",
      BFD_WAIT_MS,
    );
    expect(s.status?.bfd?.diagnostic).toBe("control detection time expired");
    expect(s.status?.lastError).toMatch(/Cease \/ BFD Down/);
    await until(`${VIP}/32 gone from FRR`, async () => ((await routeInFrr()) ? undefined : true), BFD_WAIT_MS, 100);
  });
});
