import { bgpAd, community, configOf, errorsOf, l2, peer, pool, warningsOf } from "./testing";

const pools = [
  pool("v4", ["192.0.2.0/26"], {}, { tier: "gold" }),
  pool("v6", ["2001:db8::/120"]),
  pool("range", ["198.51.100.0-198.51.100.255"]),
];

describe("L2Advertisement rules", () => {
  it("duplicate pool names", () => {
    expect(errorsOf({ pools, l2Advertisements: [l2("a", { ipAddressPools: ["v4", "v4"] })] })).toEqual([
      'L2Advertisement "a": spec.ipAddressPools[1]: duplicate definition of ipAddressPools "v4"; list each value once',
    ]);
  });

  it("duplicate pool selectors", () => {
    const s = { matchLabels: { tier: "gold" } };
    expect(errorsOf({ pools, l2Advertisements: [l2("a", { ipAddressPoolSelectors: [s, s] })] })).toEqual([
      'L2Advertisement "a": spec.ipAddressPoolSelectors[1]: duplicate definition of ipAddressPoolSelectors "tier=gold"; remove the repeated selector',
    ]);
  });

  it("invalid node selector", () => {
    const s = { matchExpressions: [{ key: "zone", operator: "Near" as never, values: ["a"] }] };
    expect(errorsOf({ l2Advertisements: [l2("a", { nodeSelectors: [s] })] })).toEqual([
      'L2Advertisement "a": spec.nodeSelectors[0]: failed to parse node selector: unknown operator "Near" on key "zone"',
    ]);
  });

  it("invalid service selector", () => {
    const s = { matchExpressions: [{ key: "app", operator: "NotIn" as const }] };
    expect(errorsOf({ l2Advertisements: [l2("a", { serviceSelectors: [s] })] })).toEqual([
      'L2Advertisement "a": spec.serviceSelectors[0]: failed to parse service selector: values must be non-empty for operator "NotIn" on key "app"',
    ]);
  });

  it("duplicate values inside one expression", () => {
    const s = { matchExpressions: [{ key: "zone", operator: "In" as const, values: ["a", "a"] }] };
    expect(errorsOf({ l2Advertisements: [l2("a", { nodeSelectors: [s] })] })).toEqual([
      'L2Advertisement "a": spec.nodeSelectors[0]: failed to parse node selector: duplicate definition of values "a" in "zone"',
    ]);
  });

  it("duplicate match expressions", () => {
    const e = { key: "zone", operator: "Exists" as const };
    expect(errorsOf({ l2Advertisements: [l2("a", { nodeSelectors: [{ matchExpressions: [e, e] }] })] })).toEqual([
      'L2Advertisement "a": spec.nodeSelectors[0]: failed to parse node selector: duplicate definition of matchExpressions "zone"',
    ]);
  });

  it("preferred node selector weight out of range", () => {
    expect(
      errorsOf({ l2Advertisements: [l2("a", { preferredNodeSelectors: [{ weight: 101, preference: {} }] })] }),
    ).toEqual([
      'L2Advertisement "a": spec.preferredNodeSelectors[0].weight: invalid weight 101, must be in 1-100 range',
    ]);
  });

  it("invalid preferred node selector", () => {
    const preference = { matchLabels: { zone: "a b" } };
    expect(errorsOf({ l2Advertisements: [l2("a", { preferredNodeSelectors: [{ weight: 5, preference }] })] })).toEqual([
      'L2Advertisement "a": spec.preferredNodeSelectors[0].preference: failed to parse preferred node selectors: invalid label value "a b": must be at most 63 characters of letters, digits, "-", "_" or ".", starting and ending with a letter or digit',
    ]);
  });

  it("invalid interface name", () => {
    expect(errorsOf({ l2Advertisements: [l2("a", { interfaces: ["eth0", "a/b"] })] })).toEqual([
      'L2Advertisement "a": spec.interfaces[1]: invalid interface name "a/b"; use a network interface name such as "eth0"',
    ]);
  });

  it("an unknown pool is a warning (it may be created later)", () => {
    const parts = { pools, l2Advertisements: [l2("a", { ipAddressPools: ["later"] })] };
    expect(errorsOf(parts)).toEqual([]);
    expect(warningsOf(parts)).toEqual([
      'L2Advertisement "a": spec.ipAddressPools[0]: IPAddressPool "later" does not exist; nothing is announced for it until it is created',
    ]);
  });
});

