import type { Pool as AllocatorPool } from "../allocator/types";
import { formatCIDR, formatIP } from "../net/ip";
import { parseConfig } from "./parse";
import { bfd, bgpAd, community, configOf, input, l2, peer, pool } from "./testing";
import type { ConfigInput } from "./types";

describe("parseConfig on a whole valid configuration", () => {
  const c = configOf({
    pools: [
      pool("prod", ["192.0.2.0/26", "2001:db8::10-2001:db8::1f"], {
        serviceAllocation: { priority: 1, namespaces: ["shop"] },
      }),
      pool("lab", ["198.51.100.8-198.51.100.11"], { autoAssign: false }),
    ],
    l2Advertisements: [l2("lab-l2", { ipAddressPools: ["lab"], interfaces: ["eth1"] })],
    bgpAdvertisements: [
      bgpAd("prod-bgp", { ipAddressPools: ["prod"], localPref: 150, communities: ["no-export"], peers: ["tor"] }),
    ],
    bgpPeers: [peer("tor", { holdTime: "9s", password: "s3cret", bfdProfile: "fast" })],
    bfdProfiles: [bfd("fast", { receiveInterval: 100 })],
    communities: [community("well-known", [{ name: "no-export", value: "65535:65281" }])],
  });

  it("produces the typed model", () => {
    expect(c.pools.map((p) => [p.name, p.cidrs.map(formatCIDR), p.autoAssign])).toEqual([
      ["lab", ["198.51.100.8/30"], false],
      ["prod", ["192.0.2.0/26", "2001:db8::10/124"], true],
    ]);
    expect([...c.pools[1].serviceAllocation!.namespaces]).toEqual(["shop"]);
    expect(c.l2Advertisements[0]).toMatchObject({ name: "lab-l2", pools: ["lab"], interfaces: ["eth1"] });
    expect(c.bgpAdvertisements[0]).toMatchObject({
      pools: ["prod"],
      localPref: 150,
      communities: [{ asn: 65535, value: 65281 }],
      peers: ["tor"],
    });
    const tor = c.peers[0];
    expect([
      formatIP(tor.address!),
      tor.holdTimeSeconds,
      tor.keepaliveTimeSeconds,
      tor.password,
      tor.bfdProfile,
    ]).toEqual(["192.0.2.1", 9, 3, "s3cret", "fast"]);
    expect(c.bfdProfiles[0].receiveInterval).toBe(100);
  });

  it("pools are what the allocation engine takes", () => {
    const pools: readonly AllocatorPool[] = c.pools;
    expect(pools).toHaveLength(2);
  });

  it("an empty configuration is valid", () => {
    expect(parseConfig(input({}))).toEqual({
      ok: true,
      config: { pools: [], l2Advertisements: [], bgpAdvertisements: [], peers: [], bfdProfiles: [], communities: [] },
      warnings: [],
    });
  });
});

describe("parseConfig never throws", () => {
  const junk: unknown[] = [undefined, null, 7, "x", [], {}, { a: 1 }, [null], [7]];
  const shapes = (field: string) => junk.map((v) => ({ metadata: { name: "o" }, spec: { [field]: v } }));

  it.each([
    ["pools", ["addresses", "autoAssign", "serviceAllocation"]],
    [
      "l2Advertisements",
      ["ipAddressPools", "ipAddressPoolSelectors", "nodeSelectors", "interfaces", "preferredNodeSelectors"],
    ],
    ["bgpAdvertisements", ["aggregationLength", "communities", "peers", "localPref", "serviceSelectors"]],
    ["bgpPeers", ["myASN", "peerAddress", "holdTime", "nodeSelectors", "passwordSecret", "bfdProfile", "routerID"]],
    ["bfdProfiles", ["receiveInterval", "echoMode"]],
    ["communities", ["communities"]],
  ])("%s with malformed fields", (list, fields) => {
    for (const field of fields) {
      for (const obj of shapes(field)) {
        const parts = { [list]: [obj, { metadata: {} }, null] } as unknown as Partial<ConfigInput>;
        expect(() => parseConfig(input(parts))).not.toThrow();
      }
    }
  });
});

describe("field types", () => {
  it("a field of the wrong JSON type is reported and ignored", () => {
    const r = parseConfig(
      input({ pools: [{ metadata: { name: "p" }, spec: { addresses: "192.0.2.0/24" as unknown as string[] } }] }),
    );
    expect(r.ok ? [] : r.errors.map((e) => e.message)).toEqual([
      'IPAddressPool "p": spec.addresses: invalid value "192.0.2.0/24": must be a list of strings',
      'IPAddressPool "p": spec.addresses: pool has no prefixes defined; write a CIDR such as "192.0.2.0/24" or a range such as "192.0.2.10-192.0.2.20"',
    ]);
  });
});
