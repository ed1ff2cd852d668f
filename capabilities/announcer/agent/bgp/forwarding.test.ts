import { fromHex, ip } from "./fixtures";
import { attributesForForwarding } from "./forwarding";

describe("attributesForForwarding (RFC 4271 §5)", () => {
  it("sets Partial on unknown optional transitive attributes and drops non-transitive and malformed ones", () => {
    expect(
      attributesForForwarding([
        { type: "next-hop", flags: 0x40, nextHop: ip("192.0.2.1") },
        { type: "unknown", code: 99, flags: 0xc0, value: fromHex("01") },
        { type: "unknown", code: 100, flags: 0x80, value: fromHex("02") },
        { type: "malformed", code: 7, flags: 0xc0, value: fromHex("03"), problem: "x" },
      ]),
    ).toEqual([
      { type: "next-hop", flags: 0x40, nextHop: ip("192.0.2.1") },
      { type: "unknown", code: 99, flags: 0xe0, value: fromHex("01") },
    ]);
  });
});
