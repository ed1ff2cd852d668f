import { formatIP, parseIP } from "../../../shared/net/ip";
import { decodeEthernet, ETHERTYPE_IPV6 } from "./ethernet";
import { formatMAC, parseMAC } from "./mac";
import {
  ALL_NODES,
  decodeIPv6,
  decodeNdMessage,
  decodeNdOptions,
  encodeIPv6,
  encodeNeighborAdvertisement,
  encodeNeighborSolicitation,
  icmpv6Checksum,
  ICMPV6_NEIGHBOR_ADVERTISEMENT,
  ICMPV6_NEIGHBOR_SOLICITATION,
  isSolicitedNodeMulticast,
  neighborAdvertisementFrame,
  neighborSolicitationFrame,
  solicitedNodeMAC,
  solicitedNodeMulticast,
  UNSPECIFIED,
  unsolicitedNeighborAdvertisementFrame,
  verifyIcmpv6Checksum,
} from "./ndp";
import { hex, MAC_A, MAC_B, NA_A_TO_B, NS_B_FOR_A, NS_DAD_B, UNSOLICITED_NA_VIP } from "./testvectors";

const ip = (s: string) => parseIP(s)!;
const A = parseMAC(MAC_A)!;
const B = parseMAC(MAC_B)!;

const ipv6Of = (frameHex: string) => {
  const eth = decodeEthernet(hex(frameHex))!;
  expect(eth.etherType).toBe(ETHERTYPE_IPV6);
  return decodeIPv6(eth.payload)!;
};

describe("solicited-node multicast (RFC 4291 §2.7.1)", () => {
  it.each([
    ["2001:db8:1::100", "ff02::1:ff00:100", "33:33:ff:00:01:00"],
    ["2001:db8:1::11", "ff02::1:ff00:11", "33:33:ff:00:00:11"],
    ["fe80::ff:fe00:b", "ff02::1:ff00:b", "33:33:ff:00:00:0b"],
    ["2001:db8::abcd:ef12:3456", "ff02::1:ff12:3456", "33:33:ff:12:34:56"],
  ])("%s -> %s, %s", (addr, group, mac) => {
    expect(formatIP(solicitedNodeMulticast(ip(addr)))).toBe(group);
    expect(formatMAC(solicitedNodeMAC(ip(addr)))).toBe(mac);
    expect(isSolicitedNodeMulticast(ip(group))).toBe(true);
  });

  it("recognises only ff02::1:ff00:0/104", () => {
    expect(isSolicitedNodeMulticast(ip("ff02::1"))).toBe(false);
    expect(isSolicitedNodeMulticast(ip("ff02::2:ff00:1"))).toBe(false);
    expect(isSolicitedNodeMulticast(ip("ff05::1:ff00:1"))).toBe(false);
    expect(() => solicitedNodeMulticast(ip("192.0.2.1"))).toThrow(/IPv6/);
  });
});

describe("IPv6 header", () => {
  it("decodes the fixed header and drops Ethernet padding", () => {
    const pkt = encodeIPv6({
      trafficClass: 0xab,
      flowLabel: 0x12345,
      nextHeader: 58,
      hopLimit: 255,
      src: ip("fe80::1"),
      dst: ALL_NODES,
      payload: hex("01020304"),
    });
    expect(pkt.subarray(0, 8).toString("hex")).toBe("6ab12345" + "0004" + "3a" + "ff");
    const back = decodeIPv6(Buffer.concat([pkt, Buffer.alloc(10)]))!;
    expect(back.trafficClass).toBe(0xab);
    expect(back.flowLabel).toBe(0x12345);
    expect(formatIP(back.src)).toBe("fe80::1");
    expect(formatIP(back.dst)).toBe("ff02::1");
    expect(back.payload.toString("hex")).toBe("01020304");
  });

  it("rejects short packets, wrong versions and truncated payloads", () => {
    const ok = encodeIPv6({ nextHeader: 58, hopLimit: 255, src: ip("::1"), dst: ip("::1"), payload: Buffer.alloc(8) });
    expect(decodeIPv6(ok.subarray(0, 39))).toBeUndefined();
    expect(decodeIPv6(ok.subarray(0, 47))).toBeUndefined();
    const v4 = Buffer.from(ok);
    v4[0] = 0x45;
    expect(decodeIPv6(v4)).toBeUndefined();
  });
});

describe("ICMPv6 checksum (RFC 8200 §8.1 pseudo-header)", () => {
  it.each([
    ["NS with SLLA", NS_B_FOR_A, 0x1bec],
    ["solicited NA", NA_A_TO_B, 0x8a37],
    ["DAD NS from ::", NS_DAD_B, 0x2fa4],
    ["unsolicited NA to ff02::1", UNSOLICITED_NA_VIP, 0xf721],
  ])("computes and verifies the %s checksum", (_n, frame, expected) => {
    const p = ipv6Of(frame);
    expect(icmpv6Checksum(p.src, p.dst, p.payload)).toBe(expected);
    expect(verifyIcmpv6Checksum(p.src, p.dst, p.payload)).toBe(true);
  });

  it("ignores whatever is in the checksum field when computing", () => {
    const p = ipv6Of(NS_B_FOR_A);
    const msg = Buffer.from(p.payload);
    msg.writeUInt16BE(0xffff, 2);
    expect(icmpv6Checksum(p.src, p.dst, msg)).toBe(0x1bec);
  });

  it("detects a flipped bit, a changed address and a wrong length", () => {
    const p = ipv6Of(NS_B_FOR_A);
    const msg = Buffer.from(p.payload);
    msg[20] ^= 0x01;
    expect(verifyIcmpv6Checksum(p.src, p.dst, msg)).toBe(false);
    expect(verifyIcmpv6Checksum(ip("2001:db8:1::13"), p.dst, p.payload)).toBe(false);
    // Trailing zeros add nothing to the sum, but the pseudo-header carries the length.
    expect(verifyIcmpv6Checksum(p.src, p.dst, Buffer.concat([p.payload, Buffer.alloc(2)]))).toBe(false);
  });

  it("handles odd-length messages by padding with a zero byte", () => {
    const msg = hex("8000 0000 0001 0002 ab"); // echo request, 9 bytes
    const sum = icmpv6Checksum(ip("2001:db8::1"), ip("2001:db8::2"), msg);
    msg.writeUInt16BE(sum, 2);
    expect(verifyIcmpv6Checksum(ip("2001:db8::1"), ip("2001:db8::2"), msg)).toBe(true);
  });
});

