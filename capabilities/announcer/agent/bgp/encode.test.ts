import { encodeAttribute, encodeCapability, encodeMessage, encodePrefix } from "./encode";
import { cidr, fromHex, ip, MARKER } from "./fixtures";
import { AS_TRANS, AttrFlag } from "./messages";

const fourOctet = { fourOctetAS: true };
const twoOctet = { fourOctetAS: false };

describe("byte-exact encoding from the RFC formats", () => {
  it("KEEPALIVE is 16×0xff, length 19, type 4 (RFC 4271 §4.4)", () => {
    expect(encodeMessage({ type: "keepalive" })).toEqual(fromHex(`${MARKER} 0013 04`));
  });

  it("NOTIFICATION carries code, subcode, data (RFC 4271 §4.5)", () => {
    expect(encodeMessage({ type: "notification", code: 6, subcode: 2, data: Buffer.alloc(0) })).toEqual(
      fromHex(`${MARKER} 0015 03 06 02`),
    );
    expect(encodeMessage({ type: "notification", code: 2, subcode: 1, data: fromHex("0004") })).toEqual(
      fromHex(`${MARKER} 0017 03 02 01 0004`),
    );
  });

  it("ROUTE-REFRESH is AFI, reserved, SAFI (RFC 2918 §3)", () => {
    expect(encodeMessage({ type: "route-refresh", afi: 2, safi: 1 })).toEqual(fromHex(`${MARKER} 0017 05 0002 00 01`));
  });

  it("OPEN with AS_TRANS for a 4-octet AS and one capability per parameter (RFC 4271 §4.2, RFC 6793)", () => {
    const bytes = encodeMessage({
      type: "open",
      version: 4,
      myAS: AS_TRANS,
      holdTime: 90,
      bgpId: ip("10.0.0.1"),
      capabilities: [
        { type: "multiprotocol", afi: 1, safi: 1 },
        { type: "route-refresh" },
        { type: "four-octet-as", asn: 4200000000 },
      ],
    });
    const body =
      "04 5ba0 005a 0a000001 14" + // version, AS 23456, hold 90, id, opt len 20
      "02 06 01 04 0001 00 01" + // MP IPv4 unicast
      "02 02 02 00" + // route refresh
      "02 06 41 04 fa56ea00"; // 4-octet AS 4200000000
    expect(bytes).toEqual(fromHex(`${MARKER} 0031 01 ${body}`));
  });

  it("graceful restart capability: R bit + 12-bit time, per-family F bit (RFC 4724 §3)", () => {
    const cap = encodeCapability({
      type: "graceful-restart",
      restartState: true,
      restartTime: 120,
      families: [
        { afi: 1, safi: 1, forwardingState: true },
        { afi: 2, safi: 1, forwardingState: false },
      ],
    });
    expect(cap).toEqual(fromHex("40 0a 8078 0001 01 80 0002 01 00"));
  });

  it("unknown capabilities are written back verbatim", () => {
    expect(encodeCapability({ type: "unknown", code: 70, value: fromHex("") })).toEqual(fromHex("46 00"));
  });

  it("prefixes use the fewest octets (RFC 4271 §4.3)", () => {
    expect(encodePrefix(cidr("10.1.2.0/24"))).toEqual(fromHex("18 0a0102"));
    expect(encodePrefix(cidr("0.0.0.0/0"))).toEqual(fromHex("00"));
    expect(encodePrefix(cidr("192.168.1.1/32"))).toEqual(fromHex("20 c0a80101"));
    expect(encodePrefix(cidr("10.128.0.0/9"))).toEqual(fromHex("09 0a80"));
    expect(encodePrefix(cidr("2001:db8::/32"))).toEqual(fromHex("20 20010db8"));
  });

  it("an UPDATE with ORIGIN, AS_PATH, NEXT_HOP and NLRI", () => {
    const bytes = encodeMessage(
      {
        type: "update",
        withdrawn: [cidr("10.9.0.0/16")],
        attributes: [
          { type: "origin", origin: 0 },
          { type: "as-path", segments: [{ type: "sequence", asns: [65001, 65002] }] },
          { type: "next-hop", nextHop: ip("192.0.2.1") },
        ],
        nlri: [cidr("198.51.100.0/24")],
      },
      twoOctet,
    );
    const body =
      "0003 10 0a09" + // withdrawn
      "0014" + // 20 octets of attributes
      "40 01 01 00" +
      "40 02 06 02 02 fde9 fdea" +
      "40 03 04 c0000201" +
      "18 c63364";
    expect(bytes).toEqual(
      fromHex(`${MARKER} ${(19 + body.replace(/ /g, "").length / 2).toString(16).padStart(4, "0")} 02 ${body}`),
    );
  });

  it("AS_PATH uses 4 octets when both sides negotiated it, AS_TRANS otherwise (RFC 6793 §4.2.2)", () => {
    const attr = { type: "as-path" as const, segments: [{ type: "set" as const, asns: [4200000000, 65001] }] };
    expect(encodeAttribute(attr, fourOctet)).toEqual(fromHex("40 02 0a 01 02 fa56ea00 0000fde9"));
    expect(encodeAttribute(attr, twoOctet)).toEqual(fromHex("40 02 06 01 02 5ba0 fde9"));
  });

  it("MED, LOCAL_PREF, COMMUNITIES, LARGE_COMMUNITY, ATOMIC_AGGREGATE, AGGREGATOR", () => {
    expect(encodeAttribute({ type: "med", med: 100 }, fourOctet)).toEqual(fromHex("80 04 04 00000064"));
    expect(encodeAttribute({ type: "local-pref", localPref: 200 }, fourOctet)).toEqual(fromHex("40 05 04 000000c8"));
    expect(encodeAttribute({ type: "communities", communities: [0xfde80064, 0xffffff01] }, fourOctet)).toEqual(
      fromHex("c0 08 08 fde80064 ffffff01"),
    );
    expect(
      encodeAttribute(
        { type: "large-communities", communities: [{ globalAdmin: 64512, localData1: 1, localData2: 2 }] },
        fourOctet,
      ),
    ).toEqual(fromHex("c0 20 0c 0000fc00 00000001 00000002"));
    expect(encodeAttribute({ type: "atomic-aggregate" }, fourOctet)).toEqual(fromHex("40 06 00"));
    expect(encodeAttribute({ type: "aggregator", asn: 65001, address: ip("10.0.0.1") }, twoOctet)).toEqual(
      fromHex("c0 07 06 fde9 0a000001"),
    );
    expect(encodeAttribute({ type: "aggregator", asn: 65001, address: ip("10.0.0.1") }, fourOctet)).toEqual(
      fromHex("c0 07 08 0000fde9 0a000001"),
    );
  });

  it("MP_REACH_NLRI for IPv6 with global + link-local next hop (RFC 4760 §3, RFC 2545 §3)", () => {
    const bytes = encodeAttribute(
      {
        type: "mp-reach",
        afi: 2,
        safi: 1,
        nextHops: [ip("2001:db8::1"), ip("fe80::1")],
        nlri: [cidr("2001:db8:1::/48")],
      },
      fourOctet,
    );
    expect(bytes).toEqual(
      fromHex(
        "80 0e 2c 0002 01 20 20010db8000000000000000000000001 fe800000000000000000000000000001 00 30 20010db80001",
      ),
    );
  });

  it("MP_UNREACH_NLRI for IPv6 (RFC 4760 §4)", () => {
    expect(
      encodeAttribute({ type: "mp-unreach", afi: 2, safi: 1, withdrawn: [cidr("2001:db8::/32")] }, fourOctet),
    ).toEqual(fromHex("80 0f 08 0002 01 20 20010db8"));
  });

  it("sets Extended Length only when the value exceeds 255 octets (RFC 4271 §4.3)", () => {
    const communities = Array.from({ length: 64 }, (_, i) => i + 1);
    const bytes = encodeAttribute({ type: "communities", communities }, fourOctet);
    expect(bytes.subarray(0, 4)).toEqual(fromHex("d0 08 0100"));
    expect(bytes.length).toBe(4 + 256);
    const short = encodeAttribute({ type: "communities", communities: communities.slice(0, 63) }, fourOctet);
    expect(short.subarray(0, 3)).toEqual(fromHex("c0 08 fc"));
  });

  it("writes unknown attributes with their own flags", () => {
    expect(
      encodeAttribute(
        {
          type: "unknown",
          code: 99,
          flags: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE | AttrFlag.PARTIAL,
          value: fromHex("abcd"),
        },
        fourOctet,
      ),
    ).toEqual(fromHex("e0 63 02 abcd"));
  });

  it("refuses values that cannot be represented", () => {
    expect(() => encodeAttribute({ type: "med", med: -1 }, fourOctet)).toThrow(RangeError);
    expect(() => encodeAttribute({ type: "next-hop", nextHop: ip("2001:db8::1") }, fourOctet)).toThrow(RangeError);
    const nlri = Array.from({ length: 1000 }, (_, i) => cidr(`10.${i >> 8}.${i & 255}.1/32`));
    expect(() => encodeMessage({ type: "update", withdrawn: [], attributes: [], nlri })).toThrow(RangeError);
  });
});
