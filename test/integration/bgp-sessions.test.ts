/**
 * BGP planning end to end on the real API server: BGPSession rows per
 * (node, BGPPeer), ServiceBGPStatus per advertising node, and admission of
 * BGP configuration through the real webhook.
 */
import { eventually, kubectl, kubectlOk } from "../harness/kubectl";

const ns = "metallb-system";
const appNs = "bgp-test";
const nodeA = "bgp-it-a";
const nodeB = "bgp-it-b";
const myNodes = `metallb.io/node in (${nodeA},${nodeB})`;

const yaml = (objects: object[]) => objects.map((o) => JSON.stringify(o)).join("\n---\n");
const apply = (objects: object[]) => kubectlOk(["apply", "-f", "-"], yaml(objects));

const node = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name, labels: { "bgp-it": "yes", ...labels } },
});
const peer = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: "metallb.io/v1beta2",
  kind: "BGPPeer",
  metadata: { name, namespace: ns },
  spec: { myASN: 64600, ...spec },
});
const bgpAd = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: "metallb.io/v1beta1",
  kind: "BGPAdvertisement",
  metadata: { name, namespace: ns },
  spec,
});
const pool = (name: string, addresses: string[]) => ({
  apiVersion: "metallb.io/v1beta1",
  kind: "IPAddressPool",
  metadata: { name, namespace: ns },
  spec: { addresses, autoAssign: false },
});
const service = (name: string, etp: "Cluster" | "Local") => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace: appNs, annotations: { "metallb.io/address-pool": "bgp-it-pool" } },
  spec: {
    type: "LoadBalancer",
    externalTrafficPolicy: etp,
    selector: { app: name },
    ports: [{ name: "http", port: 80, protocol: "TCP" }],
  },
});
const slice = (svc: string, nodeName: string) => ({
  apiVersion: "discovery.k8s.io/v1",
  kind: "EndpointSlice",
  metadata: { name: `${svc}-1`, namespace: appNs, labels: { "kubernetes.io/service-name": svc } },
  addressType: "IPv4",
  ports: [{ name: "http", port: 80, protocol: "TCP" }],
  endpoints: [{ addresses: ["10.244.1.5"], nodeName, conditions: { ready: true } }],
});

const rackPeer = peer("bgp-it-rack", {
  peerASN: 64601,
  peerAddress: "192.0.2.211",
  holdTime: "30s",
  nodeSelectors: [{ matchLabels: { "bgp-it-rack": "1" } }],
});
const allPeer = peer("bgp-it-all", { peerASN: 64602, peerAddress: "192.0.2.212", password: "not-in-sessions" });

/** "name node peer address asn" rows for our nodes and peers, sorted. */
async function sessionRows(): Promise<string[]> {
  const out = await kubectlOk([
    "get",
    "bgpsessions",
    "-n",
    ns,
    "-l",
    `${myNodes},metallb.io/peer in (bgp-it-rack,bgp-it-all)`,
    "--no-headers",
  ]);
  return out
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => line.split(/\s+/).slice(0, 5).join(" "))
    .sort();
}

const rowsBecome = (want: string[], what: string) =>
  eventually(
    async () => {
      const rows = await sessionRows();
      return JSON.stringify(rows) === JSON.stringify(want) ? rows : undefined;
    },
    `${what}: ${want.join(", ")}`,
  );

interface StatusObj {
  metadata: { name: string; generateName?: string; labels: Record<string, string> };
  status?: { node?: string; serviceName?: string; serviceNamespace?: string; peers?: string[] };
}

async function statusesOf(svc: string): Promise<StatusObj[]> {
  const out = await kubectlOk([
    "get",
    "servicebgpstatuses",
    "-n",
    ns,
    "-l",
    `${myNodes},metallb.io/service-name=${svc},metallb.io/service-namespace=${appNs}`,
    "-o",
    "json",
  ]);
  return (JSON.parse(out) as { items: StatusObj[] }).items;
}

const summary = (items: StatusObj[]) =>
  items.map((s) => `${s.status?.node}:${(s.status?.peers ?? []).join("+")}`).sort();

