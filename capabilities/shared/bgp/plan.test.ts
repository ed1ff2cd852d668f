import { bgpAd, community, configOf, peer, pool } from "../config/testing";
import type { Config, ConfigInput } from "../config";
import { planAdvertisements, planNode, plannedSessions, type PlanInput } from "./plan";
import { endpointsByService, toPlanService } from "./kube-input";
import type { PlanNode, PlanService, ServiceEndpoints } from "./types";

const node = (
  name: string,
  labels: Record<string, string> = {},
  conditions: PlanNode["conditions"] = [],
): PlanNode => ({
  name,
  labels,
  conditions,
});
const svc = (name: string, ips: string[], extra: Partial<PlanService> = {}): PlanService => ({
  namespace: "default",
  name,
  labels: {},
  ips,
  ...extra,
});
const everywhere: ServiceEndpoints = { anyServing: true, servingNodes: new Set(["elsewhere"]) };

function base(parts: Partial<ConfigInput>): Config {
  return configOf({
    pools: [pool("v4", ["10.0.0.0/24"]), pool("v6", ["2001:db8::/64"]), pool("other", ["10.1.0.0/24"])],
    bgpPeers: [peer("r1", { peerAddress: "192.0.2.1" }), peer("r2", { peerAddress: "192.0.2.2" })],
    ...parts,
  });
}

function plan(config: Config, services: PlanService[], over: Partial<PlanInput> = {}) {
  const endpoints = new Map(services.map((s) => [`${s.namespace}/${s.name}`, everywhere] as const));
  return planNode({
    config,
    node: node("n1", { zone: "a" }),
    services,
    endpoints,
    settings: { ignoreExcludeLBLabel: false },
    ...over,
  });
}

const prefixes = (routes: ReadonlyMap<string, readonly { prefixText: string }[]>, peerName: string) =>
  (routes.get(peerName) ?? []).map((r) => r.prefixText);

