import { bfd, bgpAd, input, peer, pool } from "./testing";
import { validateChange } from "./validate-change";

describe("validateChange", () => {
  const existing = input({ pools: [pool("pool-a", ["192.0.2.0/24"])] });

  it("refuses a pool that overlaps an existing one", () => {
    expect(
      validateChange(existing, {
        kind: "IPAddressPool",
        operation: "CREATE",
        object: pool("pool-b", ["192.0.2.0/25"]),
      }),
    ).toEqual({
      allowed: false,
      message:
        'IPAddressPool "pool-b": spec.addresses[0] "192.0.2.0/25" overlaps with "192.0.2.0/24" in IPAddressPool "pool-a"; pools must not share addresses',
      warnings: [],
    });
  });

  it("an update replaces the object of the same name", () => {
    expect(
      validateChange(existing, { kind: "IPAddressPool", operation: "UPDATE", object: pool("pool-a", ["192.0.2.0/25"]) })
        .allowed,
    ).toBe(true);
  });

  it("refuses an object outside the configuration namespace on create", () => {
    const object = { metadata: { name: "p", namespace: "default" }, spec: { addresses: ["10.0.0.0/24"] } };
    expect(validateChange(existing, { kind: "IPAddressPool", operation: "CREATE", object })).toEqual({
      allowed: false,
      message:
        'IPAddressPool "p": metadata.namespace: resource must be created in metallb-system namespace, not "default"; move it to the "metallb-system" namespace',
      warnings: [],
    });
  });

  it("refuses a pool change that breaks an existing advertisement's aggregation", () => {
    const withAd = input({
      pools: [pool("p", ["10.0.0.0/24"])],
      bgpAdvertisements: [bgpAd("ad", { aggregationLength: 24 })],
    });
    const verdict = validateChange(withAd, {
      kind: "IPAddressPool",
      operation: "UPDATE",
      object: pool("p", ["10.0.0.0/26"]),
    });
    expect(verdict.allowed).toBe(false);
    expect(verdict.message).toContain('BGPAdvertisement "ad": spec.aggregationLength: invalid aggregation length 24');
  });

  it("an already broken object does not block unrelated edits: it is a warning", () => {
    const broken = input({ pools: [pool("a", ["10.0.0.0/24"]), pool("b", ["10.0.0.0/25"])] });
    expect(
      validateChange(broken, { kind: "IPAddressPool", operation: "CREATE", object: pool("c", ["10.1.0.0/24"]) }),
    ).toEqual({
      allowed: true,
      warnings: [
        'existing configuration is invalid (unrelated to this change): IPAddressPool "b": spec.addresses[0] "10.0.0.0/25" overlaps with "10.0.0.0/24" in IPAddressPool "a"; pools must not share addresses',
      ],
    });
  });

  it("references that may arrive later are warnings: community alias, BFD profile, password secret", () => {
    const ad = validateChange(existing, {
      kind: "BGPAdvertisement",
      operation: "CREATE",
      object: bgpAd("ad", { communities: ["later"] }),
    });
    expect(ad.allowed).toBe(true);
    expect(ad.warnings).toEqual([
      'BGPAdvertisement "ad": spec.communities[0]: unknown community alias "later"; define it in a Community object or write the value as AA:NN or large:A:B:C',
    ]);
    const p = validateChange(existing, {
      kind: "BGPPeer",
      operation: "CREATE",
      object: peer("p", { bfdProfile: "fast" }),
    });
    expect(p.allowed).toBe(true);
    expect(p.warnings).toHaveLength(2);
    const s = validateChange(
      { ...existing, secrets: [] },
      { kind: "BGPPeer", operation: "CREATE", object: peer("p", { passwordSecret: { name: "s" } }) },
    );
    expect(s).toEqual({ allowed: true, warnings: [expect.stringContaining('secret "metallb-system"/"s" not found')] });
  });

  it("disableMP does not skip the other checks", () => {
    expect(
      validateChange(existing, {
        kind: "BGPPeer",
        operation: "CREATE",
        object: peer("p", { disableMP: true, myASN: 0 }),
      }),
    ).toEqual({
      allowed: false,
      message: 'BGPPeer "p": spec.myASN: missing local ASN; set spec.myASN to the AS number of the cluster nodes',
      warnings: ['BGPPeer "p": spec.disableMP: disableMP is deprecated and has no effect'],
    });
  });

  it("refuses deleting a BFD profile in use", () => {
    const cfg = input({ bgpPeers: [peer("p", { bfdProfile: "fast" })], bfdProfiles: [bfd("fast")] });
    expect(validateChange(cfg, { kind: "BFDProfile", operation: "DELETE", object: bfd("fast") })).toEqual({
      allowed: false,
      message:
        'BFDProfile "fast": failed to delete BFDProfile "fast", used by BGPPeer "p"; remove spec.bfdProfile from that peer first',
      warnings: [],
    });
  });

  it("allows other deletes and warns about what they leave dangling", () => {
    const cfg = input({
      pools: [pool("p", ["10.0.0.0/24"])],
      bgpAdvertisements: [bgpAd("ad", { ipAddressPools: ["p"] })],
    });
    expect(
      validateChange(cfg, { kind: "IPAddressPool", operation: "DELETE", object: pool("p", ["10.0.0.0/24"]) }),
    ).toEqual({
      allowed: true,
      warnings: [
        'BGPAdvertisement "ad": spec.ipAddressPools[0]: IPAddressPool "p" does not exist; nothing is announced for it until it is created',
      ],
    });
  });
});
