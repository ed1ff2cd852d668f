import type { L2AdvertisementSpec } from "../../../crds/types";
import { configOf, l2, pool } from "../../shared/config/testing";
import {
  electOwners,
  EXCLUDE_LB_LABEL,
  type Assignment,
  type ElectionInput,
  type ElectionNode,
  type ElectionService,
} from "./election";

const node = (name: string, labels: Record<string, string> = {}, networkUnavailable = false): ElectionNode => ({
  name,
  labels,
  networkUnavailable,
});
const svc = (key: string, ips: string[], extra: Partial<ElectionService> = {}): ElectionService => ({
  key,
  labels: {},
  ips,
  shared: false,
  local: false,
  ...extra,
});
const nodes = [node("a", { zone: "x" }), node("b", { zone: "y" }), node("c", { zone: "y" })];

function setup(ads: L2AdvertisementSpec[] = [{}], parts: Partial<ElectionInput> = {}): ElectionInput {
  const config = configOf({
    pools: [pool("p", ["192.0.2.100-192.0.2.199", "2001:db8:1::100-2001:db8:1::1ff"]), pool("q", ["198.51.100.0/24"])],
    l2Advertisements: ads.map((spec, i) => l2(`ad${i}`, { ipAddressPools: ["p"], ...spec })),
  });
  return {
    services: [],
    pools: config.pools,
    l2Advertisements: config.l2Advertisements,
    nodes,
    liveAgents: new Set(nodes.map((n) => n.name)),
    endpointNodes: new Map(),
    currentOwners: new Map(),
    ignoreExcludeLBLabel: false,
    ...parts,
  };
}
const owned = (a: Assignment | undefined) => {
  if (a?.node === undefined) throw new Error(`not announced: ${JSON.stringify(a)}`);
  return a;
};
const ownerOf = (input: ElectionInput, key: string): string | undefined => electOwners(input).get(key)?.node;

