import type { HolderService } from "./pool-holders";
import { bfd, bgpAd, community, input, l2, peer, pool } from "./testing";
import { servicesNeeded, validateChange, type ChangedObject } from "./validate-change";

const forced = <T extends ChangedObject>(o: T): T => ({
  ...o,
  metadata: { ...o.metadata, annotations: { "metallb.io/force-delete": "true" } },
});

const lbService = (ns: string, name: string, ...ips: string[]): HolderService => ({
  metadata: { namespace: ns, name },
  spec: { type: "LoadBalancer" },
  status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } },
});

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
    expect(p.warnings).toEqual([expect.stringContaining('referencing non existing bfd profile "fast"')]);
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
});

describe("validateChange: a delete or update that takes away something in use", () => {
  const NO_EXPORT = { name: "no-export", value: "65535:65281" };
  const withAlias = input({
    communities: [community("well-known", [NO_EXPORT, { name: "spare", value: "64500:9" }])],
    bgpAdvertisements: [bgpAd("routes", { communities: ["64500:1", "no-export"] })],
  });

  it("refuses deleting a Community whose alias an advertisement uses, naming it and the way out", () => {
    expect(
      validateChange(withAlias, { kind: "Community", operation: "DELETE", object: withAlias.communities![0] }),
    ).toEqual({
      allowed: false,
      message: [
        'Community "well-known": failed to delete Community "well-known": its alias "no-export" is used in spec.communities of BGPAdvertisement "routes"; write its value "65535:65281" there instead, or define the alias in another Community, first',
        'Community "well-known": to delete it anyway, first run: kubectl annotate communities.metallb.io -n metallb-system well-known metallb.io/force-delete=true',
      ].join("\n"),
      warnings: [],
    });
  });

  it("allows it with the force annotation, and warns what it breaks", () => {
    const verdict = validateChange(withAlias, {
      kind: "Community",
      operation: "DELETE",
      object: forced(withAlias.communities![0]),
    });
    expect(verdict).toEqual({
      allowed: true,
      warnings: [
        'Community "well-known": allowed (metallb.io/force-delete is "true") although its alias "no-export" is used in spec.communities of BGPAdvertisement "routes"',
        'BGPAdvertisement "routes": spec.communities[1]: unknown community alias "no-export"; define it in a Community object or write the value as AA:NN or large:A:B:C',
      ],
    });
  });

  it("refuses an update that renames the alias away; a new value or an unused alias may change", () => {
    const renamed = community("well-known", [{ ...NO_EXPORT, name: "noexport" }]);
    expect(validateChange(withAlias, { kind: "Community", operation: "UPDATE", object: renamed })).toEqual({
      allowed: false,
      message: [
        'Community "well-known": spec.communities: alias "no-export" is removed while spec.communities of BGPAdvertisement "routes" use it; write its value "65535:65281" there instead, or define the alias in another Community, first',
        'Community "well-known": to make this change anyway, first run: kubectl annotate communities.metallb.io -n metallb-system well-known metallb.io/force-delete=true',
      ].join("\n"),
      warnings: [],
    });
    const revalued = community("well-known", [{ ...NO_EXPORT, value: "65535:65282" }]);
    expect(validateChange(withAlias, { kind: "Community", operation: "UPDATE", object: revalued }).allowed).toBe(true);
    expect(validateChange(withAlias, { kind: "Community", operation: "UPDATE", object: forced(renamed) })).toEqual({
      allowed: true,
      warnings: [
        'Community "well-known": spec.communities: allowed (metallb.io/force-delete is "true") although alias "no-export" is removed while spec.communities of BGPAdvertisement "routes" use it',
      ],
    });
  });

  it("refuses deleting a BFD profile in use", () => {
    const cfg = input({
      bgpPeers: [peer("p", { bfdProfile: "fast" }), peer("q", { bfdProfile: "fast", peerAddress: "192.0.2.2" })],
      bfdProfiles: [bfd("fast")],
    });
    const verdict = validateChange(cfg, { kind: "BFDProfile", operation: "DELETE", object: bfd("fast") });
    expect(verdict.allowed).toBe(false);
    expect(verdict.message?.split("\n")[0]).toBe(
      'BFDProfile "fast": failed to delete BFDProfile "fast": it is used by BGPPeer "p", "q" (spec.bfdProfile); remove spec.bfdProfile from those peers first',
    );
    expect(validateChange(cfg, { kind: "BFDProfile", operation: "DELETE", object: forced(bfd("fast")) }).allowed).toBe(
      true,
    );
  });

  it("refuses deleting a pool advertisements name, and says an emptied list means every pool", () => {
    const cfg = input({
      pools: [pool("p", ["10.0.0.0/24"])],
      l2Advertisements: [l2("lan", { ipAddressPools: ["p"] })],
      bgpAdvertisements: [bgpAd("wan", { ipAddressPools: ["p"] }), bgpAd("all")],
    });
    const verdict = validateChange(cfg, { kind: "IPAddressPool", operation: "DELETE", object: cfg.pools![0] });
    expect(verdict.message?.split("\n")[0]).toBe(
      'IPAddressPool "p": failed to delete IPAddressPool "p": it is named in spec.ipAddressPools of L2Advertisement "lan" and BGPAdvertisement "wan"; remove it from those lists or delete those advertisements first (a list left empty, with no ipAddressPoolSelectors, selects every pool)',
    );
    expect(validateChange(cfg, { kind: "IPAddressPool", operation: "DELETE", object: forced(cfg.pools![0]) })).toEqual({
      allowed: true,
      warnings: [
        'IPAddressPool "p": allowed (metallb.io/force-delete is "true") although it is named in spec.ipAddressPools of L2Advertisement "lan" and BGPAdvertisement "wan"',
        'L2Advertisement "lan": spec.ipAddressPools[0]: IPAddressPool "p" does not exist; nothing is announced for it until it is created',
        'BGPAdvertisement "wan": spec.ipAddressPools[0]: IPAddressPool "p" does not exist; nothing is announced for it until it is created',
      ],
    });
  });

  it("refuses deleting a peer an advertisement names; a peer nobody names goes", () => {
    const cfg = input({
      bgpPeers: [peer("r", {}), peer("s", { peerAddress: "192.0.2.2" })],
      bgpAdvertisements: [bgpAd("wan", { peers: ["r"] })],
    });
    const verdict = validateChange(cfg, { kind: "BGPPeer", operation: "DELETE", object: cfg.bgpPeers![0] });
    expect(verdict.message?.split("\n")[0]).toBe(
      'BGPPeer "r": failed to delete BGPPeer "r": it is named in spec.peers of BGPAdvertisement "wan"; remove it from those lists or delete those advertisements first (a list left empty selects every peer)',
    );
    expect(validateChange(cfg, { kind: "BGPPeer", operation: "DELETE", object: cfg.bgpPeers![1] })).toEqual({
      allowed: true,
      warnings: [],
    });
  });

  it("a reference that was already dangling does not hold anything up", () => {
    const cfg = input({
      communities: [community("c", [NO_EXPORT])],
      bgpAdvertisements: [bgpAd("b", { communities: ["x"] })],
    });
    expect(validateChange(cfg, { kind: "Community", operation: "DELETE", object: cfg.communities![0] }).allowed).toBe(
      true,
    );
  });

  it("everything goes while the configuration namespace is being deleted", () => {
    const verdict = validateChange(withAlias, {
      kind: "Community",
      operation: "DELETE",
      object: withAlias.communities![0],
      namespaceDeleting: true,
    });
    expect(verdict.allowed).toBe(true);
    expect(verdict.warnings[0]).toContain("allowed (its namespace is being deleted) although");
  });
});

