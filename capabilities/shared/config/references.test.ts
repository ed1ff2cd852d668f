import { brokenReferences, resolvedReferences } from "./references";
import { bfd, bgpAd, community, input, l2, peer, pool } from "./testing";

describe("resolvedReferences", () => {
  const cfg = input({
    pools: [pool("p", ["192.0.2.0/24"])],
    bgpPeers: [peer("r", { bfdProfile: "fast" }), peer("s", { bfdProfile: "missing", peerAddress: "192.0.2.2" })],
    bfdProfiles: [bfd("fast")],
    communities: [community("c", [{ name: "no-export", value: "65535:65281" }])],
    l2Advertisements: [l2("l", { ipAddressPools: ["p", "gone"] })],
    bgpAdvertisements: [bgpAd("b", { ipAddressPools: ["p"], peers: ["r"], communities: ["64500:1", "no-export"] })],
  });

  it("lists every reference that resolves, and only those", () => {
    expect(resolvedReferences(cfg)).toEqual([
      {
        from: { kind: "L2Advertisement", name: "l" },
        field: "spec.ipAddressPools[0]",
        to: { kind: "IPAddressPool", name: "p" },
      },
      {
        from: { kind: "BGPAdvertisement", name: "b" },
        field: "spec.ipAddressPools[0]",
        to: { kind: "IPAddressPool", name: "p" },
      },
      { from: { kind: "BGPAdvertisement", name: "b" }, field: "spec.peers[0]", to: { kind: "BGPPeer", name: "r" } },
      {
        from: { kind: "BGPAdvertisement", name: "b" },
        field: "spec.communities[1]",
        to: { kind: "Community", name: "c" },
        alias: { name: "no-export", value: "65535:65281" },
      },
      { from: { kind: "BGPPeer", name: "r" }, field: "spec.bfdProfile", to: { kind: "BFDProfile", name: "fast" } },
    ]);
  });
});

describe("brokenReferences", () => {
  const ad = bgpAd("b", { communities: ["no-export"] });

  it("an alias defined in another Community as well still resolves", () => {
    const before = input({
      communities: [
        community("a", [{ name: "no-export", value: "65535:65281" }]),
        community("z", [{ name: "no-export", value: "65535:65281" }]),
      ],
      bgpAdvertisements: [ad],
    });
    const after = { ...before, communities: [before.communities![1]] };
    expect(brokenReferences(before, after, { kind: "Community", name: "a" })).toEqual([]);
  });

  it("the changed object's own references are its author's business", () => {
    const before = input({
      communities: [community("c", [{ name: "no-export", value: "1:1" }])],
      bgpAdvertisements: [ad],
    });
    const after = { ...before, bgpAdvertisements: [] };
    expect(brokenReferences(before, after, { kind: "BGPAdvertisement", name: "b" })).toEqual([]);
  });
});
