import { parseIP } from "../../../shared/net/ip";
import { ARP_OP_REPLY, ARP_OP_REQUEST, decodeArp } from "./arp";
import { decodeEthernet, ETHERTYPE_ARP } from "./ethernet";
import { formatMAC, parseMAC } from "./mac";
import { decodeIPv6, decodeNdMessage, ICMPV6_NEIGHBOR_ADVERTISEMENT, verifyIcmpv6Checksum } from "./ndp";
import { gratuitousFrames } from "./gratuitous";
import { hex, MAC_A, UNSOLICITED_NA_VIP } from "./testvectors";

const A = parseMAC(MAC_A)!;

describe("gratuitous burst", () => {
  it("IPv4: an ARP request then an ARP reply, both broadcast, sender = target = VIP", () => {
    const frames = gratuitousFrames(parseIP("192.0.2.100")!, A);
    expect(frames).toHaveLength(2);
    const ops = frames.map((f) => {
      const eth = decodeEthernet(f)!;
      expect(formatMAC(eth.dst)).toBe("ff:ff:ff:ff:ff:ff");
      expect(formatMAC(eth.src)).toBe(MAC_A);
      expect(eth.etherType).toBe(ETHERTYPE_ARP);
      const arp = decodeArp(eth.payload)!;
      expect(arp.senderIp).toEqual(parseIP("192.0.2.100"));
      expect(arp.targetIp).toEqual(parseIP("192.0.2.100"));
      expect(formatMAC(arp.senderMac)).toBe(MAC_A);
      return arp.op;
    });
    expect(ops).toEqual([ARP_OP_REQUEST, ARP_OP_REPLY]);
  });

  it("IPv6: one unsolicited NA to ff02::1 with Override, hop limit 255, valid checksum", () => {
    const frames = gratuitousFrames(parseIP("2001:db8:1::100")!, A);
    expect(frames).toHaveLength(1);
    expect(frames[0].equals(hex(UNSOLICITED_NA_VIP))).toBe(true);
    const p = decodeIPv6(decodeEthernet(frames[0])!.payload)!;
    expect(p.hopLimit).toBe(255);
    expect(verifyIcmpv6Checksum(p.src, p.dst, p.payload)).toBe(true);
    const na = decodeNdMessage(p.payload)!;
    expect(na.type === ICMPV6_NEIGHBOR_ADVERTISEMENT && [na.override, na.solicited, na.router]).toEqual([
      true,
      false,
      false,
    ]);
  });

  it("refuses a non-unicast MAC", () => {
    expect(() => gratuitousFrames(parseIP("192.0.2.100")!, Buffer.alloc(6))).toThrow(/unicast MAC/);
  });
});
