import { MAX_INT64, cidrCapacity, isBuggyIP, poolCapacity } from "./capacity";
import { cidr, ip } from "./test-helpers";

describe("capacity", () => {
  it("flags IPv4 .0 and .255 only", () => {
    expect(isBuggyIP(ip("192.0.2.0"))).toBe(true);
    expect(isBuggyIP(ip("192.0.2.255"))).toBe(true);
    expect(isBuggyIP(ip("192.0.2.1"))).toBe(false);
    expect(isBuggyIP(ip("2001:db8::ff"))).toBe(false);
  });

  it.each([
    ["10.0.0.0/8", false, 16777216n],
    ["10.0.0.0/8", true, 16777216n - 2n * 65536n],
    ["192.0.2.0/24", true, 254n],
    ["192.0.2.0/25", true, 127n],
    ["192.0.2.128/25", true, 127n],
    ["192.0.2.64/26", true, 64n],
    ["192.0.2.0/32", true, 0n],
    ["192.0.2.7/32", true, 1n],
    ["2001:db8::/120", true, 256n],
  ])("%s avoidBuggyIPs=%p holds %p", (text, avoid, expected) => {
    expect(cidrCapacity(cidr(text), avoid)).toBe(expected);
  });

  it("counts per family and saturates huge IPv6 ranges at MaxInt64", () => {
    expect(poolCapacity([cidr("192.0.2.0/24"), cidr("2001:db8::/120")], false)).toEqual({ v4: 256n, v6: 256n });
    expect(poolCapacity([cidr("2001:db8::/64")], false).v6).toBe(MAX_INT64);
    expect(poolCapacity([cidr("2001:db8::/66")], false).v6).toBe(MAX_INT64);
    expect(poolCapacity([cidr("2001:db8::/67")], false).v6).toBe(1n << 61n);
    expect(
      poolCapacity([cidr("2001:db8::/67"), cidr("2001:db9::/67"), cidr("2001:dba::/67"), cidr("2001:dbb::/67")], false)
        .v6,
    ).toBe(MAX_INT64);
  });
});
