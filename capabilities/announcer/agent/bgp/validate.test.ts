import { decodeMessage } from "./decode";
import { encodeMessage } from "./encode";
import { cidr, frame, fromHex, ip } from "./fixtures";
import { AS_TRANS, type OpenMessage, type PathAttribute, type UpdateMessage } from "./messages";
import { validateOpen, validateUpdate, type UpdateContext, type UpdateVerdict } from "./validate";

const ctx = { localAS: 64512, expectedPeerAS: 65001, localId: ip("10.0.0.1") };
const open = (over: Partial<OpenMessage> = {}): OpenMessage => ({
  type: "open",
  version: 4,
  myAS: 65001,
  holdTime: 90,
  bgpId: ip("10.0.0.2"),
  capabilities: [{ type: "four-octet-as", asn: 65001 }],
  ...over,
});

describe("validateOpen (RFC 4271 §6.2)", () => {
  it("accepts a good OPEN", () => {
    expect(validateOpen(open(), ctx)).toBeUndefined();
    expect(validateOpen(open({ holdTime: 0 }), ctx)).toBeUndefined();
    expect(validateOpen(open({ holdTime: 3 }), ctx)).toBeUndefined();
  });

  it("dynamicASN: internal accepts only our AS, external any other (2/2 Bad Peer AS otherwise)", () => {
    const dyn = (d: "internal" | "external") => ({ localAS: 64512, dynamicPeerAS: d, localId: ip("10.0.0.1") });
    const from = (asn: number) => open({ myAS: asn, capabilities: [{ type: "four-octet-as", asn }] });
    expect(validateOpen(from(64512), dyn("internal"))).toBeUndefined();
    expect(validateOpen(from(65001), dyn("internal"))).toMatchObject({ code: 2, subcode: 2 });
    expect(validateOpen(from(65001), dyn("external"))).toBeUndefined();
    expect(validateOpen(from(4200000000), dyn("external"))).toBeUndefined();
    expect(validateOpen(from(64512), dyn("external"))).toMatchObject({ code: 2, subcode: 2 });
  });

  it("version other than 4 → 2/1 with data = 4 as two octets", () => {
    expect(validateOpen(open({ version: 3 }), ctx)).toMatchObject({ code: 2, subcode: 1, data: fromHex("0004") });
  });

  it("peer AS mismatch or 0 → 2/2 Bad Peer AS; the 4-octet capability is the real AS", () => {
    expect(validateOpen(open({ myAS: 65002, capabilities: [] }), ctx)).toMatchObject({ code: 2, subcode: 2 });
    expect(
      validateOpen(open({ myAS: AS_TRANS, capabilities: [{ type: "four-octet-as", asn: 4200000000 }] }), ctx),
    ).toMatchObject({ code: 2, subcode: 2 });
    expect(
      validateOpen(open({ myAS: AS_TRANS, capabilities: [{ type: "four-octet-as", asn: 4200000000 }] }), {
        ...ctx,
        expectedPeerAS: 4200000000,
      }),
    ).toBeUndefined();
    expect(validateOpen(open({ myAS: 0, capabilities: [] }), { localAS: 1, localId: ip("10.0.0.1") })).toMatchObject({
      code: 2,
      subcode: 2,
    });
  });

  it("hold time 1 or 2 → 2/6 Unacceptable Hold Time", () => {
    expect(validateOpen(open({ holdTime: 1 }), ctx)).toMatchObject({ code: 2, subcode: 6 });
    expect(validateOpen(open({ holdTime: 2 }), ctx)).toMatchObject({ code: 2, subcode: 6 });
  });

  it("BGP identifier 0, or ours on iBGP → 2/3 Bad BGP Identifier (RFC 6286 §2.2)", () => {
    expect(validateOpen(open({ bgpId: ip("0.0.0.0") }), ctx)).toMatchObject({ code: 2, subcode: 3 });
    const ibgp = { localAS: 65001, expectedPeerAS: 65001, localId: ip("10.0.0.2") };
    expect(validateOpen(open(), ibgp)).toMatchObject({ code: 2, subcode: 3 });
    expect(validateOpen(open({ bgpId: ip("10.0.0.1") }), { ...ctx, localId: ip("10.0.0.1") })).toBeUndefined(); // eBGP may share
  });

  it("unknown optional parameter → 2/4 Unsupported Optional Parameter", () => {
    expect(validateOpen(open({ otherParameters: [{ paramType: 1, value: Buffer.alloc(1) }] }), ctx)).toMatchObject({
      code: 2,
      subcode: 4,
    });
  });

  it("4-octet local AS with a peer lacking the capability → 2/7 naming the capability", () => {
    const e = validateOpen(open({ capabilities: [] }), { ...ctx, localAS: 4200000000 });
    expect(e).toMatchObject({ code: 2, subcode: 7, data: fromHex("41 04 fa56ea00") });
  });
});

