import type { NamedLabels } from "../../shared/config";
import { bfd, configOf, peer, pool, bgpAd } from "../../shared/config/testing";
import { desiredSessions, sessionAction, sessionName } from "./sessions";
import { desiredStatuses, diffStatuses } from "./service-statuses";
import { pendingPrefixes } from "./pending";
import type { NodePlan } from "../../shared/bgp";

const config = configOf({
  pools: [pool("p", ["10.0.0.0/24"])],
  bgpAdvertisements: [bgpAd("ad")],
  bgpPeers: [
    peer("tor", {
      peerAddress: "192.0.2.1",
      peerASN: 64512,
      holdTime: "30s",
      routerID: "10.9.9.9",
      sourceAddress: "10.0.0.250",
      nodeSelectors: [{ matchLabels: { rack: "1" } }],
    }),
    peer("core", {
      peerAddress: "192.0.2.2",
      password: "s3cret",
      holdTime: "90s",
      keepaliveTime: "10s",
      connectTime: "5s",
    }),
    peer("edge", { peerAddress: "2001:db8::1", passwordSecret: { name: "edge-pw" }, peerPort: 1179 }),
  ],
});
const nodes: NamedLabels[] = [
  { name: "n1", labels: { rack: "1" } },
  { name: "n2", labels: {} },
];

describe("desiredSessions", () => {
  const sessions = desiredSessions(config, nodes, new Map([["core", 7]]));

  it("plans one session per (peer, node) the peer's nodeSelectors pick", () => {
    expect([...sessions.keys()].sort()).toEqual(["core-n1", "core-n2", "edge-n1", "edge-n2", "tor-n1"]);
  });

  it("fills the spec from the parsed peer, hold time in seconds", () => {
    expect(sessions.get("tor-n1")).toEqual({
      name: "tor-n1",
      labels: { "metallb.io/node": "n1", "metallb.io/peer": "tor", "app.kubernetes.io/managed-by": "metallb-pepr" },
      annotations: {},
      spec: {
        node: "n1",
        peer: "tor",
        peerAddress: "192.0.2.1",
        peerASN: 64512,
        myASN: 64512,
        sourceAddress: "10.0.0.250",
        peerPort: 179,
        routerID: "10.9.9.9",
        holdTime: 30,
        ebgpMultiHop: false,
        enableGracefulRestart: false,
      },
    });
  });

  it("carries dynamicASN instead of a peerASN", () => {
    const dyn = configOf({ bgpPeers: [peer("dyn", { peerASN: undefined, dynamicASN: "external" })] });
    const spec = desiredSessions(dyn, nodes, new Map()).get("dyn-n1")?.spec;
    expect(spec).toMatchObject({ dynamicASN: "external" });
    expect(spec).not.toHaveProperty("peerASN");
  });

  it("carries dualStackAddressFamily only when set", () => {
    const dual = configOf({ bgpPeers: [peer("both", { dualStackAddressFamily: true })] });
    expect(desiredSessions(dual, nodes, new Map()).get("both-n1")?.spec).toMatchObject({
      dualStackAddressFamily: true,
    });
    expect(sessions.get("tor-n1")?.spec).not.toHaveProperty("dualStackAddressFamily");
  });

  it("presents the peer's localASN instead of myASN", () => {
    const local = configOf({ bgpPeers: [peer("old-as", { myASN: 64512, peerASN: 64600, localASN: 65000 })] });
    expect(desiredSessions(local, nodes, new Map()).get("old-as-n1")?.spec).toMatchObject({
      myASN: 65000,
      peerASN: 64600,
    });
  });

  it("carries keepaliveTime and connectTime in whole seconds, and leaves the default keepalive unset", () => {
    expect(sessions.get("core-n1")?.spec).toMatchObject({ holdTime: 90, keepaliveTime: 10, connectTime: 5 });
    expect(sessions.get("tor-n1")?.spec).not.toHaveProperty("keepaliveTime"); // 30 s hold: a third, the agent's default
    expect(sessions.get("tor-n1")?.spec).not.toHaveProperty("connectTime");
  });

  it("carries the BFDProfile's values; an ebgpMultiHop peer runs multihop BFD", () => {
    const c = configOf({
      pools: [pool("p", ["10.0.0.0/24"])],
      bgpAdvertisements: [bgpAd("ad")],
      bfdProfiles: [
        bfd("fast", { receiveInterval: 100, transmitInterval: 200, detectMultiplier: 5, passiveMode: true }),
      ],
      bgpPeers: [
        peer("near", { peerAddress: "192.0.2.1", bfdProfile: "fast" }),
        peer("far", { peerAddress: "198.51.100.1", peerASN: 64999, ebgpMultiHop: true, bfdProfile: "fast" }),
        peer("none", { peerAddress: "192.0.2.3" }),
      ],
    });
    const s = desiredSessions(c, [{ name: "n1", labels: {} }]);
    const want = {
      profile: "fast",
      receiveInterval: 100,
      transmitInterval: 200,
      detectMultiplier: 5,
      passiveMode: true,
    };
    expect(s.get("near-n1")!.spec.bfd).toEqual({ ...want, multihop: false, minimumTtl: 254 });
    expect(s.get("far-n1")!.spec.bfd).toEqual({ ...want, multihop: true, minimumTtl: 254 });
    expect(s.get("none-n1")!.spec.bfd).toBeUndefined();
  });

  it("never copies a plain-text password: it points the agent at the BGPPeer", () => {
    const s = sessions.get("core-n2")!;
    expect(JSON.stringify(s)).not.toContain("s3cret");
    expect(s.annotations).toEqual({ "metallb.io/password-source": "BGPPeer", "metallb.io/peer-generation": "7" });
    expect(s.spec.passwordSecretRef).toBeUndefined();
  });

  it("references a password Secret by name, namespace and key", () => {
    expect(sessions.get("edge-n1")!.spec).toMatchObject({
      peerAddress: "2001:db8::1",
      peerPort: 1179,
      passwordSecretRef: { name: "edge-pw", namespace: "metallb-system", key: "password" },
    });
  });
});