describe("L2 election", () => {
  it("picks one live node and is deterministic", () => {
    const input = setup([{}], { services: [svc("ns/a", ["192.0.2.100"])] });
    const first = ownerOf(input, "ns/a");
    expect(["a", "b", "c"]).toContain(first);
    expect(ownerOf({ ...input, nodes: [...nodes].reverse() }, "ns/a")).toBe(first);
  });

  it("spreads different IPs across nodes", () => {
    const services = Array.from({ length: 60 }, (_, i) => svc(`ns/s${i}`, [`192.0.2.${100 + i}`]));
    const owners = [...electOwners(setup([{}], { services })).values()].map((a) => a.node);
    for (const n of ["a", "b", "c"]) expect(owners.filter((o) => o === n).length).toBeGreaterThan(5);
  });

  it("keeps the current owner while it stays eligible and live, moves when it dies", () => {
    const base = setup([{}], { services: [svc("ns/a", ["192.0.2.100"])] });
    const natural = ownerOf(base, "ns/a")!;
    const other = ["a", "b", "c"].find((n) => n !== natural)!;
    const held = { ...base, currentOwners: new Map([["ns/a", other]]) };
    expect(ownerOf(held, "ns/a")).toBe(other);
    const dead = { ...held, liveAgents: new Set(["a", "b", "c"].filter((n) => n !== other)) };
    expect(ownerOf(dead, "ns/a")).toBe(natural);
  });

  it("applies nodeSelectors, exclusions and NetworkUnavailable", () => {
    const s = [svc("ns/a", ["192.0.2.100"])];
    expect(ownerOf(setup([{ nodeSelectors: [{ matchLabels: { zone: "x" } }] }], { services: s }), "ns/a")).toBe("a");
    const excluded = [node("a", { [EXCLUDE_LB_LABEL]: "" }), node("b", {}, true), node("c")];
    expect(ownerOf(setup([{}], { services: s, nodes: excluded }), "ns/a")).toBe("c");
    expect(ownerOf(setup([{}], { services: s, nodes: excluded.slice(0, 2) }), "ns/a")).toBeUndefined();
    expect(ownerOf(setup([{}], { services: s, nodes: excluded.slice(0, 2), ignoreExcludeLBLabel: true }), "ns/a")).toBe(
      "a",
    );
  });

  it("serviceSelectors filter ads, and never apply to shared-IP services", () => {
    const ad = { serviceSelectors: [{ matchLabels: { app: "web" } }] };
    expect(ownerOf(setup([ad], { services: [svc("ns/a", ["192.0.2.100"])] }), "ns/a")).toBeUndefined();
    expect(
      ownerOf(setup([ad], { services: [svc("ns/a", ["192.0.2.100"], { labels: { app: "web" } })] }), "ns/a"),
    ).toBeDefined();
    const shared = svc("ns/a", ["192.0.2.100"], { labels: { app: "web" }, shared: true });
    expect(electOwners(setup([ad], { services: [shared] })).get("ns/a")).toEqual({ reason: "no-advertisement" });
  });

  it("ETP Local announces only from nodes with a serving endpoint", () => {
    const s = [svc("ns/a", ["192.0.2.100"], { local: true })];
    expect(electOwners(setup([{}], { services: s })).get("ns/a")).toEqual({ reason: "no-local-endpoint" });
    expect(ownerOf(setup([{}], { services: s, endpointNodes: new Map([["ns/a", new Set(["b"])]]) }), "ns/a")).toBe("b");
    // The current owner loses its endpoint: the IP moves.
    const moved = setup([{}], {
      services: s,
      endpointNodes: new Map([["ns/a", new Set(["c"])]]),
      currentOwners: new Map([["ns/a", "b"]]),
    });
    expect(ownerOf(moved, "ns/a")).toBe("c");
  });

  it("preferredNodeSelectors weights win over the hash, summed across ads", () => {
    const services = Array.from({ length: 20 }, (_, i) => svc(`ns/s${i}`, [`192.0.2.${100 + i}`]));
    const ads = [
      { preferredNodeSelectors: [{ weight: 10, preference: { matchLabels: { zone: "y" } } }] },
      { preferredNodeSelectors: [{ weight: 5, preference: { matchLabels: { zone: "x" } } }] },
    ];
    for (const a of electOwners(setup(ads, { services })).values()) expect(["b", "c"]).toContain(a.node);
    const heavier = [...ads, { preferredNodeSelectors: [{ weight: 6, preference: { matchLabels: { zone: "x" } } }] }];
    for (const a of electOwners(setup(heavier, { services })).values()) expect(a.node).toBe("a");
  });

  it("keeps services sharing an IP on one node", () => {
    const services = Array.from({ length: 10 }, (_, i) => svc(`ns/s${i}`, ["192.0.2.150"], { shared: true }));
    const owners = new Set([...electOwners(setup([{}], { services })).values()].map((a) => a.node));
    expect(owners.size).toBe(1);
    const held = setup([{}], { services, currentOwners: new Map([["ns/s3", "c"]]) });
    expect(new Set([...electOwners(held).values()].map((a) => a.node))).toEqual(new Set(["c"]));
  });

  it("dual stack: the first IP decides; IPv6 alone works", () => {
    const input = setup([{}], {
      services: [svc("ns/d", ["192.0.2.100", "2001:db8:1::100"]), svc("ns/v", ["192.0.2.100"], { shared: true })],
    });
    const out = electOwners(input);
    expect(out.get("ns/d")!.node).toBe(out.get("ns/v")!.node);
    expect(ownerOf(setup([{}], { services: [svc("ns/6", ["2001:db8:1::120"])] }), "ns/6")).toBeDefined();
  });

  it("interfaces: union over ads that select the winner; empty means all", () => {
    const ads = [{ interfaces: ["eth1"] }, { interfaces: ["eth0"], nodeSelectors: [{ matchLabels: { zone: "x" } }] }];
    const input = setup(ads, { services: [svc("ns/a", ["192.0.2.100"])], currentOwners: new Map([["ns/a", "a"]]) });
    expect(electOwners(input).get("ns/a")).toEqual({ node: "a", interfaces: ["eth0", "eth1"], standbys: [] });
    const withAll = setup([...ads, {}], {
      services: [svc("ns/a", ["192.0.2.100"])],
      currentOwners: new Map([["ns/a", "a"]]),
    });
    expect(electOwners(withAll).get("ns/a")).toEqual({ node: "a", interfaces: [], standbys: [] });
  });

  it("IPs outside every pool or pools without an L2 ad are not announced", () => {
    expect(electOwners(setup([{}], { services: [svc("ns/a", ["203.0.113.5"])] })).get("ns/a")).toEqual({
      reason: "no-pool",
    });
    expect(electOwners(setup([{}], { services: [svc("ns/a", ["198.51.100.5"])] })).get("ns/a")).toEqual({
      reason: "no-advertisement",
    });
    expect(electOwners(setup([{}], { services: [svc("ns/a", [])] })).get("ns/a")).toEqual({ reason: "no-ips" });
    expect(
      electOwners(setup([{}], { services: [svc("ns/a", ["192.0.2.100"])], liveAgents: new Set() })).get("ns/a"),
    ).toEqual({ reason: "no-live-node" });
  });

  it("names up to standbyCount ranked standbys after the owner, live candidates only", () => {
    const services = Array.from({ length: 30 }, (_, i) => svc(`ns/s${i}`, [`192.0.2.${100 + i}`]));
    const out = electOwners(setup([{}], { services, standbyCount: 3 }));
    for (const a of out.values()) {
      expect(a.node).toBeDefined();
      if (a.node === undefined) continue;
      expect(a.standbys).toHaveLength(2);
      expect(new Set([a.node, ...a.standbys])).toEqual(new Set(["a", "b", "c"]));
    }
    // The standbys are the ranking: owner gone, the first standby is who the ranking picks next.
    const key = "ns/s0";
    const first = owned(out.get(key));
    const without = setup([{}], { services: [services[0]], standbyCount: 1, liveAgents: new Set(first.standbys) });
    expect(electOwners(without).get(key)).toMatchObject({ node: first.standbys[0], standbys: [first.standbys[1]] });
    const one = electOwners(setup([{}], { services: [services[0]], standbyCount: 1 })).get(key)!;
    expect(one).toMatchObject({ standbys: [first.standbys[0]] });
    const dead = setup([{}], { services: [services[0]], standbyCount: 3, liveAgents: new Set([first.node]) });
    expect(electOwners(dead).get(key)).toMatchObject({ node: first.node, standbys: [] });
  });

  it("a gone owner's Service goes to the first recorded standby that is a candidate, not to the ranking's pick", () => {
    const s = [svc("ns/a", ["192.0.2.100"])];
    const ranked = owned(electOwners(setup([{}], { services: s, standbyCount: 2 })).get("ns/a"));
    const [owner, second, third] = [ranked.node, ...ranked.standbys];
    const input = setup([{}], {
      services: s,
      standbyCount: 2,
      currentOwners: new Map([["ns/a", owner]]),
      recordedStandbys: new Map([["ns/a", [third, second]]]),
    });
    // While the owner lives, it stays and the recorded order does not matter.
    expect(electOwners(input).get("ns/a")).toMatchObject({ node: owner, standbys: [second, third] });
    const ownerDown = { ...input, liveAgents: new Set([second, third]) };
    expect(electOwners(ownerDown).get("ns/a")).toMatchObject({ node: third, standbys: [second] });
    // A recorded standby that is no candidate either is skipped.
    const bothDown = { ...input, liveAgents: new Set([second]) };
    expect(electOwners(bothDown).get("ns/a")).toMatchObject({ node: second, standbys: [] });
  });

  it("a shared IP's group takes the recorded standby of its members, and all share the standbys", () => {
    const services = ["s1", "s2"].map((n) => svc(`ns/${n}`, ["192.0.2.150"], { shared: true }));
    const ranked = owned(electOwners(setup([{}], { services, standbyCount: 2 })).get("ns/s1"));
    const input = setup([{}], {
      services,
      standbyCount: 2,
      currentOwners: new Map([
        ["ns/s1", ranked.node],
        ["ns/s2", ranked.node],
      ]),
      recordedStandbys: new Map([["ns/s2", [ranked.standbys[1]]]]),
      liveAgents: new Set(ranked.standbys),
    });
    const out = electOwners(input);
    expect(out.get("ns/s1")).toEqual(out.get("ns/s2"));
    expect(out.get("ns/s1")).toMatchObject({ node: ranked.standbys[1], standbys: [ranked.standbys[0]] });
  });
});