describe("which advertisements apply", () => {
  it("advertises an IP of a named pool to every peer as a /32 by default", () => {
    const p = plan(base({ bgpAdvertisements: [bgpAd("ad", { ipAddressPools: ["v4"] })] }), [svc("a", ["10.0.0.5"])]);
    expect(prefixes(p.routes, "r1")).toEqual(["10.0.0.5/32"]);
    expect(prefixes(p.routes, "r2")).toEqual(["10.0.0.5/32"]);
    expect(p.services.get("default/a")).toEqual({ announce: true, peers: ["r1", "r2"] });
  });

  it("ignores IPs of pools the advertisement does not cover", () => {
    const p = plan(base({ bgpAdvertisements: [bgpAd("ad", { ipAddressPools: ["v4"] })] }), [svc("a", ["10.1.0.5"])]);
    expect(p.routes.size).toBe(0);
    expect(p.services.get("default/a")).toEqual({ announce: false, reason: "noMatchingAdvertisement" });
  });

  it("covers every pool when no pools or pool selectors are given", () => {
    const p = plan(base({ bgpAdvertisements: [bgpAd("ad")] }), [svc("a", ["10.1.0.5"])]);
    expect(prefixes(p.routes, "r1")).toEqual(["10.1.0.5/32"]);
  });

  it("covers pools chosen by ipAddressPoolSelectors", () => {
    const config = configOf({
      pools: [pool("lab", ["10.0.0.0/24"], {}, { env: "lab" }), pool("prod", ["10.1.0.0/24"], {}, { env: "prod" })],
      bgpPeers: [peer("r1", {})],
      bgpAdvertisements: [bgpAd("ad", { ipAddressPoolSelectors: [{ matchLabels: { env: "lab" } }] })],
    });
    const p = plan(config, [svc("a", ["10.0.0.1"]), svc("b", ["10.1.0.1"])]);
    expect(prefixes(p.routes, "r1")).toEqual(["10.0.0.1/32"]);
  });

  it("applies serviceSelectors to the Service's labels", () => {
    const config = base({
      bgpAdvertisements: [bgpAd("ad", { serviceSelectors: [{ matchLabels: { expose: "bgp" } }] })],
    });
    const p = plan(config, [svc("a", ["10.0.0.1"], { labels: { expose: "bgp" } }), svc("b", ["10.0.0.2"])]);
    expect(prefixes(p.routes, "r1")).toEqual(["10.0.0.1/32"]);
    expect(p.services.get("default/b")).toEqual({ announce: false, reason: "noMatchingAdvertisement" });
  });

  it("advertises only from nodes the advertisement's nodeSelectors pick", () => {
    const config = base({ bgpAdvertisements: [bgpAd("ad", { nodeSelectors: [{ matchLabels: { zone: "b" } }] })] });
    expect(plan(config, [svc("a", ["10.0.0.1"])]).routes.size).toBe(0);
    const onB = plan(config, [svc("a", ["10.0.0.1"])], { node: node("n2", { zone: "b" }) });
    expect(prefixes(onB.routes, "r1")).toEqual(["10.0.0.1/32"]);
  });

  it("sends only to the advertisement's named peers", () => {
    const p = plan(base({ bgpAdvertisements: [bgpAd("ad", { peers: ["r2"] })] }), [svc("a", ["10.0.0.1"])]);
    expect([...p.routes.keys()]).toEqual(["r2"]);
    expect(p.services.get("default/a")).toEqual({ announce: true, peers: ["r2"] });
  });

  it("sends nothing to a peer whose nodeSelectors do not pick this node", () => {
    const config = base({
      bgpPeers: [
        peer("r1", { nodeSelectors: [{ matchLabels: { zone: "b" } }] }),
        peer("r2", { peerAddress: "192.0.2.2" }),
      ],
      bgpAdvertisements: [bgpAd("all"), bgpAd("only-r1", { peers: ["r1"], communities: ["1:1"] })],
    });
    const p = plan(config, [svc("a", ["10.0.0.1"])]);
    expect([...p.routes.keys()]).toEqual(["r2"]);
    expect(p.routes.get("r2")![0].communities).toEqual([]);
  });

  it("reports noPeers when an advertisement applies but no session runs on this node", () => {
    const config = base({
      bgpAdvertisements: [bgpAd("ad", { peers: ["r1"] })],
      bgpPeers: [peer("r1", { nodeSelectors: [{ matchLabels: { zone: "z" } }] })],
    });
    expect(plan(config, [svc("a", ["10.0.0.1"])]).services.get("default/a")).toEqual({
      announce: false,
      reason: "noPeers",
    });
  });
});

describe("address families of sessions", () => {
  const peers = [
    peer("v4", { peerAddress: "192.0.2.1" }),
    peer("v6", { peerAddress: "2001:db8:ff::1" }),
    peer("both", { peerAddress: "192.0.2.2", dualStackAddressFamily: true }),
  ];

  it("a session carries its own family's routes, and both with dualStackAddressFamily", () => {
    const p = plan(base({ bgpPeers: peers, bgpAdvertisements: [bgpAd("ad")] }), [
      svc("a", ["10.0.0.1", "2001:db8::1"]),
    ]);
    expect(prefixes(p.routes, "v4")).toEqual(["10.0.0.1/32"]);
    expect(prefixes(p.routes, "v6")).toEqual(["2001:db8::1/128"]);
    expect(prefixes(p.routes, "both")).toEqual(["10.0.0.1/32", "2001:db8::1/128"]);
    expect(p.services.get("default/a")).toEqual({ announce: true, peers: ["both", "v4", "v6"] });
  });

  it("an IPv6 Service with only IPv4 sessions on the node reports noPeers", () => {
    const p = plan(base({ bgpPeers: [peers[0]], bgpAdvertisements: [bgpAd("ad")] }), [svc("a", ["2001:db8::1"])]);
    expect(p.services.get("default/a")).toEqual({ announce: false, reason: "noPeers" });
    expect(p.routes.size).toBe(0);
  });
});

