import { planUpdates, type Route } from "./adj-rib-out";
import { decodeMessage } from "./decode";
import { encodeMessage } from "./encode";
import { cidr, ip } from "./fixtures";
import { IPV4_UNICAST, IPV6_UNICAST, type UpdateMessage } from "./messages";

const opts = { fourOctetAS: true, families: [IPV4_UNICAST, IPV6_UNICAST] };
const attrs = { asPath: [{ type: "sequence" as const, asns: [64512] }], communities: [0xfde80001] };
const v4 = (p: string, over: Partial<Route> = {}): Route => ({
  prefix: cidr(p),
  nextHop: ip("192.0.2.10"),
  attributes: attrs,
  ...over,
});
const v6 = (p: string): Route => ({
  prefix: cidr(p),
  nextHop: ip("2001:db8::10"),
  linkLocalNextHop: ip("fe80::10"),
  attributes: attrs,
});

const nlriOf = (u: UpdateMessage) => [...u.nlri, ...u.attributes.flatMap((a) => (a.type === "mp-reach" ? a.nlri : []))];
const withdrawnOf = (u: UpdateMessage) => [
  ...u.withdrawn,
  ...u.attributes.flatMap((a) => (a.type === "mp-unreach" ? a.withdrawn : [])),
];

describe("planUpdates", () => {
  it("groups routes with identical attributes into one UPDATE", () => {
    const plan = planUpdates(
      new Map(),
      [v4("10.0.0.1/32"), v4("10.0.0.2/32"), v4("10.0.0.3/32", { attributes: { ...attrs, med: 5 } })],
      opts,
    );
    expect(plan.updates).toHaveLength(2);
    expect(plan.updates.map((u) => u.nlri.length).sort()).toEqual([1, 2]);
    const first = plan.updates.find((u) => u.nlri.length === 2)!;
    expect(first.attributes.map((a) => a.type)).toEqual(["origin", "as-path", "next-hop", "communities"]);
    expect(plan.sent.size).toBe(3);
  });

  it("sends nothing when the peer already has everything", () => {
    const first = planUpdates(new Map(), [v4("10.0.0.1/32"), v6("2001:db8::1/128")], opts);
    expect(planUpdates(first.sent, [v4("10.0.0.1/32"), v6("2001:db8::1/128")], opts).updates).toEqual([]);
  });

  it("community order and duplicates do not count as a change", () => {
    const a = v4("10.0.0.1/32", { attributes: { ...attrs, communities: [2, 1] } });
    const b = v4("10.0.0.1/32", { attributes: { ...attrs, communities: [1, 2, 2] } });
    expect(planUpdates(planUpdates(new Map(), [a], opts).sent, [b], opts).updates).toEqual([]);
  });

  it("withdraws removed prefixes and re-announces changed ones (implicit withdraw)", () => {
    const sent = planUpdates(new Map(), [v4("10.0.0.1/32"), v4("10.0.0.2/32"), v6("2001:db8::1/128")], opts).sent;
    const plan = planUpdates(sent, [v4("10.0.0.2/32", { attributes: { ...attrs, localPref: 200 } })], opts);
    expect(plan.updates).toHaveLength(3);
    expect(plan.updates[0]).toEqual({ type: "update", withdrawn: [cidr("10.0.0.1/32")], attributes: [], nlri: [] });
    expect(plan.updates[1]).toEqual({
      type: "update",
      withdrawn: [],
      attributes: [{ type: "mp-unreach", afi: 2, safi: 1, withdrawn: [cidr("2001:db8::1/128")] }],
      nlri: [],
    });
    expect(plan.updates[2]!.nlri).toEqual([cidr("10.0.0.2/32")]);
    expect([...plan.sent.keys()]).toEqual(["10.0.0.2/32"]);
  });

  it("IPv6 goes in MP_REACH_NLRI first, with global and link-local next hops", () => {
    const [u] = planUpdates(new Map(), [v6("2001:db8::1/128")], opts).updates;
    expect(u!.attributes[0]).toEqual({
      type: "mp-reach",
      afi: 2,
      safi: 1,
      nextHops: [ip("2001:db8::10"), ip("fe80::10")],
      nlri: [cidr("2001:db8::1/128")],
    });
    expect(u!.nlri).toEqual([]);
  });

  it("skips families that were not negotiated and bad next hops", () => {
    const plan = planUpdates(new Map(), [v6("2001:db8::1/128"), v4("10.0.0.1/32", { nextHop: ip("2001:db8::1") })], {
      ...opts,
      families: [IPV4_UNICAST],
    });
    expect(plan.updates).toEqual([]);
    expect(plan.rejected.map((r) => r.reason)).toEqual([
      "IPv6 unicast was not negotiated",
      "an IPv6 next hop for IPv4 routes was not negotiated (extended next hop, RFC 8950)",
    ]);
    const v6OverV4 = planUpdates(new Map(), [{ ...v6("2001:db8::1/128"), nextHop: ip("192.0.2.10") }], opts);
    expect(v6OverV4.rejected.map((r) => r.reason)).toEqual(["next hop family differs from the prefix family"]);
  });

  it.each([
    ["IPv4", 4, (i: number) => v4(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`)],
    ["IPv6", 6, (i: number) => v6(`2001:db8::${i.toString(16)}/128`)],
  ])("packs 10,000 %s prefixes into few full UPDATEs of at most 4096 octets", (_n, family, make) => {
    const routes = Array.from({ length: 10000 }, (_, i) => make(i + 1));
    const plan = planUpdates(new Map(), routes, opts);
    const sizes = plan.updates.map((u) => encodeMessage(u, opts).length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4096);
    const perPrefix = family === 4 ? 5 : 17;
    // Every message but the last is full to within one prefix (and the MP header slack).
    for (const s of sizes.slice(0, -1)) expect(s).toBeGreaterThan(4096 - perPrefix - 1);
    const seen = plan.updates.flatMap(nlriOf);
    expect(seen).toHaveLength(10000);
    expect(plan.updates.length).toBe(
      Math.ceil(10000 / Math.floor((4096 - (sizes[0]! - perPrefix * nlriOf(plan.updates[0]!).length)) / perPrefix)),
    );
    // Every message decodes back.
    for (const u of plan.updates) expect(decodeMessage(encodeMessage(u, opts), opts).ok).toBe(true);

    const wd = planUpdates(plan.sent, [], opts);
    expect(wd.updates.flatMap(withdrawnOf)).toHaveLength(10000);
    for (const u of wd.updates) expect(encodeMessage(u, opts).length).toBeLessThanOrEqual(4096);
    expect(wd.sent.size).toBe(0);
  });

  it("rejects routes whose attributes leave no room, keeping what the peer had", () => {
    const huge = { asPath: attrs.asPath, communities: Array.from({ length: 1100 }, (_, i) => i) };
    const plan = planUpdates(new Map(), [v4("10.0.0.1/32", { attributes: huge })], opts);
    expect(plan.updates).toEqual([]);
    expect(plan.rejected).toHaveLength(1);
    expect(plan.sent.size).toBe(0);
  });

  describe("IPv4 routes with an IPv6 next hop (BGP unnumbered, RFC 8950)", () => {
    const unnumbered = (p: string): Route => ({
      prefix: cidr(p),
      nextHop: ip("fe80::10"),
      attributes: attrs,
    });
    const extended = { ...opts, extendedNextHop: [IPV4_UNICAST] };

    it("go in MP_REACH_NLRI with AFI 1 and the IPv6 next hops, and decode as such", () => {
      const withGlobal: Route = {
        ...unnumbered("198.51.100.1/32"),
        nextHop: ip("2001:db8::10"),
        linkLocalNextHop: ip("fe80::10"),
      };
      const plan = planUpdates(
        new Map(),
        [unnumbered("198.51.100.2/32"), unnumbered("198.51.100.3/32"), withGlobal],
        extended,
      );
      expect(plan.rejected).toEqual([]);
      expect(plan.updates).toHaveLength(2);
      for (const u of plan.updates) {
        expect(u.nlri).toEqual([]);
        expect(u.attributes.some((a) => a.type === "next-hop")).toBe(false);
        const decoded = decodeMessage(encodeMessage(u, opts), opts);
        expect(decoded.ok && decoded.message.type === "update" && decoded.message.attributes[0]!.type).toBe("mp-reach");
      }
      const reach = plan.updates.flatMap((u) => u.attributes.filter((a) => a.type === "mp-reach"));
      expect(reach).toEqual(
        expect.arrayContaining([
          {
            type: "mp-reach",
            afi: 1,
            safi: 1,
            nextHops: [ip("fe80::10")],
            nlri: [cidr("198.51.100.2/32"), cidr("198.51.100.3/32")],
          },
          {
            type: "mp-reach",
            afi: 1,
            safi: 1,
            nextHops: [ip("2001:db8::10"), ip("fe80::10")],
            nlri: [cidr("198.51.100.1/32")],
          },
        ]),
      );
    });

    it("are refused, with the reason, unless the peer negotiated it", () => {
      const plan = planUpdates(new Map(), [unnumbered("198.51.100.2/32")], opts);
      expect(plan.updates).toEqual([]);
      expect(plan.rejected).toEqual([
        { prefix: cidr("198.51.100.2/32"), reason: expect.stringMatching(/extended next hop, RFC 8950/) },
      ]);
    });

    it("are withdrawn in the classic Withdrawn Routes field", () => {
      const sent = planUpdates(new Map(), [unnumbered("198.51.100.2/32")], extended).sent;
      expect(planUpdates(sent, [], extended).updates).toEqual([
        { type: "update", withdrawn: [cidr("198.51.100.2/32")], attributes: [], nlri: [] },
      ]);
    });
  });
});
