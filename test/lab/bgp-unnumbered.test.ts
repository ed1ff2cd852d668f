/**
 * BGP unnumbered (BGPPeer spec.interface) against FRR with zebra: the real API server and
 * controller, one node namespace running the real agent, and FRR (zebra + bgpd) in the
 * router namespace. Beside the lab's shared link, the node and the router get a point-to-point
 * link with no address but the kernel's IPv6 link-local ones; FRR peers over it with
 * `neighbor <if> interface`. Only Kubernetes objects go in; what is checked is what a network
 * engineer sees: the session in `kubectl get bgpsessions` and in FRR, FRR's routes to an IPv4
 * and an IPv6 Service via the node's link-local address on that link (RFC 8950 for IPv4), a
 * TCP MD5 password and BFD over it (the router's packets lost: BFD takes the session down),
 * and what a mistake looks like.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kubectl, kubectlOk } from "../harness/kubectl";
import { L2Lab, NS } from "../harness/l2lab";
import { FrrBfd, ZEBRA } from "../harness/frr-bfd";
import { labDescribe, needs } from "../harness/lab-suite";
import { until } from "../harness/wait";

const d = labDescribe("BGP unnumbered with FRR", needs.lab, needs.frr, needs.addon, () =>
  existsSync(ZEBRA) ? undefined : "needs FRR's zebra: run hack/install-deps.sh as root",
);

const FRR_AS = 64512;
const NODE_AS = 64513;
const VIP4 = "192.0.2.177";
const VIP6 = "2001:db8:1::177";
/** The point-to-point link: the node's end and the router's end. */
const NODE_IF = "p2p0";
const ROUTER_IF = "p2p-n0";

interface SessionObject {
  metadata: { name: string };
  spec?: { interface?: string; peerAddress?: string };
  status?: {
    state?: string;
    peerAddress?: string;
    capabilities?: string[];
    lastError?: string;
    bfd?: { state?: string } | null;
  };
}
interface FrrNeighbor {
  bgpState?: string;
  hostname?: string;
  bgpNeighborAddr?: string;
  neighborCapabilities?: { extendedNexthop?: string };
}
interface BgpPath {
  valid?: boolean;
  nexthops?: { ip?: string; scope?: string; hostname?: string }[];
}
interface RibEntry {
  installed?: boolean;
  nexthops?: { ip?: string; afi?: string; interfaceName?: string; active?: boolean }[];
}

/** The IPv6 link-local address of `ifname` in namespace `ns`. */
function linkLocal(ns: string, ifname: string): string | undefined {
  const out = execFileSync("ip", ["-j", "-n", ns, "-6", "addr", "show", "dev", ifname], { encoding: "utf8" });
  const info = JSON.parse(out) as { addr_info?: { local?: string; scope?: string; tentative?: boolean }[] }[];
  return info[0]?.addr_info?.find((a) => a.scope === "link" && !a.tentative)?.local;
}

