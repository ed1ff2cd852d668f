import { decodeMessage, decodePrefixes } from "./decode";
import { encodeCapability, encodeMessage } from "./encode";
import { cidr, frame, fromHex, ip, MARKER } from "./fixtures";
import { AttrFlag, type Message, type PathAttribute } from "./messages";

const four = { fourOctetAS: true };
const two = { fourOctetAS: false };

function roundTrip(msg: Message, opts = four): Message {
  const decoded = decodeMessage(encodeMessage(msg, opts), opts);
  if (!decoded.ok) throw new Error(decoded.error.reason);
  return decoded.message;
}

const errorOf = (bytes: Buffer, opts = four) => {
  const r = decodeMessage(bytes, opts);
  if (r.ok) throw new Error("expected an error");
  return r.error;
};

/** Decoded attributes carry wire flags; compare without them. */
const stripFlags = (attrs: readonly PathAttribute[]) => attrs.map(({ flags: _f, ...rest }) => rest);

describe("round trips", () => {
  it("KEEPALIVE, NOTIFICATION, ROUTE-REFRESH", () => {
    expect(roundTrip({ type: "keepalive" })).toEqual({ type: "keepalive" });
    expect(roundTrip({ type: "notification", code: 3, subcode: 11, data: fromHex("0102") })).toEqual({
      type: "notification",
      code: 3,
      subcode: 11,
      data: fromHex("0102"),
    });
    expect(roundTrip({ type: "route-refresh", afi: 2, safi: 1, subtype: 0 })).toEqual({
      type: "route-refresh",
      afi: 2,
      safi: 1,
      subtype: 0,
    });
  });

  it("OPEN with every capability, unknown ones kept raw", () => {
    const open: Message = {
      type: "open",
      version: 4,
      myAS: 23456,
      holdTime: 180,
      bgpId: ip("192.0.2.7"),
      capabilities: [
        { type: "multiprotocol", afi: 1, safi: 1 },
        { type: "multiprotocol", afi: 2, safi: 1 },
        { type: "route-refresh" },
        { type: "four-octet-as", asn: 4200000001 },
        {
          type: "graceful-restart",
          restartState: true,
          restartTime: 300,
          families: [
            { afi: 1, safi: 1, forwardingState: true },
            { afi: 2, safi: 1, forwardingState: false },
          ],
        },
        { type: "extended-next-hop", entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] },
        { type: "unknown", code: 70, value: Buffer.alloc(0) },
        { type: "unknown", code: 73, value: fromHex("0568656c6c6f") },
      ],
    };
    expect(roundTrip(open)).toEqual(open);
  });

  it("the extended next hop capability on the wire: code 5, 6-octet triples with a 2-octet SAFI (RFC 8950 §4)", () => {
    const cap = {
      type: "extended-next-hop" as const,
      entries: [
        { afi: 1, safi: 1, nextHopAfi: 2 },
        { afi: 1, safi: 128, nextHopAfi: 2 },
      ],
    };
    expect(encodeCapability(cap).toString("hex")).toBe("050c" + "000100010002" + "000100800002");
    const open = (capHex: string): Buffer => {
      const param = "02" + (capHex.length / 2).toString(16).padStart(2, "0") + capHex;
      return frame(1, "04" + "fde8" + "005a" + "c0000201" + (param.length / 2).toString(16).padStart(2, "0") + param);
    };
    const good = decodeMessage(open("0506000100010002"), four);
    expect(good.ok && good.message.type === "open" && good.message.capabilities).toEqual([
      { type: "extended-next-hop", entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] },
    ]);
    const bad = decodeMessage(open("05050001000100"), four);
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error.reason).toMatch(/extended next hop capability has length 5/);
  });

  it("MP_REACH_NLRI for IPv4 with an IPv6 next hop of 16 or 32 octets (RFC 8950 §3)", () => {
    for (const nextHops of [[ip("fe80::1")], [ip("2001:db8::1"), ip("fe80::1")]]) {
      const update: Message = {
        type: "update",
        withdrawn: [],
        attributes: [
          { type: "mp-reach", afi: 1, safi: 1, nextHops, nlri: [cidr("198.51.100.7/32")] },
          { type: "origin", origin: 0 },
          { type: "as-path", segments: [{ type: "sequence", asns: [64512] }] },
        ],
        nlri: [],
      };
      const got = roundTrip(update);
      expect(got.type === "update" && got.attributes[0]).toMatchObject({ type: "mp-reach", afi: 1, nextHops });
    }
  });

  it("OPEN with several capabilities in one parameter (RFC 5492 §4 allows both layouts)", () => {
    const body = "04 fde8 005a c0000201 0c 02 0a 01 04 0001 00 01 02 00 41 00";
    const r = errorOf(frame(1, body));
    expect(r.code).toBe(2); // the 4-octet AS capability has length 0: malformed
    const ok = decodeMessage(frame(1, "04 fde8 005a c0000201 0a 02 08 01 04 0001 00 01 02 00"), four);
    expect(ok.ok && ok.message.type === "open" && ok.message.capabilities).toEqual([
      { type: "multiprotocol", afi: 1, safi: 1 },
      { type: "route-refresh" },
    ]);
  });

  it("UPDATE with every attribute, 4-octet and 2-octet AS", () => {
    const attributes: PathAttribute[] = [
      { type: "origin", origin: 2 },
      {
        type: "as-path",
        segments: [
          { type: "sequence", asns: [65001, 65002] },
          { type: "set", asns: [65010, 65011] },
        ],
      },
      { type: "next-hop", nextHop: ip("192.0.2.1") },
      { type: "med", med: 0xffffffff },
      { type: "local-pref", localPref: 100 },
      { type: "atomic-aggregate" },
      { type: "aggregator", asn: 65001, address: ip("192.0.2.9") },
      { type: "communities", communities: [0xfde90001, 0xffffff02] },
      { type: "large-communities", communities: [{ globalAdmin: 4200000000, localData1: 7, localData2: 8 }] },
      { type: "as4-path", segments: [{ type: "sequence", asns: [4200000000] }] },
      { type: "as4-aggregator", asn: 4200000000, address: ip("192.0.2.9") },
      {
        type: "unknown",
        code: 99,
        flags: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE | AttrFlag.PARTIAL,
        value: fromHex("beef"),
      },
    ];
    for (const opts of [four, two]) {
      const msg: Message = {
        type: "update",
        withdrawn: [cidr("10.0.0.0/8"), cidr("0.0.0.0/0")],
        attributes,
        nlri: [cidr("203.0.113.5/32"), cidr("198.51.100.0/22")],
      };
      const back = roundTrip(msg, opts);
      if (back.type !== "update") throw new Error();
      expect(back.withdrawn).toEqual(msg.withdrawn);
      expect(back.nlri).toEqual(msg.nlri);
      expect(stripFlags(back.attributes)).toEqual(stripFlags(attributes));
      expect(back.attributes[11]!.flags).toBe(0xe0); // Partial kept
      expect(back.attributeListProblem).toBeUndefined();
    }
  });

  it("IPv6 MP_REACH with a 32-octet next hop and MP_UNREACH", () => {
    const attributes: PathAttribute[] = [
      {
        type: "mp-reach",
        afi: 2,
        safi: 1,
        nextHops: [ip("2001:db8::1"), ip("fe80::abcd")],
        nlri: [cidr("2001:db8:100::/40"), cidr("2001:db8::5/128")],
      },
      { type: "mp-unreach", afi: 2, safi: 1, withdrawn: [cidr("2001:db8:200::/48")] },
      { type: "origin", origin: 0 },
      { type: "as-path", segments: [] },
    ];
    const back = roundTrip({ type: "update", withdrawn: [], attributes, nlri: [] });
    expect(back.type === "update" && stripFlags(back.attributes)).toEqual(attributes);
  });

  it("MP_REACH for IPv4 unicast and a 16-octet IPv6 next hop", () => {
    const attributes: PathAttribute[] = [
      { type: "mp-reach", afi: 1, safi: 1, nextHops: [ip("192.0.2.1")], nlri: [cidr("10.0.0.0/24")] },
      { type: "mp-reach", afi: 2, safi: 1, nextHops: [ip("2001:db8::1")], nlri: [] },
    ];
    const back = roundTrip({ type: "update", withdrawn: [], attributes, nlri: [] });
    expect(back.type === "update" && stripFlags(back.attributes)).toEqual(attributes);
  });

  it("an attribute longer than 255 octets uses Extended Length and decodes back", () => {
    const communities = Array.from({ length: 300 }, (_, i) => 0xfde80000 + i);
    const back = roundTrip({
      type: "update",
      withdrawn: [],
      attributes: [{ type: "communities", communities }],
      nlri: [],
    });
    expect(back.type === "update" && back.attributes[0]).toEqual({ type: "communities", flags: 0xd0, communities });
  });

  it("MP attributes for families we do not parse are kept raw", () => {
    const raw = fromHex("0001 80 0c 000000000000000000000000 00"); // VPNv4-ish, no NLRI
    const bytes = frame(2, `0000 0014 80 0e 11 ${raw.toString("hex")}`);
    const r = decodeMessage(bytes, four);
    expect(r.ok && r.message.type === "update" && r.message.attributes[0]).toEqual({
      type: "unknown",
      code: 14,
      flags: 0x80,
      value: raw,
    });
  });
});

