import { formatIP, ipToBytes, parseIP } from "../../../shared/net/ip";
import { formatMAC, parseMAC } from "../l2/mac";
import { neighborSolicitationFrame } from "../l2/ndp";
import { hex } from "../l2/testvectors";
import {
  isLinkLocalIPv6,
  parseRouterAdvertisement,
  RA_MIN_LENGTH,
  routerAdvertisementFrame,
} from "./router-advertisement";

const ip = (s: string) => parseIP(s)!;
const MAC = parseMAC("02:00:00:00:00:0a")!;
const LL = ip("fe80::a");

// Offsets in an untagged frame: IPv6 header at 14, ICMPv6 at 54.
const HOP_LIMIT = 14 + 7;
const ICMP = 54;

/**
 * Our RA from fe80::a at 02:00:00:00:00:0a, written out field by field (RFC 8200 §3,
 * RFC 4861 §4.2, §4.6.1). The checksum 0x7913 was summed by hand over the pseudo-header
 * and message: fe80 + 000a (src) + ff02 + 0001 (dst) + 0018 (length 24) + 003a (next
 * header) + 8600 + 0101 + 0200 + 0000 + 000a = 0x286ea; folded 0x86ec; complement 0x7913.
 * The test below recomputes it independently of l2/ndp.ts.
 */
const RA_FROM_A = `
  333300000001                      # eth dst: all-nodes multicast MAC (RFC 2464 §7)
  02000000000a                      # eth src
  86dd                              # ethertype IPv6
  60000000                          # version 6, traffic class 0, flow label 0
  0018                              # payload length 24
  3a                                # next header ICMPv6
  ff                                # hop limit 255
  fe80000000000000000000000000000a  # src fe80::a
  ff020000000000000000000000000001  # dst ff02::1
  86                                # type 134 Router Advertisement
  00                                # code 0
  7913                              # checksum
  00                                # Cur Hop Limit: unspecified
  00                                # flags M=0 O=0
  0000                              # Router Lifetime 0: not a default router
  00000000                          # Reachable Time: unspecified
  00000000                          # Retrans Timer: unspecified
  01 01 02000000000a                # Source Link-Layer Address option, length 1 (8 bytes)
`;