describe("validateChange: pools under Services", () => {
  const cfg = input({ pools: [pool("p", ["203.0.113.240/28", "2001:db8:6a::/120"])] });
  const services = [
    lbService("shop", "web", "203.0.113.241", "2001:db8:6a::1"),
    lbService("shop", "api", "203.0.113.250"),
    lbService("other", "far", "198.51.100.7"),
  ];
  const del = { kind: "IPAddressPool" as const, operation: "DELETE" as const, object: cfg.pools![0], services };

  it("refuses deleting a pool whose addresses Services hold, listing them", () => {
    expect(validateChange(cfg, del)).toEqual({
      allowed: false,
      message: [
        'IPAddressPool "p": failed to delete IPAddressPool "p": 2 Services hold its addresses: shop/api 203.0.113.250, shop/web 2001:db8:6a::1, shop/web 203.0.113.241; move those Services to another pool (annotation metallb.io/address-pool) first, or delete them',
        'IPAddressPool "p": to delete it anyway, first run: kubectl annotate ipaddresspools.metallb.io -n metallb-system p metallb.io/force-delete=true',
      ].join("\n"),
      warnings: [],
    });
  });

  it("lists at most ten Services, then how many more", () => {
    const many = Array.from({ length: 13 }, (_, i) =>
      lbService("n", `s${String(i).padStart(2, "0")}`, `203.0.113.${240 + i}`),
    );
    const message = validateChange(cfg, { ...del, services: many }).message!;
    expect(message).toContain("13 Services hold its addresses: n/s00 203.0.113.240, ");
    expect(message).toContain("n/s09 203.0.113.249 and 3 more; move those Services");
  });

  it("refuses shrinking a pool under Services, naming only those that lose their address", () => {
    const shrunk = pool("p", ["203.0.113.240/29", "2001:db8:6a::/120"]);
    expect(
      validateChange(cfg, { kind: "IPAddressPool", operation: "UPDATE", object: shrunk, services }).message?.split(
        "\n",
      )[0],
    ).toBe(
      'IPAddressPool "p": spec.addresses: the change takes addresses away from 1 Service: shop/api 203.0.113.250; keep those addresses in spec.addresses, or move those Services to another pool (annotation metallb.io/address-pool) first',
    );
  });

  it("allows growing a pool, a shrink that spares every holder, and a forced delete", () => {
    const grown = pool("p", ["203.0.113.224/27", "2001:db8:6a::/120"]);
    expect(validateChange(cfg, { kind: "IPAddressPool", operation: "UPDATE", object: grown, services }).allowed).toBe(
      true,
    );
    const spared = pool("p", ["203.0.113.240/28"]);
    expect(
      validateChange(cfg, {
        kind: "IPAddressPool",
        operation: "UPDATE",
        object: spared,
        services: [lbService("shop", "api", "203.0.113.250")],
      }),
    ).toEqual({ allowed: true, warnings: [] });
    expect(validateChange(cfg, { ...del, object: forced(cfg.pools![0]) })).toEqual({
      allowed: true,
      warnings: [
        'IPAddressPool "p": allowed (metallb.io/force-delete is "true") although 2 Services hold its addresses: shop/api 203.0.113.250, shop/web 2001:db8:6a::1, shop/web 203.0.113.241',
      ],
    });
  });

  it("asks for the Services only for a pool delete or an edit that may shrink it, unforced", () => {
    expect(servicesNeeded(cfg, del)).toBe(true);
    expect(servicesNeeded(cfg, { ...del, object: forced(cfg.pools![0]) })).toBe(false);
    expect(
      servicesNeeded(cfg, { kind: "IPAddressPool", operation: "UPDATE", object: pool("p", ["203.0.113.240/29"]) }),
    ).toBe(true);
    expect(servicesNeeded(cfg, { kind: "IPAddressPool", operation: "UPDATE", object: forced(cfg.pools![0]) })).toBe(
      false,
    );
    expect(
      servicesNeeded(cfg, { kind: "IPAddressPool", operation: "CREATE", object: pool("q", ["10.0.0.0/24"]) }),
    ).toBe(false);
    expect(servicesNeeded(cfg, { kind: "Community", operation: "DELETE", object: community("c", []) })).toBe(false);
  });
});
