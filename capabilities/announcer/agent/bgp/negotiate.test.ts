import { ip } from "./fixtures";
import { AS_TRANS, IPV4_OVER_IPV6, IPV4_UNICAST, IPV6_UNICAST } from "./messages";
import { buildOpen, keepaliveFor, negotiate } from "./negotiate";

const cfg = {
  localAS: 64512,
  routerId: ip("10.0.0.1"),
  holdTime: 90,
  families: [IPV4_UNICAST, IPV6_UNICAST],
  routeRefresh: true,
};

describe("buildOpen", () => {
  it("advertises MP for each family, route refresh and the 4-octet AS", () => {
    expect(buildOpen(cfg, false)).toEqual({
      type: "open",
      version: 4,
      myAS: 64512,
      holdTime: 90,
      bgpId: ip("10.0.0.1"),
      capabilities: [
        { type: "multiprotocol", afi: 1, safi: 1 },
        { type: "multiprotocol", afi: 2, safi: 1 },
        { type: "route-refresh" },
        { type: "four-octet-as", asn: 64512 },
      ],
    });
  });

  it("uses AS_TRANS when the AS needs 4 octets (RFC 6793 §4.1)", () => {
    expect(buildOpen({ ...cfg, localAS: 65536 }, false).myAS).toBe(AS_TRANS);
    expect(buildOpen({ ...cfg, localAS: 65535 }, false).myAS).toBe(65535);
  });
});

describe("negotiate", () => {
  const ours = buildOpen({ ...cfg, gracefulRestart: { restartTime: 120, forwardingState: true } }, false);

  it("intersects families, requires both sides for 4-octet AS, route refresh and GR", () => {
    const n = negotiate(ours, {
      ...ours,
      holdTime: 30,
      bgpId: ip("10.0.0.2"),
      capabilities: [{ type: "multiprotocol", afi: 2, safi: 1 }],
    });
    expect(n).toEqual({
      peerAS: 64512,
      peerRouterId: ip("10.0.0.2"),
      holdTime: 30,
      keepaliveTime: 10,
      fourOctetAS: false,
      families: [IPV6_UNICAST],
      routeRefresh: false,
      extendedNextHop: [],
      gracefulRestart: false,
    });
  });

  describe("extended next hop (RFC 8950 §4)", () => {
    const unnumbered = buildOpen({ ...cfg, extendedNextHop: [IPV4_OVER_IPV6] }, false);
    const peer = (entries: { afi: number; safi: number; nextHopAfi: number }[]) => ({
      ...unnumbered,
      capabilities: [
        ...unnumbered.capabilities.filter((c) => c.type !== "extended-next-hop"),
        ...(entries.length ? [{ type: "extended-next-hop" as const, entries }] : []),
      ],
    });

    it("is offered only when configured", () => {
      expect(ours.capabilities.some((c) => c.type === "extended-next-hop")).toBe(false);
      expect(unnumbered.capabilities).toContainEqual({
        type: "extended-next-hop",
        entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }],
      });
    });

    it("IPv4 with IPv6 next hops needs the triple in both OPENs", () => {
      expect(negotiate(unnumbered, peer([{ afi: 1, safi: 1, nextHopAfi: 2 }])).extendedNextHop).toEqual([IPV4_UNICAST]);
      expect(negotiate(unnumbered, peer([])).extendedNextHop).toEqual([]);
      // Another SAFI or next-hop AFI is not the same promise.
      expect(negotiate(unnumbered, peer([{ afi: 1, safi: 128, nextHopAfi: 2 }])).extendedNextHop).toEqual([]);
      expect(negotiate(unnumbered, peer([{ afi: 1, safi: 1, nextHopAfi: 1 }])).extendedNextHop).toEqual([]);
      // The peer offering it is not enough when we did not.
      expect(negotiate(ours, peer([{ afi: 1, safi: 1, nextHopAfi: 2 }])).extendedNextHop).toEqual([]);
    });
  });

  it("a configured keepalive is used, but never more than a third of the negotiated hold time (RFC 4271 §4.4)", () => {
    expect(negotiate(ours, { ...ours, holdTime: 90 }, 5).keepaliveTime).toBe(5);
    // The peer proposed 9 s: our 5 s would let its hold timer run out between two KEEPALIVEs.
    expect(negotiate(ours, { ...ours, holdTime: 9 }, 5).keepaliveTime).toBe(3);
    expect(negotiate(ours, { ...ours, holdTime: 0 }, 5).keepaliveTime).toBe(0);
  });

  it.each([
    [90, undefined, 30],
    [90, 10, 10],
    [10, undefined, 3],
    [10, 60, 3],
    [0, 10, 0],
  ])("keepaliveFor(hold %p, configured %p) = %p", (hold, configured, expected) => {
    expect(keepaliveFor(hold, configured)).toBe(expected);
  });

  it("hold 0 gives keepalive 0", () => {
    expect(negotiate(ours, { ...ours, holdTime: 0 })).toMatchObject({
      holdTime: 0,
      keepaliveTime: 0,
      gracefulRestart: true,
    });
  });
});