/** RFC 1071 one's-complement checksum over the IPv6 pseudo-header and the ICMPv6 message. */
function independentChecksum(frame: Buffer): number {
  const icmp = Buffer.from(frame.subarray(ICMP));
  icmp.writeUInt16BE(0, 2);
  const pseudo = Buffer.alloc(40);
  frame.copy(pseudo, 0, 22, 54); // source and destination addresses
  pseudo.writeUInt32BE(icmp.length, 32);
  pseudo[39] = 58;
  const data = Buffer.concat([pseudo, icmp, Buffer.alloc(icmp.length % 2)]);
  let sum = 0;
  for (let i = 0; i < data.length; i += 2) sum += data.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function edited(frame: Buffer, edit: (f: Buffer) => void): Buffer {
  const out = Buffer.from(frame);
  edit(out);
  return out;
}

/** A copy of `frame` with `edit` applied and the ICMPv6 checksum made valid again. */
function resigned(frame: Buffer, edit: (f: Buffer) => void): Buffer {
  const out = edited(frame, edit);
  out.writeUInt16BE(independentChecksum(out), ICMP + 2);
  return out;
}

/** Sets the IPv6 payload length after the ICMPv6 message grew or shrank. */
function withIcmp(frame: Buffer, icmp: Buffer): Buffer {
  const out = Buffer.concat([frame.subarray(0, ICMP), icmp]);
  out.writeUInt16BE(icmp.length, 14 + 4);
  return resigned(out, () => undefined);
}

describe("routerAdvertisementFrame (RFC 4861 §4.2)", () => {
  it("builds the hand-written vector byte for byte", () => {
    expect(routerAdvertisementFrame(MAC, LL).toString("hex")).toBe(hex(RA_FROM_A).toString("hex"));
  });

  it("carries a checksum that an independent computation agrees with", () => {
    const frame = routerAdvertisementFrame(MAC, ip("fe80::1c2f:3aff:fe4b:5d6e"));
    expect(frame.readUInt16BE(ICMP + 2)).toBe(independentChecksum(frame));
    expect(hex(RA_FROM_A).readUInt16BE(ICMP + 2)).toBe(independentChecksum(hex(RA_FROM_A)));
  });

  it("advertises Router Lifetime 0 and nothing but the SLLA option", () => {
    const frame = routerAdvertisementFrame(MAC, LL);
    expect(frame.readUInt16BE(ICMP + 6)).toBe(0);
    expect(parseRouterAdvertisement(frame)!.routerLifetime).toBe(0);
    expect(frame.length).toBe(ICMP + RA_MIN_LENGTH + 8);
    expect(frame[ICMP + RA_MIN_LENGTH]).toBe(1);
  });

  it("refuses a source that is not link-local or a MAC that is not 6 bytes", () => {
    expect(() => routerAdvertisementFrame(MAC, ip("2001:db8::1"))).toThrow(RangeError);
    expect(() => routerAdvertisementFrame(MAC, ip("192.0.2.1"))).toThrow(RangeError);
    expect(() => routerAdvertisementFrame(Buffer.alloc(5), LL)).toThrow(RangeError);
    expect(() => routerAdvertisementFrame(MAC, LL, 65536)).toThrow(RangeError);
  });

  it("can carry a router's lifetime (tests that play the router)", () => {
    expect(parseRouterAdvertisement(routerAdvertisementFrame(MAC, LL, 1800))!.routerLifetime).toBe(1800);
  });
});

describe("parseRouterAdvertisement (RFC 4861 §6.1.2)", () => {
  const frame = hex(RA_FROM_A);

  it("round-trips our own frame", () => {
    const ra = parseRouterAdvertisement(routerAdvertisementFrame(MAC, ip("fe80::1c2f:3aff:fe4b:5d6e")))!;
    expect(formatIP(ra.source)).toBe("fe80::1c2f:3aff:fe4b:5d6e");
    expect(formatMAC(ra.sourceMac)).toBe("02:00:00:00:00:0a");
    expect(ra.routerLifetime).toBe(0);
  });

  it("reads a router's lifetime, whatever its options, and ignores Ethernet padding", () => {
    const prefixInfo = Buffer.alloc(32);
    prefixInfo[0] = 3;
    prefixInfo[1] = 4;
    const icmp = Buffer.concat([frame.subarray(ICMP), prefixInfo]);
    icmp.writeUInt16BE(1800, 6);
    const ra = parseRouterAdvertisement(Buffer.concat([withIcmp(frame, icmp), Buffer.alloc(4)]))!;
    expect(ra.routerLifetime).toBe(1800);
    expect(formatIP(ra.source)).toBe("fe80::a");
  });

  it("accepts an RA without options (ICMP length exactly 16)", () => {
    expect(parseRouterAdvertisement(withIcmp(frame, frame.subarray(ICMP, ICMP + RA_MIN_LENGTH)))).toBeDefined();
  });

  it.each<[string, Buffer]>([
    ["hop limit 254", resigned(frame, (f) => (f[HOP_LIMIT] = 254))],
    ["a bad checksum", edited(frame, (f) => f.writeUInt16BE(0x7914, ICMP + 2))],
    ["a global source address", resigned(frame, (f) => ipToBytes(ip("2001:db8::a")).copy(f, 22))],
    ["code 1", resigned(frame, (f) => (f[ICMP + 1] = 1))],
    ["an option of length 0", resigned(frame, (f) => (f[ICMP + RA_MIN_LENGTH + 1] = 0))],
    ["an option running past the end", resigned(frame, (f) => (f[ICMP + RA_MIN_LENGTH + 1] = 2))],
    ["an ICMP length below 16", withIcmp(frame, frame.subarray(ICMP, ICMP + RA_MIN_LENGTH - 4))],
    ["a truncated frame", frame.subarray(0, frame.length - 1)],
    ["a frame shorter than an IPv6 header", frame.subarray(0, 40)],
    ["a neighbor solicitation", neighborSolicitationFrame(LL, MAC, ip("fe80::b"))],
    ["another ICMPv6 type (133, a solicitation)", resigned(frame, (f) => (f[ICMP] = 133))],
    ["another next header (UDP)", resigned(frame, (f) => (f[14 + 6] = 17))],
    ["IPv4", resigned(frame, (f) => f.writeUInt16BE(0x0800, 12))],
    ["a VLAN tag", Buffer.concat([frame.subarray(0, 12), Buffer.from("81000064", "hex"), frame.subarray(12)])],
  ])("rejects %s", (_, bad) => {
    expect(parseRouterAdvertisement(bad)).toBeUndefined();
  });

  it("computes the edited checksums right (a control for the rejections above)", () => {
    expect(parseRouterAdvertisement(resigned(frame, () => undefined))).toBeDefined();
  });
});

describe("isLinkLocalIPv6 (fe80::/10)", () => {
  it.each([
    ["fe80::1", true],
    ["febf:ffff::1", true],
    ["fec0::1", false],
    ["fe7f::1", false],
    ["2001:db8::1", false],
    ["169.254.0.1", false],
  ])("%s -> %s", (addr, expected) => {
    expect(isLinkLocalIPv6(ip(addr))).toBe(expected);
  });
});