describe("aggregation", () => {
  it("masks the IP to aggregationLength and aggregationLengthV6", () => {
    const config = base({
      bgpPeers: [peer("r1", { peerAddress: "192.0.2.1", dualStackAddressFamily: true })],
      bgpAdvertisements: [bgpAd("ad", { aggregationLength: 24, aggregationLengthV6: 64 })],
    });
    const p = plan(config, [svc("a", ["10.0.0.77", "2001:db8::1234"])]);
    expect(prefixes(p.routes, "r1")).toEqual(["10.0.0.0/24", "2001:db8::/64"]);
  });

  it("announces one aggregate for several Services and lists them all", () => {
    const config = base({ bgpAdvertisements: [bgpAd("ad", { aggregationLength: 24 })] });
    const p = plan(config, [svc("b", ["10.0.0.2"]), svc("a", ["10.0.0.1"])]);
    expect(p.routes.get("r1")).toHaveLength(1);
    expect(p.routes.get("r1")![0].services).toEqual(["default/a", "default/b"]);
  });

  it("lists every Service sharing one IP", () => {
    const p = plan(base({ bgpAdvertisements: [bgpAd("ad")] }), [svc("a", ["10.0.0.1"]), svc("b", ["10.0.0.1"])]);
    expect(p.routes.get("r1")!.map((r) => r.services)).toEqual([["default/a", "default/b"]]);
  });
});

describe("attributes", () => {
  it("carries localPref and standard + large communities, sorted and de-duplicated across advertisements", () => {
    const config = base({
      bgpAdvertisements: [
        bgpAd("a1", { localPref: 100, communities: ["65000:2", "large:1:2:3"] }),
        bgpAd("a2", { localPref: 100, communities: ["65000:1", "65000:2", "large:1:1:9"] }),
      ],
    });
    const [route] = plan(config, [svc("a", ["10.0.0.1"])]).routes.get("r1")!;
    expect(route.localPref).toBe(100);
    expect(route.communities).toEqual([65000 * 65536 + 1, 65000 * 65536 + 2]);
    expect(route.largeCommunities).toEqual([
      { globalAdmin: 1, localData1: 1, localData2: 9 },
      { globalAdmin: 1, localData1: 2, localData2: 3 },
    ]);
    expect(route.advertisements).toEqual(["a1", "a2"]);
  });

  it("omits localPref when no advertisement sets one", () => {
    const [route] = plan(base({ bgpAdvertisements: [bgpAd("ad")] }), [svc("a", ["10.0.0.1"])]).routes.get("r1")!;
    expect(route).not.toHaveProperty("localPref");
  });

  it("takes the highest localPref and reports advertisements that disagree for one prefix and peer", () => {
    // serviceSelectors put the check at plan time (admission cannot see Services).
    const config = base({
      bgpAdvertisements: [
        bgpAd("low", { localPref: 50, serviceSelectors: [{ matchLabels: { app: "x" } }] }),
        bgpAd("high", { localPref: 200, serviceSelectors: [{ matchLabels: { tier: "y" } }] }),
      ],
    });
    const p = plan(config, [svc("a", ["10.0.0.1"], { labels: { app: "x", tier: "y" } })]);
    expect(p.routes.get("r1")![0].localPref).toBe(200);
    expect(p.conflicts).toEqual([
      "prefix 10.0.0.1/32 to peer r1: BGPAdvertisements disagree on localPref: 200 (high) vs 50 (low); using 200",
      "prefix 10.0.0.1/32 to peer r2: BGPAdvertisements disagree on localPref: 200 (high) vs 50 (low); using 200",
    ]);
  });

  it("keeps different attributes per peer when advertisements target different peers", () => {
    const config = base({
      bgpAdvertisements: [
        bgpAd("to-r1", { peers: ["r1"], communities: ["1:1"] }),
        bgpAd("to-r2", { peers: ["r2"], communities: ["2:2"] }),
      ],
    });
    const p = plan(config, [svc("a", ["10.0.0.1"])]);
    expect(p.routes.get("r1")![0].communities).toEqual([65537]);
    expect(p.routes.get("r2")![0].communities).toEqual([2 * 65536 + 2]);
  });
});