describe("L2Advertisement model", () => {
  it("no pools named or selected means every pool", () => {
    expect(configOf({ pools, l2Advertisements: [l2("a")] }).l2Advertisements[0].pools).toEqual(["range", "v4", "v6"]);
  });

  it("named pools and selector matches are combined", () => {
    const c = configOf({
      pools,
      l2Advertisements: [
        l2("a", {
          ipAddressPools: ["v6"],
          ipAddressPoolSelectors: [{ matchLabels: { tier: "gold" } }],
          interfaces: ["eth0", "eth0"],
        }),
      ],
    });
    expect(c.l2Advertisements[0]).toMatchObject({ pools: ["v4", "v6"], interfaces: ["eth0"] });
  });
});

describe("BGPAdvertisement rules", () => {
  it("duplicate communities and peers", () => {
    expect(
      errorsOf({
        bgpPeers: [peer("p", {})],
        bgpAdvertisements: [bgpAd("a", { communities: ["1:1", "1:1"], peers: ["p", "p"] })],
      }),
    ).toEqual([
      'BGPAdvertisement "a": spec.peers[1]: duplicate definition of peers "p"; list each value once',
      'BGPAdvertisement "a": spec.communities[1]: duplicate definition of communities "1:1"; list each value once',
    ]);
  });

  it("IPv4 aggregation length above 32", () => {
    expect(errorsOf({ bgpAdvertisements: [bgpAd("a", { aggregationLength: 33 })] })).toEqual([
      'BGPAdvertisement "a": spec.aggregationLength: invalid aggregation length 33 for IPv4; use 1 to 32',
    ]);
  });

  it("IPv6 aggregation length above 128", () => {
    expect(errorsOf({ bgpAdvertisements: [bgpAd("a", { aggregationLengthV6: 129 })] })).toEqual([
      'BGPAdvertisement "a": spec.aggregationLengthV6: invalid aggregation length 129 for IPv6; use 1 to 128',
    ]);
  });

  it("aggregation shorter than the pool's prefix", () => {
    expect(
      errorsOf({ pools, bgpAdvertisements: [bgpAd("a", { ipAddressPools: ["v4"], aggregationLength: 24 })] }),
    ).toEqual([
      'BGPAdvertisement "a": spec.aggregationLength: invalid aggregation length 24: prefix 26 in this pool is more specific than the aggregation length for addresses "192.0.2.0/26" of IPAddressPool "v4"; set spec.aggregationLength to 26 or more',
    ]);
  });

  it("for a range the shortest mask among its CIDRs counts", () => {
    const p = [pool("r", ["10.0.0.0-10.0.0.191"])]; // 10.0.0.0/25 + 10.0.0.128/26
    expect(errorsOf({ pools: p, bgpAdvertisements: [bgpAd("a", { aggregationLength: 25 })] })).toEqual([]);
    expect(errorsOf({ pools: p, bgpAdvertisements: [bgpAd("a", { aggregationLength: 24 })] })).toEqual([
      'BGPAdvertisement "a": spec.aggregationLength: invalid aggregation length 24: prefix 25 in this pool is more specific than the aggregation length for addresses "10.0.0.0/25" of IPAddressPool "r"; set spec.aggregationLength to 25 or more',
    ]);
  });

  it("IPv6 aggregation shorter than the pool's prefix", () => {
    expect(
      errorsOf({ pools, bgpAdvertisements: [bgpAd("a", { ipAddressPools: ["v6"], aggregationLengthV6: 64 })] }),
    ).toEqual([
      'BGPAdvertisement "a": spec.aggregationLengthV6: invalid aggregation length 64: prefix 120 in this pool is more specific than the aggregation length for addresses "2001:db8::/120" of IPAddressPool "v6"; set spec.aggregationLengthV6 to 120 or more',
    ]);
  });

  it("serviceSelectors with a non-default aggregation length", () => {
    expect(
      errorsOf({
        bgpAdvertisements: [bgpAd("a", { aggregationLength: 30, serviceSelectors: [{ matchLabels: { app: "x" } }] })],
      }),
    ).toEqual([
      'BGPAdvertisement "a": spec.serviceSelectors: serviceSelectors and aggregationLength are mutually exclusive, can only be used together with default aggregationLength (32) and aggregationLengthV6 (128)',
    ]);
  });

  it("conflicting LOCAL_PREF for the same BGP update", () => {
    expect(
      errorsOf({
        pools,
        bgpAdvertisements: [bgpAd("a", { localPref: 100 }), bgpAd("b", { localPref: 200, ipAddressPools: ["v4"] })],
      }),
    ).toEqual([
      'BGPAdvertisement "b": spec.localPref: invalid local preference 200: local preference 100 was already set for the same type of BGP update by BGPAdvertisement "a" (IPAddressPool "v4", same aggregation length, common peers and nodes); give both advertisements the same localPref or separate their pools, peers or nodes',
    ]);
  });

  it("different LOCAL_PREF is fine with disjoint peers, nodes or aggregation lengths", () => {
    const bgpPeers = [peer("p1", {}), peer("p2", { peerAddress: "192.0.2.2" })];
    expect(
      errorsOf({
        pools,
        bgpPeers,
        bgpAdvertisements: [
          bgpAd("a", { localPref: 100, peers: ["p1"] }),
          bgpAd("b", { localPref: 200, peers: ["p2"] }),
        ],
      }),
    ).toEqual([]);
    expect(
      errorsOf({
        pools,
        bgpAdvertisements: [
          bgpAd("a", { localPref: 100 }),
          bgpAd("b", { localPref: 200, aggregationLength: 30, aggregationLengthV6: 124, ipAddressPools: ["v4", "v6"] }),
        ],
      }),
    ).toEqual([]);
    const nodes = [
      { name: "n1", labels: { rack: "1" } },
      { name: "n2", labels: { rack: "2" } },
    ];
    expect(
      errorsOf({
        pools,
        nodes,
        bgpAdvertisements: [
          bgpAd("a", { localPref: 100, nodeSelectors: [{ matchLabels: { rack: "1" } }] }),
          bgpAd("b", { localPref: 200, nodeSelectors: [{ matchLabels: { rack: "2" } }] }),
        ],
      }),
    ).toEqual([]);
  });

  it("invalid standard community section", () => {
    expect(errorsOf({ bgpAdvertisements: [bgpAd("a", { communities: ["65536:1"] })] })).toEqual([
      'BGPAdvertisement "a": spec.communities[0]: invalid community value: invalid section "65536" of community "65536:1": must be a number from 0 to 65535',
    ]);
  });

  it("invalid large community marker", () => {
    expect(errorsOf({ bgpAdvertisements: [bgpAd("a", { communities: ["big:1:2:3"] })] })).toEqual([
      'BGPAdvertisement "a": spec.communities[0]: invalid community value: invalid marker for large community, expected community to be of format large:<uint32>:<uint32>:<uint32> but got "big:1:2:3" instead',
    ]);
  });

  it("unknown community alias is an error at reconcile time", () => {
    expect(errorsOf({ bgpAdvertisements: [bgpAd("a", { communities: ["no-export"] })] })).toEqual([
      'BGPAdvertisement "a": spec.communities[0]: unknown community alias "no-export"; define it in a Community object or write the value as AA:NN or large:A:B:C',
    ]);
  });

  it("unknown community alias is only a warning at admission", () => {
    const parts = { bgpAdvertisements: [bgpAd("a", { communities: ["no-export"] })] };
    expect(errorsOf(parts, { deferReferences: true })).toEqual([]);
    expect(warningsOf(parts, { deferReferences: true })).toHaveLength(1);
  });

  it("an unknown peer is a warning", () => {
    expect(warningsOf({ bgpAdvertisements: [bgpAd("a", { peers: ["later"] })] })).toEqual([
      'BGPAdvertisement "a": spec.peers[0]: BGPPeer "later" does not exist; nothing is sent to it until it is created',
    ]);
  });
});