async function cleanup(): Promise<void> {
  // No namespace controller runs here, so the namespace is kept and emptied instead.
  await kubectl(["delete", "svc,endpointslices", "--all", "-n", appNs, "--ignore-not-found"]);
  await kubectl(["delete", "bgppeers.metallb.io", "bgp-it-rack", "bgp-it-all", "-n", ns, "--ignore-not-found"]);
  await kubectl(["delete", "bgpadvertisements", "bgp-it-ad", "-n", ns, "--ignore-not-found"]);
  await kubectl(["delete", "ipaddresspools", "bgp-it-pool", "-n", ns, "--ignore-not-found"]);
  await kubectl(["delete", "node", nodeA, nodeB, "--ignore-not-found"]);
}

beforeAll(async () => {
  await cleanup();
  await kubectl(["create", "namespace", appNs]);
  await apply([node(nodeA, { "bgp-it-rack": "1" }), node(nodeB)]);
  await apply([pool("bgp-it-pool", ["100.64.77.0/24"]), rackPeer, allPeer]);
  await apply([bgpAd("bgp-it-ad", { ipAddressPools: ["bgp-it-pool"], communities: ["64600:1", "large:64600:1:2"] })]);
}, 120_000);

afterAll(async () => {
  await cleanup();
  // Our sessions and statuses follow the nodes and peers away.
  await eventually(async () => ((await sessionRows()).length === 0 ? true : undefined), "sessions cleaned up");
}, 60_000);

describe("BGPSession per (node, BGPPeer)", () => {
  it("shows exactly the planned rows with Node, Peer, Address and ASN", async () => {
    await rowsBecome(
      [
        `bgp-it-all-${nodeA} ${nodeA} bgp-it-all 192.0.2.212 64602`,
        `bgp-it-all-${nodeB} ${nodeB} bgp-it-all 192.0.2.212 64602`,
        `bgp-it-rack-${nodeA} ${nodeA} bgp-it-rack 192.0.2.211 64601`,
      ],
      "planned sessions",
    );
    const spec = JSON.parse(
      await kubectlOk(["get", "bgpsession", `bgp-it-rack-${nodeA}`, "-n", ns, "-o", "json"]),
    ).spec;
    expect(spec).toMatchObject({ node: nodeA, peer: "bgp-it-rack", myASN: 64600, holdTime: 30, peerPort: 179 });
    const withPassword = await kubectlOk(["get", "bgpsession", `bgp-it-all-${nodeB}`, "-n", ns, "-o", "json"]);
    expect(withPassword).not.toContain("not-in-sessions");
    expect(JSON.parse(withPassword).metadata.annotations).toMatchObject({ "metallb.io/password-source": "BGPPeer" });
  });
});

describe("ServiceBGPStatus", () => {
  it("is written for every advertising node, with its peers, and the Service gets nodeAssigned Events", async () => {
    await apply([service("web", "Cluster"), slice("web", nodeB)]);
    const items = await eventually(async () => {
      const got = await statusesOf("web");
      return summary(got).join(" ") === `${nodeA}:bgp-it-all+bgp-it-rack ${nodeB}:bgp-it-all` ? got : undefined;
    }, "ServiceBGPStatus for web on both nodes");
    for (const s of items) {
      expect(s.metadata.name).toMatch(/^bgp-/);
      expect(s.status).toMatchObject({ serviceName: "web", serviceNamespace: appNs });
    }
    const events = await eventually(async () => {
      const out = await kubectlOk([
        "get",
        "events",
        "-n",
        appNs,
        "--field-selector",
        "involvedObject.name=web,reason=nodeAssigned",
        "-o",
        "jsonpath={.items[*].message}",
      ]);
      return out.includes(nodeA) && out.includes(nodeB) ? out : undefined;
    }, "nodeAssigned events");
    expect(events).toContain(`announcing from node "${nodeB}" with protocol "bgp"`);
  });

  it("externalTrafficPolicy Local: only the node with a local serving endpoint, none without endpoints", async () => {
    await apply([service("local", "Local"), slice("local", nodeB), service("lonely", "Local")]);
    await eventually(
      async () => (summary(await statusesOf("local")).join(" ") === `${nodeB}:bgp-it-all` ? true : undefined),
      "status for local on node B only",
    );
    // The Service with no endpoints has an IP but no status anywhere.
    await eventually(async () => {
      const svc = JSON.parse(await kubectlOk(["get", "svc", "lonely", "-n", appNs, "-o", "json"]));
      return svc.status?.loadBalancer?.ingress?.length ? true : undefined;
    }, "lonely gets an IP");
    await new Promise((r) => setTimeout(r, 1000));
    expect(await statusesOf("lonely")).toEqual([]);
  });
});