describe("sessionName", () => {
  it("is <peer>-<node> when short enough", () => expect(sessionName("tor", "n1")).toBe("tor-n1"));

  it("stays within 253 characters, unique per pair, when the names are long", () => {
    const a = sessionName("p".repeat(200), "n".repeat(100));
    const b = sessionName("p".repeat(200), "n".repeat(99) + "m");
    expect(a.length).toBeLessThanOrEqual(253);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
  });
});

describe("sessionAction", () => {
  const d = desiredSessions(config, nodes).get("tor-n1")!;
  it("applies a missing session and leaves an equal one (server defaults included) alone", () => {
    expect(sessionAction(d, undefined)).toBe("apply");
    expect(sessionAction(d, { metadata: { labels: { ...d.labels }, annotations: {} }, spec: { ...d.spec } })).toBe(
      "none",
    );
  });
  it("applies a changed spec and recreates a session for another pair", () => {
    expect(sessionAction(d, { metadata: { labels: { ...d.labels } }, spec: { ...d.spec, holdTime: 90 } })).toBe(
      "apply",
    );
    expect(sessionAction(d, { metadata: { labels: { ...d.labels } }, spec: { ...d.spec, node: "other" } })).toBe(
      "recreate",
    );
  });
});

describe("ServiceBGPStatus diff", () => {
  const plans = new Map<string, NodePlan>([
    [
      "n1",
      {
        routes: new Map(),
        conflicts: [],
        services: new Map([["default/a", { announce: true, peers: ["core", "tor"] }]]),
      },
    ],
    [
      "n2",
      {
        routes: new Map(),
        conflicts: [],
        services: new Map([["default/a", { announce: false, reason: "noLocalEndpoints" }]]),
      },
    ],
  ]);
  const labels = (node: string) => ({
    "metallb.io/node": node,
    "metallb.io/service-name": "a",
    "metallb.io/service-namespace": "default",
  });

  it("creates one per advertising node only", () => {
    const changes = diffStatuses(desiredStatuses(plans), []);
    expect(changes.create).toEqual([
      { node: "n1", serviceNamespace: "default", serviceName: "a", peers: ["core", "tor"] },
    ]);
  });

  it("patches changed peers, deletes stale objects and duplicates", () => {
    const changes = diffStatuses(desiredStatuses(plans), [
      {
        metadata: { name: "bgp-1", labels: labels("n1") },
        status: { node: "n1", serviceName: "a", serviceNamespace: "default", peers: ["core"] },
      },
      { metadata: { name: "bgp-2", labels: labels("n1") } },
      { metadata: { name: "bgp-3", labels: labels("n2") } },
    ]);
    expect(changes.create).toEqual([]);
    expect(changes.patch.map((p) => p.name)).toEqual(["bgp-1"]);
    expect(changes.delete).toEqual(["bgp-2", "bgp-3"]);
  });
});

describe("pendingPrefixes", () => {
  it("counts planned prefixes the session has not advertised; all of them when not Established", () => {
    const route = {
      prefix: { family: 4 as const, base: 0n, prefixLength: 32 },
      prefixText: "",
      communities: [],
      largeCommunities: [],
      services: [],
      advertisements: [],
    };
    const plans = new Map<string, NodePlan>([
      ["n1", { routes: new Map([["tor", [route, route, route]]]), services: new Map(), conflicts: [] }],
    ]);
    const rows = pendingPrefixes(plans, [
      { node: "n1", peer: "tor", peerAddress: "192.0.2.1", peerPort: 179, state: "Established", advertisedPrefixes: 2 },
      { node: "n1", peer: "tor", peerAddress: "2001:db8::1", state: "Active", advertisedPrefixes: 3 },
    ]);
    expect(rows.map((r) => [r.peerLabel, r.planned, r.pending])).toEqual([
      ["192.0.2.1:179", 3, 1],
      ["[2001:db8::1]:179", 3, 3],
    ]);
  });
});