describe("BGPAdvertisement opt-in to Service communities", () => {
  const annotated = (value: string) => {
    const ad = bgpAd("a");
    return { ...ad, metadata: { ...ad.metadata, annotations: { "metallb.io/service-communities": value } } };
  };

  it('"true" opts in, "false" or no annotation does not', () => {
    expect(configOf({ bgpAdvertisements: [annotated("true")] }).bgpAdvertisements[0].serviceCommunities).toBe(true);
    expect(configOf({ bgpAdvertisements: [annotated("false")] }).bgpAdvertisements[0].serviceCommunities).toBe(false);
    expect(configOf({ bgpAdvertisements: [bgpAd("a")] }).bgpAdvertisements[0].serviceCommunities).toBe(false);
  });

  it('metallb.io/weighted-ecmp: "true" opts in to weighted ECMP; another value is refused', () => {
    const ad = (value: string) => {
      const a = bgpAd("a");
      return { ...a, metadata: { ...a.metadata, annotations: { "metallb.io/weighted-ecmp": value } } };
    };
    expect(configOf({ bgpAdvertisements: [ad("true")] }).bgpAdvertisements[0].weightedEcmp).toBe(true);
    expect(errorsOf({ bgpAdvertisements: [ad("on")] })).toEqual([
      'BGPAdvertisement "a": metadata.annotations["metallb.io/weighted-ecmp"]: invalid value "on"; write "true" to weight routes by the node\'s serving endpoints, or "false"',
    ]);
  });

  it("any other value is refused, naming the annotation", () => {
    expect(errorsOf({ bgpAdvertisements: [annotated("yes")] })).toEqual([
      'BGPAdvertisement "a": metadata.annotations["metallb.io/service-communities"]: invalid value "yes"; write "true" to add the communities Services ask for, or "false"',
    ]);
  });
});