describe("sessions follow nodes and peers", () => {
  it("relabelling a node removes its session with the selecting peer", async () => {
    await kubectlOk(["label", "node", nodeA, "bgp-it-rack-"]);
    await rowsBecome(
      [
        `bgp-it-all-${nodeA} ${nodeA} bgp-it-all 192.0.2.212 64602`,
        `bgp-it-all-${nodeB} ${nodeB} bgp-it-all 192.0.2.212 64602`,
      ],
      "rack session gone",
    );
  });

  it("deleting a peer removes its sessions", async () => {
    await kubectlOk(["delete", "bgppeers.metallb.io", "bgp-it-all", "-n", ns]);
    await rowsBecome([], "all sessions gone");
  });
});

// Field-local rules are enforced by the CRD schema (CEL) before the webhook is
// called; rules that span objects (pool vs advertisement) by the webhook.
describe("admission", () => {
  const refused = async (obj: object, message: RegExp) => {
    const r = await kubectl(["apply", "-f", "-"], yaml([obj]));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
  };

  it("refuses ebgpMultiHop on an iBGP peer", () =>
    refused(
      peer("bgp-it-bad", { peerASN: 64600, peerAddress: "192.0.2.9", ebgpMultiHop: true }),
      /ebgpMultiHop can only be set for an eBGP peer/,
    ));

  it("refuses a 2s hold time", () =>
    refused(
      peer("bgp-it-bad", { peerASN: 64601, peerAddress: "192.0.2.9", holdTime: "2s" }),
      /spec\.holdTime: .*either 0 or at least 3s/,
    ));

  it("refuses an aggregation length shorter than the pool's prefix", () =>
    refused(
      bgpAd("bgp-it-bad-ad", { ipAddressPools: ["bgp-it-pool"], aggregationLength: 20 }),
      /invalid aggregation length 20: prefix 24 in this pool is more specific than the aggregation length/,
    ));

  it("decides whether two peers at one address share a node against the Nodes that exist", async () => {
    // The case: one Node carries both labels, so both peers would dial 192.0.2.77 from it.
    const rack = peer("bgp-it-dup-rack", {
      peerASN: 64603,
      peerAddress: "192.0.2.77",
      nodeSelectors: [{ matchLabels: { "bgp-it-dup-rack": "a" } }],
    });
    const zone = peer("bgp-it-dup-zone", {
      peerASN: 64603,
      peerAddress: "192.0.2.77",
      nodeSelectors: [{ matchLabels: { "bgp-it-dup-zone": "z1" } }],
    });
    try {
      await apply([node("bgp-it-dup-1", { "bgp-it-dup-rack": "a", "bgp-it-dup-zone": "z1" }), rack]);
      await refused(
        zone,
        /peer "192\.0\.2\.77" port 179 is already defined in BGPPeer "bgp-it-dup-rack" for some of the same nodes/,
      );
      // Once no Node carries both labels, the same peer is admitted.
      await kubectlOk(["label", "node", "bgp-it-dup-1", "bgp-it-dup-zone-"]);
      await apply([node("bgp-it-dup-2", { "bgp-it-dup-zone": "z1" }), zone]);
    } finally {
      await kubectl([
        "delete",
        "bgppeers.metallb.io",
        "bgp-it-dup-rack",
        "bgp-it-dup-zone",
        "-n",
        ns,
        "--ignore-not-found",
      ]);
      await kubectl(["delete", "node", "bgp-it-dup-1", "bgp-it-dup-2", "--ignore-not-found"]);
    }
  });

  it("accepts IPv6 pools and large communities", async () => {
    await apply([
      pool("bgp-it-v6", ["2001:db8:77::/120"]),
      bgpAd("bgp-it-v6-ad", {
        ipAddressPools: ["bgp-it-v6"],
        aggregationLengthV6: 120,
        communities: ["large:64600:7:8"],
      }),
    ]);
    await kubectl(["delete", "bgpadvertisements", "bgp-it-v6-ad", "-n", ns]);
    await kubectl(["delete", "ipaddresspools", "bgp-it-v6", "-n", ns]);
  });
});