describe("communities a Service asks for (metallb.io/bgp-communities)", () => {
  /** An advertisement the network team opted in to Service communities. */
  const optedIn = (name: string, spec: Parameters<typeof bgpAd>[1] = {}) => {
    const ad = bgpAd(name, spec);
    return { ...ad, metadata: { ...ad.metadata, annotations: { "metallb.io/service-communities": "true" } } };
  };
  const tenantA = community("tenants", [{ name: "tenant-a", value: "64500:10" }]);

  it("an opted-in advertisement adds the Service's values and aliases to its own", () => {
    const config = base({ bgpAdvertisements: [optedIn("open", { communities: ["65000:1"] })], communities: [tenantA] });
    const asked = svc("a", ["10.0.0.1"], { communities: "tenant-a, large:64500:1:2" });
    const [route] = plan(config, [asked]).routes.get("r1")!;
    expect(route.communities).toEqual([64500 * 65536 + 10, 65000 * 65536 + 1]);
    expect(route.largeCommunities).toEqual([{ globalAdmin: 64500, localData1: 1, localData2: 2 }]);
  });

  it("an advertisement that did not opt in ignores them, even for the same prefix on another peer", () => {
    const config = base({
      bgpAdvertisements: [optedIn("to-r1", { peers: ["r1"] }), bgpAd("to-r2", { peers: ["r2"], communities: ["2:2"] })],
    });
    const p = plan(config, [svc("a", ["10.0.0.1"], { communities: "64500:7" })]);
    expect(p.routes.get("r1")![0].communities).toEqual([64500 * 65536 + 7]);
    expect(p.routes.get("r2")![0].communities).toEqual([2 * 65536 + 2]);
  });

  it("leaves off an alias no Community defines and a malformed entry, and keeps the rest", () => {
    const config = base({ bgpAdvertisements: [optedIn("open")] });
    const [route] = plan(config, [
      svc("a", ["10.0.0.1"], { communities: "nobody-defines-me,70000:1,64500:8" }),
    ]).routes.get("r1")!;
    expect(route.communities).toEqual([64500 * 65536 + 8]);
  });

  it("an aggregate carries the communities of every Service inside it", () => {
    const config = base({ bgpAdvertisements: [optedIn("agg", { aggregationLength: 24 })] });
    const p = plan(config, [
      svc("a", ["10.0.0.1"], { communities: "64500:1" }),
      svc("b", ["10.0.0.2"], { communities: "64500:2" }),
    ]);
    expect(p.routes.get("r1")).toMatchObject([
      { prefixText: "10.0.0.0/24", communities: [64500 * 65536 + 1, 64500 * 65536 + 2] },
    ]);
  });

  it("reads the annotation through toPlanService", () => {
    const service = {
      metadata: { name: "a", namespace: "default", annotations: { "metallb.io/bgp-communities": "64500:9" } },
      spec: { type: "LoadBalancer" },
      status: { loadBalancer: { ingress: [{ ip: "10.0.0.1" }] } },
    };
    const [route] = plan(base({ bgpAdvertisements: [optedIn("open")] }), [toPlanService(service)!]).routes.get("r1")!;
    expect(route.communities).toEqual([64500 * 65536 + 9]);
  });
});

