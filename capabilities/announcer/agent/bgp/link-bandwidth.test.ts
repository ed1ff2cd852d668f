import { linkBandwidthCommunity, linkBandwidthOf } from "./link-bandwidth";

const hex = (c: bigint) => c.toString(16).padStart(16, "0");

describe("link bandwidth extended community (RFC 10005)", () => {
  it("is type 0x00 sub-type 0x04, our AS, then the bytes per second as an IEEE single", () => {
    // 125,000 B/s (1 Mbit/s) is 0x47f42400 in IEEE 754 single precision.
    expect(hex(linkBandwidthCommunity(64513, 125_000))).toBe("0004fc0147f42400");
  });

  it("carries AS_TRANS for a 4-octet AS", () => {
    expect(linkBandwidthOf(linkBandwidthCommunity(4_200_000_000, 250_000))).toEqual({
      as: 23456,
      bytesPerSecond: 250_000,
    });
  });

  it("reads back what it wrote, the non-transitive type too, and nothing else", () => {
    expect(linkBandwidthOf(linkBandwidthCommunity(65000, 375_000))).toEqual({ as: 65000, bytesPerSecond: 375_000 });
    expect(linkBandwidthOf(0x4004fde847f42400n)).toEqual({ as: 65000, bytesPerSecond: 125_000 });
    expect(linkBandwidthOf(0x0002fde800000001n)).toBeUndefined(); // a route target
  });
});