const good: PathAttribute[] = [
  { type: "origin", origin: 0 },
  { type: "as-path", segments: [{ type: "sequence", asns: [65001] }] },
  { type: "next-hop", nextHop: ip("192.0.2.1") },
];
const ebgp = { ebgp: true };

/** Encodes, decodes and validates, so every case goes through the real wire path. */
function judge(
  attributes: readonly PathAttribute[],
  nlri = [cidr("203.0.113.0/24")],
  context: UpdateContext = ebgp,
): UpdateVerdict {
  const d = decodeMessage(encodeMessage({ type: "update", withdrawn: [], attributes, nlri }), { fourOctetAS: true });
  if (!d.ok || d.message.type !== "update") throw new Error("decode failed");
  return validateUpdate(d.message, context);
}

const withAttr = (extra: PathAttribute, replace?: string): PathAttribute[] => [
  ...good.filter((a) => a.type !== replace),
  extra,
];
const raw = (code: number, flags: number, hex: string): PathAttribute => ({
  type: "unknown",
  code,
  flags,
  value: fromHex(hex),
});

describe("validateUpdate (RFC 7606)", () => {
  it("accepts a well-formed UPDATE", () => {
    expect(judge(good).outcome).toBe("ok");
  });

  it.each([
    ["ORIGIN of length 2 (§7.1)", raw(1, 0x40, "0000"), "origin"],
    ["ORIGIN value 3 (§7.1)", raw(1, 0x40, "03"), "origin"],
    ["AS_PATH segment of length 0 (§7.2)", raw(2, 0x40, "0200"), "as-path"],
    ["AS_PATH segment overrun (§7.2)", raw(2, 0x40, "0203 0000fde9"), "as-path"],
    ["NEXT_HOP of length 5 (§7.3)", raw(3, 0x40, "c000020101"), "next-hop"],
    ["NEXT_HOP 0.0.0.0 (§7.3, RFC 4271 §6.3)", raw(3, 0x40, "00000000"), "next-hop"],
    ["NEXT_HOP multicast (§7.3)", raw(3, 0x40, "e0000001"), "next-hop"],
    ["MULTI_EXIT_DISC of length 2 (§7.4)", raw(4, 0x80, "0001"), undefined],
    ["COMMUNITIES of length 6 (§7.8)", raw(8, 0xc0, "000100020003"), undefined],
    ["COMMUNITIES of length 0 (§7.8)", raw(8, 0xc0, ""), undefined],
    ["LARGE_COMMUNITY of length 8 (RFC 8092 §6)", raw(32, 0xc0, "0000000100000002"), undefined],
    ["ORIGIN marked optional (§3 c flags)", raw(1, 0xc0, "00"), "origin"],
    ["COMMUNITIES marked non-transitive (§3 c flags)", raw(8, 0x80, "00010002"), undefined],
  ])("treat-as-withdraw: %s", (_name, attr, replace) => {
    expect(judge(withAttr(attr, replace)).outcome).toBe("treat-as-withdraw");
  });

  it.each([
    ["EXTENDED_COMMUNITIES of length 12 (§7.14)", raw(16, 0xc0, "0002fde900000064 00000000"), ebgp],
    ["EXTENDED_COMMUNITIES of length 0 (§7.14)", raw(16, 0xc0, ""), ebgp],
    ["EXTENDED_COMMUNITIES marked non-transitive (§3 c flags)", raw(16, 0x80, "0002fde900000064"), ebgp],
    ["ORIGINATOR_ID of length 5 from an internal peer (§7.9)", raw(9, 0x80, "c000020900"), { ebgp: false }],
    ["CLUSTER_LIST of length 6 from an internal peer (§7.10)", raw(10, 0x80, "c00002010000"), { ebgp: false }],
    ["CLUSTER_LIST marked transitive (§3 c flags)", raw(10, 0xc0, "c0000201"), { ebgp: false }],
    ["OTC of length 2 (RFC 9234 §5)", raw(35, 0xc0, "fde9"), ebgp],
  ])("treat-as-withdraw: %s", (_name, attr, context) => {
    expect(judge(withAttr(attr), undefined, context).outcome).toBe("treat-as-withdraw");
  });

  it("well-formed ORIGINATOR_ID, CLUSTER_LIST, EXTENDED_COMMUNITIES and OTC pass on an internal session", () => {
    const v = judge(
      [
        ...good,
        raw(9, 0x80, "c0000209"),
        raw(10, 0x80, "c0000201"),
        raw(16, 0xc0, "0002fde900000064"),
        raw(35, 0xc0, "0000fde9"),
      ],
      undefined,
      { ebgp: false },
    );
    expect(v.outcome).toBe("ok");
    expect(v.outcome === "ok" && v.update.attributes.map((a) => a.type)).toEqual([
      "origin",
      "as-path",
      "next-hop",
      "originator-id",
      "cluster-list",
      "extended-communities",
      "otc",
    ]);
  });

  it("ORIGINATOR_ID and CLUSTER_LIST from an external peer are discarded, well-formed or not (§7.9, §7.10)", () => {
    for (const attr of [
      raw(9, 0x80, "c0000209"),
      raw(10, 0x80, "c0000201"),
      raw(9, 0x80, "c000020900"),
      raw(10, 0xc0, "01"),
    ]) {
      const v = judge(withAttr(attr));
      expect(v.outcome).toBe("attribute-discard");
      expect(v.outcome !== "session-reset" && v.update.attributes).toHaveLength(3);
    }
  });

  it("LOCAL_PREF of length 3 from an internal peer → treat-as-withdraw (§7.5)", () => {
    expect(judge(withAttr(raw(5, 0x40, "000064")), undefined, { ebgp: false }).outcome).toBe("treat-as-withdraw");
  });

  it("LOCAL_PREF from an external peer is discarded (§7.5)", () => {
    const v = judge(withAttr({ type: "local-pref", localPref: 100 }));
    expect(v.outcome).toBe("attribute-discard");
    expect(v.outcome !== "session-reset" && v.update.attributes.some((a) => a.type === "local-pref")).toBe(false);
    expect(judge(withAttr({ type: "local-pref", localPref: 100 }), undefined, { ebgp: false }).outcome).toBe("ok");
  });

  it.each([
    ["ATOMIC_AGGREGATE of length 1 (§7.6)", raw(6, 0x40, "00")],
    ["AGGREGATOR of length 5 (§7.7)", raw(7, 0xc0, "0000fde900")],
    ["AS4_PATH malformed (RFC 6793 §6)", raw(17, 0xc0, "0200")],
    ["AS4_AGGREGATOR of length 6 (RFC 6793 §6)", raw(18, 0xc0, "0000fde90a00")],
  ])("attribute discard: %s", (_name, attr) => {
    const v = judge(withAttr(attr));
    expect(v.outcome).toBe("attribute-discard");
    expect(v.outcome !== "session-reset" && v.update.attributes).toHaveLength(3);
  });

  it("NEXT_HOP equal to our own address → treat-as-withdraw (RFC 4271 §6.3)", () => {
    expect(judge(good, undefined, { ebgp: true, localAddresses: [ip("192.0.2.1")] }).outcome).toBe("treat-as-withdraw");
  });

  it.each([
    ["ORIGIN", "origin"],
    ["AS_PATH", "as-path"],
    ["NEXT_HOP", "next-hop"],
  ])("missing %s with NLRI → treat-as-withdraw (§3 d)", (_n, type) => {
    expect(judge(good.filter((a) => a.type !== type)).outcome).toBe("treat-as-withdraw");
  });

  it("no attributes needed without NLRI, and NEXT_HOP not needed with MP_REACH only (RFC 4760 §3)", () => {
    expect(judge([], []).outcome).toBe("ok");
    const mp: PathAttribute = {
      type: "mp-reach",
      afi: 2,
      safi: 1,
      nextHops: [ip("2001:db8::1")],
      nlri: [cidr("2001:db8::/64")],
    };
    expect(judge([mp, good[0]!, good[1]!], []).outcome).toBe("ok");
    expect(judge([mp, good[0]!], []).outcome).toBe("treat-as-withdraw");
  });

  describe("an UPDATE with no NLRI at all (§5.2)", () => {
    it("a malformed attribute resets the session instead of treat-as-withdraw, with its RFC 4271 §6.3 NOTIFICATION", () => {
      const badOrigin = raw(1, 0x40, "0000");
      expect(judge([badOrigin, good[1]!, good[2]!], [])).toEqual({
        outcome: "session-reset",
        error: expect.objectContaining({ code: 3, subcode: 5, data: fromHex("40 01 02 0000") }),
      });
      expect(judge([good[0]!, raw(2, 0x40, "0200")], [])).toMatchObject({
        outcome: "session-reset",
        error: { code: 3, subcode: 11 },
      });
      expect(judge([raw(8, 0x80, "00010002")], [])).toMatchObject({
        outcome: "session-reset",
        error: { code: 3, subcode: 4, data: fromHex("80 08 04 00010002") },
      });
      expect(judge([raw(16, 0xc0, "00")], [])).toMatchObject({
        outcome: "session-reset",
        error: { code: 3, subcode: 5 },
      });
      expect(judge([{ type: "origin", origin: 5 }], [])).toMatchObject({
        outcome: "session-reset",
        error: { code: 3, subcode: 6 },
      });
    });

    it("Withdrawn Routes alone do not count as NLRI: still a reset", () => {
      const d = decodeMessage(
        encodeMessage({
          type: "update",
          withdrawn: [cidr("203.0.113.0/24")],
          attributes: [raw(1, 0x40, "07")],
          nlri: [],
        }),
        { fourOctetAS: true },
      );
      expect(d.ok && d.message.type === "update" && validateUpdate(d.message, ebgp).outcome).toBe("session-reset");
    });

    it("an MP_REACH_NLRI or MP_UNREACH_NLRI attribute is NLRI, even an empty one: treat-as-withdraw stays", () => {
      const unreach: PathAttribute = { type: "mp-unreach", afi: 2, safi: 1, withdrawn: [cidr("2001:db8::/64")] };
      expect(judge([unreach, raw(8, 0xc0, "01")], []).outcome).toBe("treat-as-withdraw");
      const endOfRib: PathAttribute = { type: "mp-unreach", afi: 2, safi: 1, withdrawn: [] };
      expect(judge([endOfRib, raw(8, 0xc0, "01")], []).outcome).toBe("treat-as-withdraw");
      // A family we do not parse is still NLRI (decoded as an unknown attribute 15).
      expect(judge([raw(15, 0x80, "0019 46"), raw(8, 0xc0, "01")], []).outcome).toBe("treat-as-withdraw");
    });

    it("lighter problems stay what they are", () => {
      expect(judge([raw(6, 0x40, "00")], []).outcome).toBe("attribute-discard");
      expect(judge([], []).outcome).toBe("ok");
    });
  });

  it("duplicates: extra copies discarded, first kept (§3 g)", () => {
    const v = judge([...good, { type: "med", med: 1 }, { type: "med", med: 2 }]);
    expect(v.outcome).toBe("attribute-discard");
    expect(v.outcome !== "session-reset" && v.update.attributes.filter((a) => a.type === "med")).toEqual([
      { type: "med", flags: 0x80, med: 1 },
    ]);
  });

  it("duplicate MP_REACH or MP_UNREACH → session reset 3/1 (§3 g)", () => {
    const un: PathAttribute = { type: "mp-unreach", afi: 2, safi: 1, withdrawn: [] };
    expect(judge([un, un], [])).toMatchObject({ outcome: "session-reset", error: { code: 3, subcode: 1 } });
    const mp: PathAttribute = { type: "mp-reach", afi: 2, safi: 1, nextHops: [ip("2001:db8::1")], nlri: [] };
    expect(judge([mp, ...good, mp])).toMatchObject({ outcome: "session-reset", error: { code: 3, subcode: 1 } });
  });

  it("malformed MP_REACH / MP_UNREACH → session reset 3/9 (§7.11, §5.3; RFC 4760 §7)", () => {
    expect(judge([raw(14, 0x80, "0002 01 04 c0000201 00"), ...good])).toMatchObject({
      outcome: "session-reset",
      error: { code: 3, subcode: 9 },
    });
    expect(judge([raw(14, 0x80, "0002 01 10 20010db8000000000000000000000001 00 81")], [])).toMatchObject({
      outcome: "session-reset",
      error: { code: 3, subcode: 9 },
    });
    expect(judge([raw(15, 0x80, "0002 01 40 2001")], [])).toMatchObject({
      outcome: "session-reset",
      error: { code: 3, subcode: 9 },
    });
  });

  it("unrecognised well-known attribute → session reset 3/2 with the attribute as data (RFC 4271 §6.3)", () => {
    expect(judge([...good, raw(200, 0x40, "01")])).toMatchObject({
      outcome: "session-reset",
      error: { code: 3, subcode: 2, data: fromHex("40 c8 01 01") },
    });
  });

  it("unknown optional attributes are kept, transitive ones with their Partial bit", () => {
    const v = judge([...good, raw(201, 0xe0, "0102"), raw(202, 0x80, "")]);
    expect(v.outcome).toBe("ok");
    expect(v.outcome === "ok" && v.update.attributes.slice(3)).toEqual([raw(201, 0xe0, "0102"), raw(202, 0x80, "")]);
  });

  it("attribute overrunning the attribute section → treat-as-withdraw (§4)", () => {
    const bytes = frame(2, "0000 000b 40 01 01 00 40 02 09 02 01 fde9 00 18 cb0071");
    const d = decodeMessage(bytes, { fourOctetAS: false });
    expect(d.ok && d.message.type === "update" && validateUpdate(d.message, ebgp).outcome).toBe("treat-as-withdraw");
  });

  it("a treat-as-withdraw verdict keeps the NLRI so it can be withdrawn", () => {
    const v = judge(withAttr(raw(1, 0x40, "07"), "origin"));
    expect(v.outcome === "treat-as-withdraw" && v.update.nlri).toEqual([cidr("203.0.113.0/24")]);
  });

  it("the most severe outcome wins", () => {
    expect(judge([...withAttr(raw(6, 0x40, "00")), raw(8, 0xc0, "01")]).outcome).toBe("treat-as-withdraw");
  });

  it("works on update objects built in code (flags default to the RFC's)", () => {
    const u: UpdateMessage = {
      type: "update",
      withdrawn: [],
      attributes: [good[0]!, good[1]!],
      nlri: [cidr("10.0.0.0/8")],
    };
    expect(validateUpdate(u, ebgp)).toMatchObject({
      outcome: "treat-as-withdraw",
      problems: ["well-known attribute 3 is missing"],
    });
    expect(validateUpdate({ ...u, attributes: good }, ebgp).outcome).toBe("ok");
  });
});