describe("Neighbor Solicitation (RFC 4861 §4.3)", () => {
  it("decodes the NS with its SLLA option", () => {
    const p = ipv6Of(NS_B_FOR_A);
    expect(p.hopLimit).toBe(255);
    const ns = decodeNdMessage(p.payload)!;
    expect(ns.type).toBe(ICMPV6_NEIGHBOR_SOLICITATION);
    expect(ns.code).toBe(0);
    expect(formatIP(ns.target)).toBe("2001:db8:1::11");
    expect(ns.type === ICMPV6_NEIGHBOR_SOLICITATION && formatMAC(ns.sourceLinkLayer!)).toBe(MAC_B);
  });

  it("decodes a DAD probe with a nonce option and no SLLA", () => {
    const p = ipv6Of(NS_DAD_B);
    expect(p.src).toEqual(UNSPECIFIED);
    const ns = decodeNdMessage(p.payload)!;
    expect(ns.options.map((o) => o.type)).toEqual([14]);
    expect(ns.type === ICMPV6_NEIGHBOR_SOLICITATION && ns.sourceLinkLayer).toBeUndefined();
    expect(formatIP(ns.target)).toBe("fe80::ff:fe00:b");
  });

  it("builds the NS byte for byte", () => {
    expect(neighborSolicitationFrame(ip("2001:db8:1::12"), B, ip("2001:db8:1::11")).equals(hex(NS_B_FOR_A))).toBe(true);
  });

  it("builds a DAD probe without SLLA", () => {
    const f = neighborSolicitationFrame(UNSPECIFIED, B, ip("fe80::ff:fe00:b"));
    const ns = decodeNdMessage(decodeIPv6(decodeEthernet(f)!.payload)!.payload)!;
    expect(ns.options).toEqual([]);
  });

  it("rejects short messages, other types and bad options", () => {
    const icmp = encodeNeighborSolicitation({
      src: ip("fe80::1"),
      dst: ip("ff02::1:ff00:2"),
      target: ip("fe80::2"),
      sourceLinkLayer: A,
    });
    expect(decodeNdMessage(icmp.subarray(0, 23))).toBeUndefined();
    const echo = Buffer.from(icmp);
    echo[0] = 128;
    expect(decodeNdMessage(echo)).toBeUndefined();
    const zeroLen = Buffer.from(icmp);
    zeroLen[25] = 0;
    expect(decodeNdMessage(zeroLen)).toBeUndefined();
    const tooLong = Buffer.from(icmp);
    tooLong[25] = 2;
    expect(decodeNdMessage(tooLong)).toBeUndefined();
    expect(decodeNdMessage(Buffer.concat([icmp, hex("01")]))).toBeUndefined(); // dangling option byte
  });
});

describe("Neighbor Advertisement (RFC 4861 §4.4)", () => {
  it("decodes flags and TLLA", () => {
    const na = decodeNdMessage(ipv6Of(NA_A_TO_B).payload)!;
    expect(na.type).toBe(ICMPV6_NEIGHBOR_ADVERTISEMENT);
    if (na.type !== ICMPV6_NEIGHBOR_ADVERTISEMENT) return;
    expect([na.router, na.solicited, na.override]).toEqual([false, true, true]);
    expect(formatMAC(na.targetLinkLayer!)).toBe(MAC_A);
  });

  it("builds the solicited NA byte for byte (source = target, S|O, TLLA, hop limit 255)", () => {
    const f = neighborAdvertisementFrame({
      ethDst: B,
      ipDst: ip("2001:db8:1::12"),
      target: ip("2001:db8:1::11"),
      mac: A,
      solicited: true,
      override: true,
    });
    expect(f.equals(hex(NA_A_TO_B))).toBe(true);
  });

  it("builds the unsolicited NA to all-nodes byte for byte (O set, S clear)", () => {
    expect(unsolicitedNeighborAdvertisementFrame(ip("2001:db8:1::100"), A).equals(hex(UNSOLICITED_NA_VIP))).toBe(true);
  });

  it("encodes the router flag", () => {
    const na = encodeNeighborAdvertisement({
      src: ip("fe80::1"),
      dst: ALL_NODES,
      target: ip("fe80::1"),
      router: true,
      solicited: false,
      override: false,
    });
    expect(na[4]).toBe(0x80);
    expect(na.length).toBe(24);
    expect(verifyIcmpv6Checksum(ip("fe80::1"), ALL_NODES, na)).toBe(true);
  });

  it("parses option lists", () => {
    expect(decodeNdOptions(hex("0101 02000000000b 0e01 010203040506"))!.map((o) => o.type)).toEqual([1, 14]);
    expect(decodeNdOptions(Buffer.alloc(0))).toEqual([]);
    expect(decodeNdOptions(hex("0100 0000 0000 0000"))).toBeUndefined();
  });
});
