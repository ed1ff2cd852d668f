import { resolveConfig, resolvePools } from "./resolve";
import { bfd, bgpAd, community, input, l2, peer, pool } from "./testing";

const pools = [pool("web", ["198.51.100.0/28"]), pool("lan", ["192.0.2.64/28"])];
const disabledIds = (r: ReturnType<typeof resolveConfig>) => r.disabled.map((d) => `${d.kind}/${d.name}:${d.fallback}`);

describe("resolveConfig: a bad object disables only itself", () => {
  it("an advertisement with an unknown Community alias is left out; pools, peers and other advertisements stay", () => {
    const r = resolveConfig(
      input({
        pools,
        bgpPeers: [peer("router", {})],
        bgpAdvertisements: [
          bgpAd("tagged", { communities: ["well-known"] }),
          bgpAd("plain", { ipAddressPools: ["web"] }),
        ],
        l2Advertisements: [l2("lan", { ipAddressPools: ["lan"] })],
      }),
    );
    expect(disabledIds(r)).toEqual(["BGPAdvertisement/tagged:none"]);
    expect(r.disabled[0].errors[0].message).toMatch(/^BGPAdvertisement "tagged": .*well-known/);
    expect(r.config.pools.map((p) => [p.name, p.disabled])).toEqual([
      ["lan", undefined],
      ["web", undefined],
    ]);
    expect(r.config.bgpAdvertisements.map((a) => a.name)).toEqual(["plain"]);
    expect(r.config.peers.map((p) => p.name)).toEqual(["router"]);
    expect(r.config.l2Advertisements.map((a) => a.name)).toEqual(["lan"]);
  });

  it("a peer with a missing BFD profile is left out; an advertisement naming it stays (sends to nobody, as MetalLB)", () => {
    const r = resolveConfig(
      input({
        pools,
        bfdProfiles: [bfd("fast")],
        bgpPeers: [peer("a", { bfdProfile: "gone" }), peer("b", { peerAddress: "192.0.2.2", bfdProfile: "fast" })],
        bgpAdvertisements: [bgpAd("to-a", { peers: ["a"] }), bgpAd("to-b", { peers: ["b"] })],
      }),
    );
    expect(disabledIds(r)).toEqual(["BGPPeer/a:none"]);
    expect(r.disabled[0].errors[0].message).toMatch(/^BGPPeer "a": .*"gone"/);
    expect(r.config.peers.map((p) => p.name)).toEqual(["b"]);
    expect(r.config.bgpAdvertisements.map((a) => a.name)).toEqual(["to-a", "to-b"]);
    expect(r.warnings.join("\n")).toMatch(/BGPPeer "a" does not exist/);
  });

  it("an invalid pool is frozen, never dropped: it stays in the model, marked disabled", () => {
    const created = (p: ReturnType<typeof pool>, at: string) => ({
      ...p,
      metadata: { ...p.metadata, creationTimestamp: at },
    });
    const r = resolveConfig(
      input({
        pools: [
          created(pools[0], "2026-01-01T00:00:00Z"),
          created(pools[1], "2026-01-01T00:00:00Z"),
          created(pool("bad", ["198.51.100.8/29", "not-a-cidr"]), "2026-02-01T00:00:00Z"),
        ],
        l2Advertisements: [l2("all")],
      }),
    );
    // "bad" overlaps "web" and has a malformed entry. The parser names "web" for the
    // overlap ("bad" sorts first), but "bad" is the newer of the two: only it is frozen.
    expect(disabledIds(r)).toEqual(["IPAddressPool/bad:frozen"]);
    const bad = r.config.pools.find((p) => p.name === "bad")!;
    expect(bad.disabled).toMatch(/not-a-cidr/);
    expect(bad.cidrs.length).toBeGreaterThan(0); // its parseable addresses stay, so holders keep them
    expect(r.config.l2Advertisements.map((a) => a.pools)).toEqual([["bad", "lan", "web"]]);
  });

  it("the newcomer of a conflict is disabled, not the object that already worked", () => {
    const first = resolveConfig(input({ pools }));
    expect(first.disabled).toEqual([]);
    // "a-new" sorts before "web", so the parser names "web" as the overlapping one.
    const r = resolveConfig(input({ pools: [...pools, pool("a-new", ["198.51.100.0/30"])] }), first.accepted);
    expect(disabledIds(r)).toEqual(["IPAddressPool/a-new:frozen"]);
    expect(r.config.pools.find((p) => p.name === "web")!.disabled).toBeUndefined();
  });

  it("after a restart (no memory), a pool created in the same second loses to the one Services hold addresses from", () => {
    const sameSecond = "2026-03-01T10:00:00Z";
    const at = (p: ReturnType<typeof pool>) => ({ ...p, metadata: { ...p.metadata, creationTimestamp: sameSecond } });
    // "a-new" sorts before "web": without more to go on, the parser's pick ("web") is blamed.
    const both = [at(pools[0]), at(pool("a-new", ["198.51.100.0/30"]))];
    expect(disabledIds(resolvePools(input({ pools: both })))).toEqual(["IPAddressPool/web:frozen"]);
    const restarted = resolvePools({ ...input({ pools: both }), poolsInUse: ["web"] });
    expect(disabledIds(restarted)).toEqual(["IPAddressPool/a-new:frozen"]);
    // An earlier resolution's verdict still comes first: in use does not outrank settled.
    const first = resolvePools({ ...input({ pools: [at(pool("a-new", ["198.51.100.0/30"]))] }) });
    const later = resolvePools({ ...input({ pools: both }), poolsInUse: ["web"] }, first.accepted);
    expect(disabledIds(later)).toEqual(["IPAddressPool/web:frozen"]);
  });

  it("after a restart, the Valid condition a controller wrote for this generation still makes a pool the older", () => {
    const sameSecond = "2026-03-01T10:00:00Z";
    const judged = (p: ReturnType<typeof pool>, generation: number, observedGeneration: number) => ({
      ...p,
      metadata: { ...p.metadata, creationTimestamp: sameSecond, generation },
      status: { conditions: [{ type: "Valid", status: "True", reason: "InForce", message: "", observedGeneration }] },
    });
    const newcomer = {
      ...pool("a-new", ["198.51.100.0/30"]),
      metadata: { name: "a-new", creationTimestamp: sameSecond },
    };
    // Nothing in memory, no Service holds an address: the status alone decides.
    const r = resolvePools(input({ pools: [judged(pools[0], 1, 1), newcomer] }));
    expect(disabledIds(r)).toEqual(["IPAddressPool/a-new:frozen"]);
    // A condition written for an older generation says nothing about this spec.
    const edited = resolvePools(input({ pools: [judged(pools[0], 2, 1), newcomer] }));
    expect(disabledIds(edited)).toEqual(["IPAddressPool/web:frozen"]);
  });

  it("a bad edit falls back to the object's last good version", () => {
    const before = resolveConfig(
      input({ pools, communities: [community("aliases", [{ name: "no-export", value: "65535:65281" }])] }),
    );
    const r = resolveConfig(
      input({ pools, communities: [community("aliases", [{ name: "no-export", value: "banana" }])] }),
      before.accepted,
    );
    expect(disabledIds(r)).toEqual(["Community/aliases:lastGood"]);
    expect(r.config.communities.map((c) => c.name)).toEqual(["no-export"]);
    // The last good version stays the one in force for the next change.
    expect(r.accepted.get("Community/aliases")).toEqual(before.accepted.get("Community/aliases"));
  });

  it("resolvePools never looks at L2 or BGP objects", () => {
    const r = resolvePools(
      input({
        pools,
        bgpAdvertisements: [bgpAd("x", { communities: ["nope"] })],
        bgpPeers: [peer("p", { bfdProfile: "gone" })],
      }),
    );
    expect(r.disabled).toEqual([]);
    expect(r.config.pools.map((p) => p.name)).toEqual(["lan", "web"]);
  });

  it("a valid configuration resolves to what parseConfig gives", () => {
    const r = resolveConfig(input({ pools, l2Advertisements: [l2("all")] }));
    expect(r.disabled).toEqual([]);
    expect(r.config.pools).toHaveLength(2);
    expect([...r.accepted.keys()].sort()).toEqual(["IPAddressPool/lan", "IPAddressPool/web", "L2Advertisement/all"]);
  });
});