describe("weighted ECMP (metallb.io/weighted-ecmp)", () => {
  const weighted = (name: string, spec: Parameters<typeof bgpAd>[1] = {}) => {
    const ad = bgpAd(name, spec);
    return { ...ad, metadata: { ...ad.metadata, annotations: { "metallb.io/weighted-ecmp": "true" } } };
  };
  const slice = (service: string, addressType: string, nodes: string[]) => ({
    metadata: { namespace: "default", labels: { "kubernetes.io/service-name": service } },
    addressType,
    endpoints: nodes.map((nodeName) => ({ nodeName, conditions: { ready: true } })),
  });
  const local = (name: string, ip: string) => svc(name, [ip], { externalTrafficPolicy: "Local" });
  const planWith = (config: Config, services: PlanService[], slices: ReturnType<typeof slice>[]) =>
    plan(config, services, { endpoints: endpointsByService(slices) });

  it("a Local Service's route carries 1 Mbit/s per serving endpoint on this node, counted once over dual-stack slices", () => {
    const p = planWith(
      base({ bgpAdvertisements: [weighted("w")] }),
      [local("web", "10.0.0.1")],
      [slice("web", "IPv4", ["n1", "n1", "n1", "n2"]), slice("web", "IPv6", ["n1", "n1", "n1", "n2"])],
    );
    expect(p.routes.get("r1")![0].linkBandwidth).toBe(3 * 125_000);
  });

  it("none for a Cluster Service, nor from an advertisement that did not opt in", () => {
    const slices = [slice("web", "IPv4", ["n1", "n1"])];
    const cluster = planWith(base({ bgpAdvertisements: [weighted("w")] }), [svc("web", ["10.0.0.1"])], slices);
    expect(cluster.routes.get("r1")![0]).not.toHaveProperty("linkBandwidth");
    const plain = planWith(base({ bgpAdvertisements: [bgpAd("plain")] }), [local("web", "10.0.0.1")], slices);
    expect(plain.routes.get("r1")![0]).not.toHaveProperty("linkBandwidth");
  });

  it("an aggregate sums its Local Services' endpoints, and carries none once a Cluster Service shares it", () => {
    const config = base({ bgpAdvertisements: [weighted("agg", { aggregationLength: 24 })] });
    const slices = [slice("a", "IPv4", ["n1"]), slice("b", "IPv4", ["n1", "n1"]), slice("c", "IPv4", ["n1"])];
    const both = planWith(config, [local("a", "10.0.0.1"), local("b", "10.0.0.2")], slices);
    expect(both.routes.get("r1")![0]).toMatchObject({ prefixText: "10.0.0.0/24", linkBandwidth: 3 * 125_000 });
    const mixed = planWith(config, [local("a", "10.0.0.1"), svc("c", ["10.0.0.3"])], slices);
    expect(mixed.routes.get("r1")![0]).not.toHaveProperty("linkBandwidth");
  });

  it("two opted-in advertisements of one Service count its endpoints once", () => {
    const config = base({ bgpAdvertisements: [weighted("w1"), weighted("w2", { communities: ["1:1"] })] });
    const p = planWith(config, [local("web", "10.0.0.1")], [slice("web", "IPv4", ["n1", "n1"])]);
    expect(p.routes.get("r1")![0].linkBandwidth).toBe(2 * 125_000);
  });
});

describe("externalTrafficPolicy and endpoints", () => {
  const config = base({ bgpAdvertisements: [bgpAd("ad")] });
  const at = (nodes: string[], any = nodes.length > 0): ServiceEndpoints => ({
    anyServing: any,
    servingNodes: new Set(nodes),
  });

  it("Cluster: advertises from every node while any serving endpoint exists", () => {
    const s = svc("a", ["10.0.0.1"]);
    const p = plan(config, [s], { endpoints: new Map([["default/a", at(["other-node"])]]) });
    expect(p.services.get("default/a")).toEqual({ announce: true, peers: ["r1", "r2"] });
  });

  it("Cluster: withdraws with noEndpoints when nothing serves", () => {
    const p = plan(config, [svc("a", ["10.0.0.1"])], { endpoints: new Map() });
    expect(p.services.get("default/a")).toEqual({ announce: false, reason: "noEndpoints" });
    expect(p.routes.size).toBe(0);
  });

  it("Local: advertises only from a node with a serving local endpoint", () => {
    const s = svc("a", ["10.0.0.1"], { externalTrafficPolicy: "Local" });
    const elsewhere = plan(config, [s], { endpoints: new Map([["default/a", at(["n2"])]]) });
    expect(elsewhere.services.get("default/a")).toEqual({ announce: false, reason: "noLocalEndpoints" });
    const here = plan(config, [s], { endpoints: new Map([["default/a", at(["n1"])]]) });
    expect(prefixes(here.routes, "r1")).toEqual(["10.0.0.1/32"]);
  });
});