describe("structural decode errors (RFC 4271 §6.1, §6.2, §6.3)", () => {
  it("bad marker → 1/1 Connection Not Synchronized", () => {
    const bytes = encodeMessage({ type: "keepalive" });
    bytes[3] = 0;
    expect(errorOf(bytes)).toMatchObject({ code: 1, subcode: 1 });
  });

  it("length outside 19..4096 or different from the frame → 1/2 Bad Message Length with the length as data", () => {
    expect(errorOf(fromHex(`${MARKER} 0012 04`))).toMatchObject({ code: 1, subcode: 2, data: fromHex("0012") });
    const big = Buffer.concat([fromHex(`${MARKER} 1001 02`), Buffer.alloc(4097 - 19)]);
    expect(errorOf(big)).toMatchObject({ code: 1, subcode: 2, data: fromHex("1001") });
    expect(errorOf(fromHex(`${MARKER} 0014 04 00`).subarray(0, 19))).toMatchObject({ code: 1, subcode: 2 });
  });

  it("length wrong for the type → 1/2 (KEEPALIVE with a body, short OPEN, ROUTE-REFRESH not 23)", () => {
    expect(errorOf(frame(4, "00"))).toMatchObject({ code: 1, subcode: 2, data: fromHex("0014") });
    expect(errorOf(frame(1, "04 fde8 005a c0000201"))).toMatchObject({ code: 1, subcode: 2 });
    expect(errorOf(frame(2, "0000"))).toMatchObject({ code: 1, subcode: 2 });
    expect(errorOf(frame(3, "06"))).toMatchObject({ code: 1, subcode: 2 });
    expect(errorOf(frame(5, "0001 00 01 00"))).toMatchObject({ code: 1, subcode: 2 });
  });

  it("unknown type → 1/3 Bad Message Type with the type as data", () => {
    expect(errorOf(frame(9, ""))).toMatchObject({ code: 1, subcode: 3, data: fromHex("09") });
  });

  it("OPEN optional parameter length inconsistent or malformed capability → 2/0", () => {
    expect(errorOf(frame(1, "04 fde8 005a c0000201 05 02 02 02 00"))).toMatchObject({ code: 2, subcode: 0 });
    expect(errorOf(frame(1, "04 fde8 005a c0000201 04 02 02 02 05"))).toMatchObject({ code: 2, subcode: 0 });
    expect(errorOf(frame(1, "04 fde8 005a c0000201 05 02 03 01 01 00"))).toMatchObject({ code: 2, subcode: 0 });
    expect(errorOf(frame(1, "04 fde8 005a c0000201 03 02 01 02"))).toMatchObject({ code: 2, subcode: 0 });
    expect(errorOf(frame(1, "04 fde8 005a c0000201 05 02 03 40 01 00"))).toMatchObject({ code: 2, subcode: 0 });
  });

  it("OPEN keeps non-capability optional parameters for validation", () => {
    const r = decodeMessage(frame(1, "04 fde8 005a c0000201 03 01 01 00"), four);
    expect(r.ok && r.message.type === "open" && r.message.otherParameters).toEqual([
      { paramType: 1, value: fromHex("00") },
    ]);
  });

  it("withdrawn or attribute length overrunning the UPDATE → 3/1 Malformed Attribute List", () => {
    expect(errorOf(frame(2, "0005 0000"))).toMatchObject({ code: 3, subcode: 1 });
    expect(errorOf(frame(2, "0000 0004 40 01 01"))).toMatchObject({ code: 3, subcode: 1 });
  });

  it("bad prefixes in Withdrawn Routes or NLRI → 3/10 Invalid Network Field", () => {
    expect(errorOf(frame(2, "0002 21 0a 0000"))).toMatchObject({ code: 3, subcode: 10 });
    expect(errorOf(frame(2, "0000 0000 18 0a00"))).toMatchObject({ code: 3, subcode: 10 });
  });
});

