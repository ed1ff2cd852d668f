import { encodeMessage } from "./encode";
import { cidr, frame, ip } from "./fixtures";
import { frameToEvent } from "./inbound";
import { MessageReader } from "./reader";

const ctx = { fourOctetAS: true, ebgp: true };
const of = (bytes: Buffer) => frameToEvent({ kind: "frame", bytes }, ctx);

describe("frameToEvent", () => {
  it("maps each message type to its FSM event", () => {
    expect(of(encodeMessage({ type: "keepalive" }))).toEqual({ type: "KeepAliveMsg" });
    expect(of(encodeMessage({ type: "notification", code: 6, subcode: 2, data: Buffer.alloc(0) })).type).toBe(
      "NotifMsg",
    );
    expect(of(encodeMessage({ type: "route-refresh", afi: 1, safi: 1 })).type).toBe("RouteRefreshMsg");
    expect(
      of(encodeMessage({ type: "open", version: 4, myAS: 1, holdTime: 90, bgpId: ip("1.1.1.1"), capabilities: [] }))
        .type,
    ).toBe("BGPOpen");
    const update = encodeMessage({
      type: "update",
      withdrawn: [],
      attributes: [
        { type: "origin", origin: 0 },
        { type: "as-path", segments: [] },
        { type: "next-hop", nextHop: ip("192.0.2.1") },
      ],
      nlri: [cidr("10.0.0.0/8")],
    });
    expect(of(update).type).toBe("UpdateMsg");
  });

  it("maps decode errors to header, OPEN and UPDATE error events", () => {
    expect(of(frame(9, ""))).toMatchObject({ type: "BGPHeaderErr", error: { code: 1, subcode: 3 } });
    expect(of(frame(1, "04 0001 005a 01010101 03 02 01 05"))).toMatchObject({
      type: "BGPOpenMsgErr",
      error: { code: 2, subcode: 0 },
    });
    expect(of(frame(2, "0009 0000"))).toMatchObject({
      type: "UpdateMsgErr",
      verdict: { outcome: "session-reset", error: { code: 3, subcode: 1 } },
    });
    expect(of(frame(2, "0000 0004 40 01 01 07 18 0a0000"))).toMatchObject({
      type: "UpdateMsgErr",
      verdict: { outcome: "treat-as-withdraw" },
    });
  });

  it("maps reader errors to BGPHeaderErr", () => {
    const [f] = new MessageReader().push(Buffer.alloc(19));
    expect(frameToEvent(f!, ctx)).toMatchObject({ type: "BGPHeaderErr", error: { code: 1, subcode: 1 } });
  });
});