describe("BGPAdvertisement model", () => {
  it("applies defaults and resolves aliases into standard and large communities", () => {
    const c = configOf({
      pools,
      communities: [
        community("c", [
          { name: "no-advertise", value: "65535:65282" },
          { name: "big", value: "large:64512:1:2" },
        ]),
      ],
      bgpAdvertisements: [
        bgpAd("a", { communities: ["no-advertise", "64512:100", "big", "large:1:2:3", "65535:65282"] }),
      ],
    });
    expect(c.bgpAdvertisements[0]).toEqual({
      name: "a",
      pools: ["range", "v4", "v6"],
      aggregationLength: 32,
      aggregationLengthV6: 128,
      localPref: 0,
      communities: [
        { asn: 65535, value: 65282 },
        { asn: 64512, value: 100 },
      ],
      largeCommunities: [
        { global: 64512, local1: 1, local2: 2 },
        { global: 1, local1: 2, local2: 3 },
      ],
      serviceCommunities: false,
      weightedEcmp: false,
      peers: [],
      nodeSelectors: [],
      nodes: undefined,
      serviceSelectors: [],
    });
  });

  it("accepts IPv6 pools in BGP and large communities", () => {
    expect(
      errorsOf({
        pools,
        bgpAdvertisements: [
          bgpAd("a", { ipAddressPools: ["v6"], aggregationLengthV6: 120, communities: ["large:4200000000:1:1"] }),
        ],
      }),
    ).toEqual([]);
  });
});