describe("attribute-level facts left for validation", () => {
  const update = (attrHex: string, nlriHex = "") => {
    const attrs = fromHex(attrHex);
    const r = decodeMessage(frame(2, `0000 ${attrs.length.toString(16).padStart(4, "0")} ${attrHex} ${nlriHex}`), four);
    if (!r.ok || r.message.type !== "update") throw new Error("expected an UPDATE");
    return r.message;
  };

  it("marks wrong-length attributes malformed and keeps going", () => {
    const m = update("40 01 02 0000 40 03 04 c0000201");
    expect(m.attributes[0]).toMatchObject({ type: "malformed", code: 1 });
    expect(m.attributes[1]).toMatchObject({ type: "next-hop" });
  });

  it("AS_PATH: zero-length segment, unknown segment type, overrun, one trailing octet", () => {
    expect(update("40 02 02 02 00").attributes[0]).toMatchObject({
      type: "malformed",
      problem: "segment of length zero",
    });
    expect(update("40 02 06 07 01 00000001").attributes[0]).toMatchObject({ type: "malformed" });
    expect(update("40 02 06 02 02 00000001").attributes[0]).toMatchObject({ type: "malformed" });
    expect(update("40 02 07 02 01 00000001 02").attributes[0]).toMatchObject({ type: "malformed" });
  });

  it("notes an attribute overrunning the attribute section (RFC 7606 §4)", () => {
    const m = update("40 01 01 00 40 02 09 02 01", "");
    expect(m.attributeListProblem).toMatch(/overruns/);
    expect(update("40 01 01 00 40 02").attributeListProblem).toMatch(/too few/);
  });

  it("route-reflection, extended community and OTC attributes are read, not kept as unknown (RFC 7606 §7.9, §7.10, §7.14; RFC 9234 §5)", () => {
    const m = update("80 09 04 c0000209 80 0a 08 c0000201 c0000202 c0 10 08 0002fde900000064 c0 23 04 fa56ea00");
    expect(stripFlags(m.attributes)).toEqual([
      { type: "originator-id", originatorId: ip("192.0.2.9") },
      { type: "cluster-list", clusterIds: [ip("192.0.2.1"), ip("192.0.2.2")] },
      { type: "extended-communities", communities: [0x0002fde900000064n] },
      { type: "otc", asn: 4200000000 },
    ]);
    const back = roundTrip({ type: "update", withdrawn: [], attributes: m.attributes, nlri: [] });
    expect(back.type === "update" && back.attributes).toEqual(m.attributes);
  });

  it.each([
    ["ORIGINATOR_ID of 5 octets", "80 09 05 c000020900", 9],
    ["CLUSTER_LIST of 6 octets", "80 0a 06 c00002010000", 10],
    ["CLUSTER_LIST of 0 octets", "80 0a 00", 10],
    ["EXTENDED_COMMUNITIES of 12 octets", "c0 10 0c 0002fde900000064 00000000", 16],
    ["EXTENDED_COMMUNITIES of 0 octets", "c0 10 00", 16],
    ["OTC of 2 octets", "c0 23 02 fde9", 35],
  ])("%s is malformed", (_what, hex, code) => {
    expect(update(hex).attributes[0]).toMatchObject({ type: "malformed", code });
  });

  it("MP_REACH with a next hop length wrong for the family is malformed", () => {
    expect(update("80 0e 0a 0002 01 04 c0000201 00 00").attributes[0]).toMatchObject({ type: "malformed", code: 14 });
    expect(update("80 0e 05 0002 01 20 00").attributes[0]).toMatchObject({ type: "malformed", code: 14 });
  });
});

describe("decodePrefixes", () => {
  it("clears bits past the prefix length", () => {
    expect(decodePrefixes(fromHex("18 0a0101"), 4)).toEqual([cidr("10.1.1.0/24")]);
    expect(decodePrefixes(fromHex("17 0a0101"), 4)).toEqual([cidr("10.1.0.0/23")]);
  });
  it("rejects lengths beyond the family", () => {
    expect(typeof decodePrefixes(fromHex("81"), 6)).toBe("string");
  });
});
