import { formatIP, parseIP } from "../../../shared/net/ip";
import {
  ARP_OP_REPLY,
  ARP_OP_REQUEST,
  arpReplyFrame,
  arpRequestFrame,
  decodeArp,
  encodeArp,
  gratuitousArpReplyFrame,
  gratuitousArpRequestFrame,
} from "./arp";
import { decodeEthernet } from "./ethernet";
import { formatMAC, parseMAC } from "./mac";
import { ARP_REPLY_A_TO_B, ARP_REQUEST_B_FOR_A, hex, MAC_A, MAC_B } from "./testvectors";

const ip = (s: string) => parseIP(s)!;
const A = parseMAC(MAC_A)!;
const B = parseMAC(MAC_B)!;
const padTo60 = (b: Buffer) => Buffer.concat([b, Buffer.alloc(60 - b.length)]);

describe("ARP (RFC 826)", () => {
  it("decodes a request", () => {
    const eth = decodeEthernet(hex(ARP_REQUEST_B_FOR_A))!;
    const arp = decodeArp(eth.payload)!;
    expect(arp.op).toBe(ARP_OP_REQUEST);
    expect(formatMAC(arp.senderMac)).toBe(MAC_B);
    expect(formatIP(arp.senderIp)).toBe("192.0.2.12");
    expect(formatMAC(arp.targetMac)).toBe("00:00:00:00:00:00");
    expect(formatIP(arp.targetIp)).toBe("192.0.2.11");
  });

  it("ignores Ethernet padding after the 28 bytes", () => {
    const eth = decodeEthernet(padTo60(hex(ARP_REQUEST_B_FOR_A)))!;
    expect(eth.payload.length).toBe(46);
    expect(decodeArp(eth.payload)?.op).toBe(ARP_OP_REQUEST);
  });

  it("builds the request byte for byte", () => {
    expect(arpRequestFrame(B, ip("192.0.2.12"), ip("192.0.2.11")).equals(padTo60(hex(ARP_REQUEST_B_FOR_A)))).toBe(true);
  });

  it("builds the reply to a request byte for byte", () => {
    const req = decodeArp(decodeEthernet(hex(ARP_REQUEST_B_FOR_A))!.payload)!;
    expect(arpReplyFrame(req, A).equals(padTo60(hex(ARP_REPLY_A_TO_B)))).toBe(true);
  });

  it("builds gratuitous ARP in request form (RFC 5227 announcement)", () => {
    const f = gratuitousArpRequestFrame(ip("192.0.2.100"), A);
    expect(
      f
        .subarray(0, 42)
        .equals(
          hex("ffffffffffff 02000000000a 0806  0001 0800 06 04 0001  02000000000a c0000264  000000000000 c0000264"),
        ),
    ).toBe(true);
    expect(f.length).toBe(60);
  });

  it("builds gratuitous ARP in reply form", () => {
    const f = gratuitousArpReplyFrame(ip("192.0.2.100"), A);
    expect(
      f
        .subarray(0, 42)
        .equals(
          hex("ffffffffffff 02000000000a 0806  0001 0800 06 04 0002  02000000000a c0000264  ffffffffffff c0000264"),
        ),
    ).toBe(true);
  });

  it("round-trips encode/decode", () => {
    const p = {
      op: ARP_OP_REPLY,
      senderMac: A,
      senderIp: ip("10.1.2.3"),
      targetMac: B,
      targetIp: ip("10.3.2.1"),
    } as const;
    expect(decodeArp(encodeArp(p))).toEqual(p);
  });

  it.each([
    ["truncated", "0001 0800 06 04 0001 02000000000b c000020c 000000000000 c00002"],
    ["htype 6 (IEEE 802)", "0006 0800 06 04 0001 02000000000b c000020c 000000000000 c000020b"],
    ["ptype IPv6", "0001 86dd 06 04 0001 02000000000b c000020c 000000000000 c000020b"],
    ["hlen 8", "0001 0800 08 04 0001 02000000000b c000020c 000000000000 c000020b"],
    ["plen 16", "0001 0800 06 10 0001 02000000000b c000020c 000000000000 c000020b"],
    ["op 3 (RARP)", "0001 0800 06 04 0003 02000000000b c000020c 000000000000 c000020b"],
  ])("rejects %s", (_n, h) => expect(decodeArp(hex(h))).toBeUndefined());

  it("refuses to encode IPv6 addresses", () => {
    expect(() =>
      encodeArp({ op: ARP_OP_REQUEST, senderMac: A, senderIp: ip("::1"), targetMac: B, targetIp: ip("10.0.0.1") }),
    ).toThrow(/IPv4/);
  });
});
