import { decodeMessage } from "./decode";
import { encodeMessage } from "./encode";
import { cidr, fromHex, MARKER } from "./fixtures";
import { endOfRib, endOfRibFamily, endOfRibPending, isEndOfRib } from "./graceful-restart";
import { IPV4_UNICAST, IPV6_UNICAST, type UpdateMessage } from "./messages";

const decodeUpdate = (b: Buffer): UpdateMessage => {
  const r = decodeMessage(b, { fourOctetAS: true });
  if (!r.ok || r.message.type !== "update") throw new Error("not an update");
  return r.message;
};

describe("End-of-RIB (RFC 4724 §2)", () => {
  it("IPv4 is the empty UPDATE: 23 octets", () => {
    expect(encodeMessage(endOfRib(IPV4_UNICAST))).toEqual(fromHex(`${MARKER} 0017 02 0000 0000`));
  });

  it("IPv6 is an UPDATE with only an empty MP_UNREACH_NLRI", () => {
    expect(encodeMessage(endOfRib(IPV6_UNICAST))).toEqual(fromHex(`${MARKER} 001d 02 0000 0006 80 0f 03 0002 01`));
  });

  it("recognises markers after a round trip, including families we do not parse", () => {
    expect(endOfRibFamily(decodeUpdate(encodeMessage(endOfRib(IPV4_UNICAST))))).toEqual(IPV4_UNICAST);
    expect(endOfRibFamily(decodeUpdate(encodeMessage(endOfRib(IPV6_UNICAST))))).toEqual(IPV6_UNICAST);
    expect(endOfRibFamily(decodeUpdate(encodeMessage(endOfRib({ afi: 1, safi: 128 }))))).toEqual({ afi: 1, safi: 128 });
  });

  it("ordinary UPDATEs are not markers", () => {
    expect(isEndOfRib({ type: "update", withdrawn: [cidr("10.0.0.0/8")], attributes: [], nlri: [] })).toBe(false);
    expect(
      isEndOfRib({
        type: "update",
        withdrawn: [],
        attributes: [{ type: "mp-unreach", afi: 2, safi: 1, withdrawn: [cidr("2001:db8::/32")] }],
        nlri: [],
      }),
    ).toBe(false);
    expect(isEndOfRib({ type: "update", withdrawn: [], attributes: [{ type: "origin", origin: 0 }], nlri: [] })).toBe(
      false,
    );
  });

  it("lists the families still owed a marker", () => {
    expect(endOfRibPending([IPV4_UNICAST, IPV6_UNICAST], [IPV4_UNICAST])).toEqual([IPV6_UNICAST]);
    expect(endOfRibPending([IPV4_UNICAST, IPV6_UNICAST], [], IPV6_UNICAST)).toEqual([IPV6_UNICAST]);
    expect(endOfRibPending([IPV4_UNICAST], [], IPV6_UNICAST)).toEqual([]);
  });
});
