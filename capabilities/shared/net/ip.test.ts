import {
  cidrContains,
  cidrsOverlap,
  formatCIDR,
  formatIP,
  ipFromBytes,
  ipToBytes,
  parseCIDR,
  parseIP,
  parseZonedIP,
  rangeToCIDRs,
} from "./ip";

const ip = (s: string) => {
  const v = parseIP(s);
  if (!v) throw new Error(`bad test IP ${s}`);
  return v;
};

describe("parseIP / formatIP", () => {
  it.each([
    ["192.0.2.1", "192.0.2.1"],
    ["2001:DB8::1", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["::", "::"],
    ["::ffff:192.0.2.1", "::ffff:c000:201"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2:3:4:5:6"],
    ["fe80::", "fe80::"],
  ])("%s round-trips as %s", (input, canonical) => {
    expect(formatIP(ip(input))).toBe(canonical);
  });

  it.each(["", "1.2.3", "256.1.1.1", "01.2.3.4", "1.2.3.4/32", "fe80::1%eth0", "gggg::", "1:2:3:4:5:6:7:8:9"])(
    "rejects %p",
    (bad) => expect(parseIP(bad)).toBeUndefined(),
  );

  it("parseZonedIP drops a link-local address's zone, as sockets report it (RFC 4007 §11)", () => {
    expect(formatIP(parseZonedIP("fe80::1%eth0")!)).toBe("fe80::1");
    expect(formatIP(parseZonedIP("192.0.2.1")!)).toBe("192.0.2.1");
    expect(parseZonedIP("fe80::1%")).toEqual(ip("fe80::1"));
    expect(parseZonedIP("%eth0")).toBeUndefined();
    expect(parseZonedIP("nonsense%eth0")).toBeUndefined();
  });

  it("converts to and from network-order bytes", () => {
    expect([...ipToBytes(ip("192.0.2.10"))]).toEqual([192, 0, 2, 10]);
    expect(formatIP(ipFromBytes(ipToBytes(ip("2001:db8::abcd"))))).toBe("2001:db8::abcd");
    expect(() => ipFromBytes(new Uint8Array(5))).toThrow(/4 or 16 bytes/);
  });
});

describe("CIDRs", () => {
  it("masks host bits and formats canonically", () => {
    expect(formatCIDR(parseCIDR("192.0.2.77/24")!)).toBe("192.0.2.0/24");
    expect(formatCIDR(parseCIDR("2001:db8::1/64")!)).toBe("2001:db8::/64");
  });
  it.each(["192.0.2.0", "192.0.2.0/33", "2001:db8::/129", "192.0.2.0/x", "x/24"])("rejects %p", (bad) =>
    expect(parseCIDR(bad)).toBeUndefined(),
  );
  it("tests containment and overlap within a family only", () => {
    const net = parseCIDR("10.0.0.0/8")!;
    expect(cidrContains(net, ip("10.255.0.1"))).toBe(true);
    expect(cidrContains(net, ip("11.0.0.0"))).toBe(false);
    expect(cidrsOverlap(net, parseCIDR("10.1.0.0/16")!)).toBe(true);
    expect(cidrsOverlap(parseCIDR("10.1.0.0/16")!, net)).toBe(true);
    expect(cidrsOverlap(net, parseCIDR("11.0.0.0/8")!)).toBe(false);
    expect(cidrsOverlap(parseCIDR("::/0")!, net)).toBe(false);
  });
});

describe("rangeToCIDRs", () => {
  const summarize = (a: string, b: string) => rangeToCIDRs(ip(a), ip(b)).map(formatCIDR);
  it("summarizes a range into the minimal CIDR list", () => {
    expect(summarize("192.0.2.10", "192.0.2.20")).toEqual([
      "192.0.2.10/31",
      "192.0.2.12/30",
      "192.0.2.16/30",
      "192.0.2.20/32",
    ]);
    expect(summarize("192.0.2.0", "192.0.2.255")).toEqual(["192.0.2.0/24"]);
    expect(summarize("192.0.2.5", "192.0.2.5")).toEqual(["192.0.2.5/32"]);
    expect(summarize("0.0.0.0", "255.255.255.255")).toEqual(["0.0.0.0/0"]);
    expect(summarize("2001:db8::", "2001:db8::ff")).toEqual(["2001:db8::/120"]);
  });
  it("returns nothing for an inverted range and refuses mixed families", () => {
    expect(summarize("192.0.2.9", "192.0.2.1")).toEqual([]);
    expect(() => rangeToCIDRs(ip("192.0.2.1"), ip("2001:db8::1"))).toThrow(/different families/);
  });
});