d("BGP unnumbered: a session over IPv6 link-local, IPv4 and IPv6 routes via the link", () => {
  let lab: L2Lab;
  let frr: FrrBfd;
  let dir: string;
  let node: string;
  let routerNs: string;
  const peerName = (): string => `${lab.pool}-un`;

  const sessions = async (): Promise<SessionObject[]> =>
    (
      JSON.parse(
        await kubectlOk(["get", "bgpsessions", "-n", NS, "-l", `metallb.io/peer=${peerName()}`, "-o", "json"]),
      ) as { items: SessionObject[] }
    ).items;
  const patchPeer = (spec: Record<string, unknown>): Promise<string> =>
    kubectlOk(["patch", "bgppeer", peerName(), "-n", NS, "--type=merge", "-p", JSON.stringify({ spec })]);
  /** FRR's first valid path to `prefix`, once it has one. */
  const frrPath = (prefix: string): Promise<BgpPath> =>
    until(
      `FRR's path to ${prefix}`,
      async () => {
        const family = prefix.includes(":") ? "ipv6" : "ipv4";
        const detail = await frr.frr.json<{ paths?: BgpPath[] }>(`show bgp ${family} unicast ${prefix} json`);
        return detail.paths?.find((p) => p.valid !== false);
      },
      30_000,
      200,
    );
  const frrNeighbor = async (): Promise<FrrNeighbor> =>
    (await frr.frr.json<Record<string, FrrNeighbor>>(`show bgp neighbors ${ROUTER_IF} json`))[ROUTER_IF] ?? {};

  beforeAll(async () => {
    lab = await L2Lab.create({ nodes: 1, router: true, runId: `unnum${randomBytes(2).toString("hex")}` });
    node = lab.nodeNames[0]!;
    routerNs = lab.net.router!.ns;
    // The point-to-point link: veth ends with no address of ours (the kernel adds link-local ones).
    execFileSync("ip", [
      "link",
      "add",
      NODE_IF,
      "netns",
      node,
      "type",
      "veth",
      "peer",
      "name",
      ROUTER_IF,
      "netns",
      routerNs,
    ]);
    execFileSync("ip", ["-n", node, "link", "set", NODE_IF, "up"]);
    execFileSync("ip", ["-n", routerNs, "link", "set", ROUTER_IF, "up"]);
    await until(
      "link-local addresses on both ends (duplicate address detection done)",
      async () => (linkLocal(node, NODE_IF) && linkLocal(routerNs, ROUTER_IF) ? true : undefined),
      20_000,
      100,
    );
    dir = mkdtempSync(join(tmpdir(), "mlb-unnum-"));
    frr = new FrrBfd(routerNs, dir);
    await frr.start({
      asn: FRR_AS,
      routerId: "192.0.2.1",
      neighbors: [{ address: ROUTER_IF, asn: NODE_AS, unnumbered: true }],
      bfdProfile: { name: "unused", receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3 },
      bfdNeighbors: [],
    });
    const [k, v] = lab.label;
    const labels = { [k]: v };
    const objects = [
      {
        apiVersion: "metallb.io/v1beta2",
        kind: "BGPPeer",
        metadata: { name: peerName(), namespace: NS, labels },
        spec: {
          myASN: NODE_AS,
          peerASN: FRR_AS,
          interface: NODE_IF,
          holdTime: "9s",
          nodeSelectors: [{ matchLabels: labels }],
        },
      },
      {
        apiVersion: "metallb.io/v1beta1",
        kind: "BGPAdvertisement",
        metadata: { name: lab.pool, namespace: NS, labels },
        spec: { ipAddressPools: [lab.pool], peers: [peerName()] },
      },
    ];
    await kubectlOk(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
  }, 180_000);

  afterAll(async () => {
    await frr?.stop();
    await lab?.destroy();
    // After the BGPPeer (a profile in use cannot be deleted).
    if (lab) await kubectl(["delete", "bfdprofiles", "-n", NS, "-l", lab.label.join("="), "--ignore-not-found"]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("the session comes up over the link: kubectl shows the router's link-local address, FRR the node's", async () => {
    const s = await until(
      "the unnumbered BGPSession Established",
      async () => {
        const [one] = await sessions();
        return one?.status?.state === "Established" ? one : undefined;
      },
      90_000,
      250,
    );
    expect(s.spec).toMatchObject({ interface: NODE_IF });
    expect(s.spec?.peerAddress).toBeUndefined();
    expect(s.status?.peerAddress).toBe(linkLocal(routerNs, ROUTER_IF));
    expect(s.status?.capabilities).toContain("extended-nexthop-ipv4");
    const n = await until(
      "FRR's neighbor Established",
      async () => {
        const got = await frrNeighbor();
        return got.bgpState === "Established" ? got : undefined;
      },
      30_000,
      250,
    );
    expect(n.bgpNeighborAddr).toBe(linkLocal(node, NODE_IF));
    expect(n.neighborCapabilities?.extendedNexthop).toBe("advertisedAndReceived");
  });

  it("an IPv4 Service is routed by FRR via the node's link-local address on the link (RFC 8950), and installed by zebra", async () => {
    await lab.createService("un-web4", VIP4);
    await lab.setEndpoints("un-web4", [node]);
    const nodeLL = linkLocal(node, NODE_IF)!;
    const path = await frrPath(`${VIP4}/32`);
    expect(path.nexthops?.map((h) => h.ip)).toContain(nodeLL);
    const rib = await until(
      `zebra to install ${VIP4}/32`,
      async () => {
        const r = await frr.frr.json<Record<string, RibEntry[]>>(`show ip route ${VIP4}/32 json`);
        const e = r[`${VIP4}/32`]?.[0];
        return e?.installed ? e : undefined;
      },
      30_000,
      200,
    );
    console.log(`zebra's route to ${VIP4}/32: ${JSON.stringify(rib.nexthops)}`);
    // An IPv4 route with an IPv6 next hop out of the link, in the kernel's table (fib).
    expect(rib.nexthops).toContainEqual(expect.objectContaining({ ip: nodeLL, afi: "ipv6", interfaceName: ROUTER_IF }));
  });

  it("an IPv6 Service is routed via the same link-local address", async () => {
    await lab.createService("un-web6", VIP6);
    await lab.setEndpoints("un-web6", [node]);
    const nodeLL = linkLocal(node, NODE_IF)!;
    const path = await frrPath(`${VIP6}/128`);
    expect(path.nexthops?.map((h) => h.ip)).toContain(nodeLL);
  });

  it("the Service deleted: FRR withdraws both routes", async () => {
    await kubectlOk(["delete", "service", "un-web4", "un-web6", "-n", lab.serviceNamespace]);
    await until(
      "FRR to drop both routes",
      async () => {
        const v4 = await frr.frr.json<{ paths?: BgpPath[] }>(`show bgp ipv4 unicast ${VIP4}/32 json`);
        const v6 = await frr.frr.json<{ paths?: BgpPath[] }>(`show bgp ipv6 unicast ${VIP6}/128 json`);
        return !v4.paths?.length && !v6.paths?.length ? true : undefined;
      },
      30_000,
      200,
    );
  });

  it("faults: a second peer on the same interface is refused at admission with the reason", async () => {
    const [k, v] = lab.label;
    const second = await kubectl(
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "metallb.io/v1beta2",
        kind: "BGPPeer",
        metadata: { name: `${lab.pool}-un2`, namespace: NS, labels: { [k]: v } },
        spec: { myASN: NODE_AS, peerASN: FRR_AS, interface: NODE_IF, nodeSelectors: [{ matchLabels: { [k]: v } }] },
      }),
    );
    expect(second.code).not.toBe(0);
    expect(second.stderr).toMatch(/interface "p2p0" already carries the unnumbered session of BGPPeer/);
    // The refused object changed nothing.
    expect((await sessions()).map((x) => x.status?.state)).toEqual(["Established"]);
  });

  it("a TCP MD5 password on both ends: the session comes back over the link, signed", async () => {
    await frr.frr.vty("configure terminal", `router bgp ${FRR_AS}`, `neighbor ${ROUTER_IF} password un-s3cret`);
    await patchPeer({ password: "un-s3cret" });
    await until(
      "the session Established again with the password, on both sides",
      async () => {
        const [one] = await sessions();
        const n = await frrNeighbor();
        return one?.status?.state === "Established" && n.bgpState === "Established" ? true : undefined;
      },
      90_000,
      500,
    );
    // FRR's socket holds the key for the node's link-local address: unsigned segments would be dropped.
    const md5 = await frr.frr.vty(`show bgp neighbors ${ROUTER_IF}`);
    expect(md5).toMatch(/Peer Authentication Enabled/);
  });

  it("BFD over the link: Up on both ends; the router's packets lost, BFD takes the session down before the hold timer, and it comes back", async () => {
    const [k, v] = lab.label;
    await frr.frr.vty("configure terminal", `router bgp ${FRR_AS}`, `neighbor ${ROUTER_IF} bfd profile unused`);
    await kubectlOk(
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "metallb.io/v1beta1",
        kind: "BFDProfile",
        metadata: { name: `${lab.pool}-bfd`, namespace: NS, labels: { [k]: v } },
        spec: { receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3 },
      }),
    );
    await patchPeer({ bfdProfile: `${lab.pool}-bfd` });
    const bfdUp = () =>
      until(
        "BFD Up in the BGPSession and in FRR, BGP Established",
        async () => {
          const [one] = await sessions();
          const peers =
            await frr.frr.json<{ peer?: string; interface?: string; status?: string }[]>("show bfd peers json");
          const theirs = peers.find((p) => p.interface === ROUTER_IF);
          return one?.status?.bfd?.state === "Up" && one.status.state === "Established" && theirs?.status === "up"
            ? theirs
            : undefined;
        },
        90_000,
        250,
      );
    const theirs = await bfdUp();
    expect(theirs.peer).toBe(linkLocal(node, NODE_IF));
    // Everything the router sends the node is dropped, BFD and BGP alike (this kernel has no
    // netem, and a blackhole policy rule does not catch link-local traffic: ip6tables in the
    // node's namespace). BFD goes Down after 3 x 300 ms and tears BGP down at once (Cease /
    // BFD Down) instead of after the 9 s hold time.
    const rule = ["INPUT", "-i", NODE_IF, "-s", linkLocal(routerNs, ROUTER_IF)!, "-j", "DROP"];
    execFileSync("ip", ["netns", "exec", node, "ip6tables", "-A", ...rule]);
    try {
      const down = await until(
        "the agent's BFD to go Down and take BGP down with it",
        async () => {
          const [one] = await sessions();
          return one?.status?.bfd?.state === "Down" && one.status.state !== "Established" ? one : undefined;
        },
        30_000,
        100,
      );
      expect(down.status?.lastError).toMatch(/BFD Down/);
    } finally {
      execFileSync("ip", ["netns", "exec", node, "ip6tables", "-D", ...rule]);
    }
    await bfdUp();
  }, 180_000);

  it("faults: an interface the node lacks leaves the session Idle and says why", async () => {
    await patchPeer({ interface: "p2p9" });
    const s = await until(
      "the BGPSession to say it waits for a router advertisement",
      async () => {
        const [one] = await sessions();
        return one?.spec?.interface === "p2p9" &&
          /waiting for the router's IPv6 router advertisement on p2p9/.test(one.status?.lastError ?? "")
          ? one
          : undefined;
      },
      30_000,
      250,
    );
    if (s.status?.state === "Established")
      console.log(JSON.stringify(s.status), lab.agents.get(node)?.output().split("\n").slice(-40).join("\n"));
    expect(s.status?.state).not.toBe("Established");
    await patchPeer({ interface: NODE_IF });
    await until(
      "the session back over the link",
      async () => {
        const [one] = await sessions();
        return one?.spec?.interface === NODE_IF && one.status?.state === "Established" ? true : undefined;
      },
      60_000,
      250,
    );
  });
});