describe("node exclusions and Service preconditions", () => {
  const config = base({ bgpAdvertisements: [bgpAd("ad")] });

  it("a NetworkUnavailable node advertises nothing", () => {
    const p = plan(config, [svc("a", ["10.0.0.1"])], {
      node: node("n1", {}, [{ type: "NetworkUnavailable", status: "True" }]),
    });
    expect(p.services.get("default/a")).toEqual({ announce: false, reason: "nodeNetworkUnavailable" });
  });

  it("the exclude-from-external-load-balancers label excludes the node unless the setting says to ignore it", () => {
    const labelled = node("n1", { "node.kubernetes.io/exclude-from-external-load-balancers": "" });
    const excluded = plan(config, [svc("a", ["10.0.0.1"])], { node: labelled });
    expect(excluded.services.get("default/a")).toEqual({ announce: false, reason: "nodeExcluded" });
    const ignored = plan(config, [svc("a", ["10.0.0.1"])], {
      node: labelled,
      settings: { ignoreExcludeLBLabel: true },
    });
    expect(ignored.services.get("default/a")).toMatchObject({ announce: true });
  });

  it("reports noIPAllocated and ipNotAllowed", () => {
    const p = plan(config, [svc("none", []), svc("stray", ["172.16.0.1"])]);
    expect(p.services.get("default/none")).toEqual({ announce: false, reason: "noIPAllocated" });
    expect(p.services.get("default/stray")).toEqual({ announce: false, reason: "ipNotAllowed" });
  });

  it("planAdvertisements returns the per-peer routes", () => {
    const routes = planAdvertisements({
      config,
      node: node("n1"),
      services: [svc("a", ["10.0.0.1"])],
      endpoints: new Map([["default/a", everywhere]]),
      settings: { ignoreExcludeLBLabel: false },
    });
    expect([...routes.keys()]).toEqual(["r1", "r2"]);
  });
});

describe("plannedSessions", () => {
  it("pairs every peer with the nodes its nodeSelectors pick (empty = all), sorted", () => {
    const config = base({
      bgpPeers: [
        peer("tor", { nodeSelectors: [{ matchLabels: { rack: "1" } }] }),
        peer("core", { peerAddress: "192.0.2.9" }),
      ],
    });
    const pairs = plannedSessions(config, [
      { name: "n2", labels: { rack: "1" } },
      { name: "n1", labels: {} },
    ]).map((s) => `${s.peer.name}/${s.node.name}`);
    expect(pairs).toEqual(["core/n1", "core/n2", "tor/n2"]);
  });
});

describe("kube inputs", () => {
  it("reads serving endpoints per Service from EndpointSlices", () => {
    const slice = (svcName: string, endpoints: object[]) => ({
      metadata: { namespace: "default", labels: { "kubernetes.io/service-name": svcName } },
      endpoints,
    });
    const eps = endpointsByService([
      slice("a", [
        { nodeName: "n1", conditions: { ready: false } },
        { nodeName: "n2", conditions: {} },
      ]),
      slice("a", [{ nodeName: "n3", conditions: { ready: false, serving: true } }]),
      slice("b", [{ nodeName: "n1", conditions: { ready: false, serving: false } }]),
      { metadata: { namespace: "default" }, endpoints: [{ nodeName: "x" }] },
    ]);
    expect([...eps.get("default/a")!.servingNodes].sort()).toEqual(["n2", "n3"]);
    expect(eps.get("default/b")).toEqual({ anyServing: false, servingNodes: new Set(), servingPerNode: new Map() });
    expect(eps.size).toBe(2);
  });

  it("takes only LoadBalancer Services of our class", () => {
    const lb = {
      metadata: { name: "a", namespace: "default" },
      spec: { type: "LoadBalancer", externalTrafficPolicy: "Local" },
      status: { loadBalancer: { ingress: [{ ip: "10.0.0.1" }, { hostname: "x" }] } },
    };
    expect(toPlanService(lb)).toEqual({
      namespace: "default",
      name: "a",
      labels: {},
      ips: ["10.0.0.1"],
      externalTrafficPolicy: "Local",
    });
    expect(toPlanService({ ...lb, spec: { type: "ClusterIP" } })).toBeUndefined();
    expect(toPlanService({ ...lb, spec: { type: "LoadBalancer", loadBalancerClass: "x" } })).toBeUndefined();
    expect(toPlanService({ ...lb, spec: { type: "LoadBalancer", loadBalancerClass: "x" } }, "x")).toBeDefined();
  });
});
