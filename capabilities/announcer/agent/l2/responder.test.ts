import { IP, parseIP } from "../../../shared/net/ip";
import {
  ARP_OP_REPLY,
  ARP_OP_REQUEST,
  arpFrame,
  arpRequestFrame,
  gratuitousArpReplyFrame,
  gratuitousArpRequestFrame,
} from "./arp";
import { encodeEthernet, ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from "./ethernet";
import { BROADCAST_MAC, parseMAC, ZERO_MAC } from "./mac";
import {
  ALL_NODES,
  decodeIPv6,
  decodeNdMessage,
  encodeIPv6,
  icmpv6Checksum,
  ICMPV6_NEIGHBOR_ADVERTISEMENT,
  linkLayerOption,
  ND_OPT_SOURCE_LINK_LAYER,
  neighborAdvertisementFrame,
  neighborSolicitationFrame,
  solicitedNodeMAC,
  solicitedNodeMulticast,
  UNSPECIFIED,
  unsolicitedNeighborAdvertisementFrame,
} from "./ndp";
import { decodeEthernet } from "./ethernet";
import { announcedSet, decide, IgnoreReason, respond } from "./responder";
import {
  ARP_REPLY_A_TO_B,
  ARP_REQUEST_B_FOR_A,
  hex,
  MAC_A,
  MAC_B,
  NA_A_TO_B,
  NS_B_FOR_A,
  NS_DAD_B,
  UNSOLICITED_NA_VIP,
} from "./testvectors";

const ip = (s: string): IP => parseIP(s)!;
const A = parseMAC(MAC_A)!; // us
const B = parseMAC(MAC_B)!; // a neighbour
const C = parseMAC("02:00:00:00:00:0c")!; // a third host
const padTo60 = (b: Buffer) => Buffer.concat([b, Buffer.alloc(Math.max(0, 60 - b.length))]);

const V4 = ip("192.0.2.11");
const V6 = ip("2001:db8:1::11");
const VIP6 = ip("2001:db8:1::100");
const ours = announcedSet([V4, "2001:db8:1::11", "2001:db8:1::100"]);

const expectIgnored = (frame: Buffer, reason: IgnoreReason, set = ours) => {
  const d = decide(frame, A, set);
  expect(d.reason).toBe(reason);
  expect(d.reply).toBeUndefined();
  expect(respond(frame, A, set)).toBeUndefined();
};

describe("announcedSet", () => {
  it("matches by family and value, whatever the text form", () => {
    const s = announcedSet(["2001:DB8:1:0::100", ip("10.0.0.1")]);
    expect(s.has(ip("2001:db8:1::100"))).toBe(true);
    expect(s.has(ip("10.0.0.1"))).toBe(true);
    expect(s.has(ip("::a00:1"))).toBe(false); // same low bits as 10.0.0.1, other family
    expect(() => announcedSet(["nope"])).toThrow(/not an IP/);
  });
});

describe("ARP responder", () => {
  it("answers a broadcast request for our IP with a unicast reply", () => {
    const d = decide(hex(ARP_REQUEST_B_FOR_A), A, ours);
    expect(d.reason).toBe("arp-reply");
    expect(d.reply!.equals(padTo60(hex(ARP_REPLY_A_TO_B)))).toBe(true);
  });

  it("answers a request unicast to our MAC (cache refresh)", () => {
    const f = arpFrame(A, B, {
      op: ARP_OP_REQUEST,
      senderMac: B,
      senderIp: ip("192.0.2.12"),
      targetMac: A,
      targetIp: V4,
    });
    expect(decide(f, A, ours).reason).toBe("arp-reply");
  });

  it("answers an RFC 5227 probe (sender IP 0.0.0.0) to defend our IP", () => {
    const reply = respond(arpRequestFrame(B, ip("0.0.0.0"), V4), A, ours)!;
    expect(reply.subarray(0, 42).toString("hex")).toBe(
      hex("02000000000b 02000000000a 0806 0001 0800 0604 0002 02000000000a c000020b 02000000000b 00000000").toString(
        "hex",
      ),
    );
  });

  it("ignores padding and answers padded requests", () => {
    expect(decide(padTo60(hex(ARP_REQUEST_B_FOR_A)), A, ours).reason).toBe("arp-reply");
  });

  describe("does not answer", () => {
    const reqFor = (target: IP) => arpRequestFrame(B, ip("192.0.2.12"), target);
    it("a request for an IP we do not announce", () => expectIgnored(reqFor(ip("192.0.2.13")), "not-our-ip"));
    it("anything when we announce nothing", () => expectIgnored(reqFor(V4), "not-our-ip", announcedSet([])));
    it("a request whose IPv6 twin we announce", () =>
      expectIgnored(reqFor(V4), "not-our-ip", announcedSet(["::c000:20b"])));
    it("an ARP reply", () =>
      expectIgnored(
        arpFrame(A, B, { op: ARP_OP_REPLY, senderMac: B, senderIp: ip("192.0.2.12"), targetMac: A, targetIp: V4 }),
        "arp-not-request",
      ));
    it("our own frame (Ethernet source is us)", () =>
      expectIgnored(arpRequestFrame(A, ip("192.0.2.11"), V4), "own-frame"));
    it("a request whose sender hardware address is ours", () =>
      expectIgnored(
        arpFrame(BROADCAST_MAC, B, {
          op: ARP_OP_REQUEST,
          senderMac: A,
          senderIp: ip("192.0.2.12"),
          targetMac: ZERO_MAC,
          targetIp: V4,
        }),
        "own-frame",
      ));
    it("our own gratuitous ARPs looped back", () => {
      for (const f of [gratuitousArpRequestFrame(V4, A), gratuitousArpReplyFrame(V4, A)]) expectIgnored(f, "own-frame");
    });
    it("someone else's gratuitous ARP for our IP", () =>
      expectIgnored(gratuitousArpRequestFrame(V4, B), "arp-gratuitous"));
    it("a request unicast to another host", () =>
      expectIgnored(
        arpFrame(C, B, { op: ARP_OP_REQUEST, senderMac: B, senderIp: ip("192.0.2.12"), targetMac: C, targetIp: V4 }),
        "not-for-us",
      ));
    it("a request sent to a non-broadcast multicast MAC", () =>
      expectIgnored(
        arpFrame(parseMAC("01:00:5e:00:00:01")!, B, {
          op: ARP_OP_REQUEST,
          senderMac: B,
          senderIp: ip("192.0.2.12"),
          targetMac: ZERO_MAC,
          targetIp: V4,
        }),
        "not-for-us",
      ));
    it("a request with a multicast sender hardware address", () =>
      expectIgnored(
        arpFrame(BROADCAST_MAC, B, {
          op: ARP_OP_REQUEST,
          senderMac: BROADCAST_MAC,
          senderIp: ip("192.0.2.12"),
          targetMac: ZERO_MAC,
          targetIp: V4,
        }),
        "arp-bad-sender",
      ));
    it("a VLAN-tagged request", () => {
      const untagged = hex(ARP_REQUEST_B_FOR_A);
      const tagged = Buffer.concat([untagged.subarray(0, 12), hex("8100 0064"), untagged.subarray(12)]);
      expectIgnored(tagged, "vlan-tagged");
    });
    it("a malformed ARP packet (hlen 8)", () => {
      const f = hex(ARP_REQUEST_B_FOR_A);
      f[18] = 8;
      expectIgnored(f, "malformed-arp");
    });
    it("a truncated frame", () => expectIgnored(hex("ffffffffffff 02000000000b 08"), "malformed-ethernet"));
    it("an IPv4 packet", () =>
      expectIgnored(
        encodeEthernet({ dst: A, src: B, etherType: ETHERTYPE_IPV4, payload: Buffer.alloc(20) }),
        "other-ethertype",
      ));
  });
});

interface NsSpec {
  ethSrc?: Buffer;
  ethDst?: Buffer;
  src?: IP;
  dst?: IP;
  target?: IP;
  hopLimit?: number;
  code?: number;
  options?: Buffer;
  nextHeader?: number;
  truncateTo?: number;
  corruptChecksum?: boolean;
  type?: number;
}

/** An NS from B, customisable field by field; the checksum is right unless asked otherwise. */
function ns(spec: NsSpec = {}): Buffer {
  const src = spec.src ?? ip("2001:db8:1::12");
  const target = spec.target ?? VIP6;
  const dst = spec.dst ?? solicitedNodeMulticast(target);
  let icmp = Buffer.alloc(24);
  icmp[0] = spec.type ?? 135;
  icmp[1] = spec.code ?? 0;
  icmp.set(hex(target.value.toString(16).padStart(32, "0")), 8);
  icmp = Buffer.concat([icmp, spec.options ?? linkLayerOption(ND_OPT_SOURCE_LINK_LAYER, B)]);
  if (spec.truncateTo !== undefined) icmp = icmp.subarray(0, spec.truncateTo);
  icmp.writeUInt16BE(icmpv6Checksum(src, dst, icmp) ^ (spec.corruptChecksum ? 0x0101 : 0), 2);
  const ip6 = encodeIPv6({
    nextHeader: spec.nextHeader ?? 58,
    hopLimit: spec.hopLimit ?? 255,
    src,
    dst,
    payload: icmp,
  });
  return encodeEthernet({
    dst: spec.ethDst ?? solicitedNodeMAC(target),
    src: spec.ethSrc ?? B,
    etherType: ETHERTYPE_IPV6,
    payload: ip6,
  });
}

describe("NDP responder", () => {
  it("answers a multicast NS for our IP with a solicited NA byte for byte", () => {
    const d = decide(hex(NS_B_FOR_A), A, ours);
    expect(d.reason).toBe("na-solicited");
    expect(d.reply!.equals(hex(NA_A_TO_B))).toBe(true);
  });

  it("answers the test helper's NS (sanity check of the builder)", () => {
    expect(decide(ns(), A, ours).reason).toBe("na-solicited");
    expect(decide(neighborSolicitationFrame(ip("2001:db8:1::12"), B, VIP6), A, ours).reason).toBe("na-solicited");
  });

  it("answers a unicast NUD probe without SLLA, back to the Ethernet source", () => {
    const reply = respond(ns({ ethDst: A, dst: VIP6, options: Buffer.alloc(0) }), A, ours)!;
    const eth = decodeEthernet(reply)!;
    expect(eth.dst.equals(B)).toBe(true);
    const p = decodeIPv6(eth.payload)!;
    expect(p.hopLimit).toBe(255);
    expect(p.src).toEqual(VIP6);
    expect(p.dst).toEqual(ip("2001:db8:1::12"));
    const na = decodeNdMessage(p.payload)!;
    expect(na.type === ICMPV6_NEIGHBOR_ADVERTISEMENT && [na.solicited, na.override, na.router]).toEqual([
      true,
      true,
      false,
    ]);
  });

  it("prefers the SLLA over the Ethernet source", () => {
    const reply = respond(ns({ ethSrc: C, options: linkLayerOption(ND_OPT_SOURCE_LINK_LAYER, B) }), A, ours)!;
    expect(decodeEthernet(reply)!.dst.equals(B)).toBe(true);
  });

  it("defends our IP against a DAD probe with an NA to all-nodes, Solicited clear", () => {
    const d = decide(neighborSolicitationFrame(UNSPECIFIED, B, VIP6), A, ours);
    expect(d.reason).toBe("na-dad-defense");
    expect(d.reply!.equals(hex(UNSOLICITED_NA_VIP))).toBe(true);
    expect(d.reply!.equals(unsolicitedNeighborAdvertisementFrame(VIP6, A))).toBe(true);
    const p = decodeIPv6(decodeEthernet(d.reply!)!.payload)!;
    expect(p.dst).toEqual(ALL_NODES);
  });

  it("accepts a kernel DAD probe carrying a nonce option", () => {
    expect(decide(hex(NS_DAD_B), A, announcedSet(["fe80::ff:fe00:b"])).reason).toBe("na-dad-defense");
  });

  describe("does not answer (RFC 4861 §7.1.1 and ownership)", () => {
    it("an NS for an IP we do not announce", () => expectIgnored(ns({ target: ip("2001:db8:1::101") }), "not-our-ip"));
    it("an NS for our IPv4 address's IPv6 twin", () => expectIgnored(ns({ target: ip("::c000:20b") }), "not-our-ip"));
    it("hop limit 254 (forwarded by a router)", () => expectIgnored(ns({ hopLimit: 254 }), "hop-limit"));
    it("hop limit 1", () => expectIgnored(ns({ hopLimit: 1 }), "hop-limit"));
    it("a bad checksum", () => expectIgnored(ns({ corruptChecksum: true }), "bad-checksum"));
    it("a corrupted kernel NS", () => {
      const f = hex(NS_B_FOR_A);
      f[f.length - 1] ^= 0xff;
      expectIgnored(f, "bad-checksum", announcedSet([V6]));
    });
    it("code 1", () => expectIgnored(ns({ code: 1 }), "bad-code"));
    it("an ICMPv6 length under 24", () =>
      expectIgnored(ns({ options: Buffer.alloc(0), truncateTo: 20 }), "ns-too-short"));
    it("an option of length 0", () => expectIgnored(ns({ options: hex("0100 000000000000") }), "bad-options"));
    it("an option running past the end", () => expectIgnored(ns({ options: hex("0102 02000000000b") }), "bad-options"));
    it("a multicast target", () =>
      expectIgnored(
        ns({ target: ip("ff02::1"), dst: ip("ff02::1:ff00:1") }),
        "target-multicast",
        announcedSet(["ff02::1"]),
      ));
    it("a multicast source", () => expectIgnored(ns({ src: ip("ff02::2") }), "source-multicast"));
    it("a DAD probe not sent to a solicited-node group", () =>
      expectIgnored(
        ns({ src: UNSPECIFIED, dst: VIP6, ethDst: A, options: Buffer.alloc(0) }),
        "dad-not-to-solicited-node",
      ));
    it("a DAD probe to all-nodes", () =>
      expectIgnored(ns({ src: UNSPECIFIED, dst: ALL_NODES, options: Buffer.alloc(0) }), "dad-not-to-solicited-node"));
    it("a DAD probe with an SLLA option", () => expectIgnored(ns({ src: UNSPECIFIED }), "dad-with-slla"));
    it("an NS to another address's solicited-node group", () =>
      expectIgnored(ns({ dst: solicitedNodeMulticast(ip("2001:db8:1::12")) }), "ns-wrong-destination"));
    it("an NS unicast to another IPv6 address", () =>
      expectIgnored(ns({ ethDst: A, dst: ip("2001:db8:1::11") }), "ns-wrong-destination"));
    it("a Neighbor Advertisement", () =>
      expectIgnored(
        neighborAdvertisementFrame({
          ethDst: A,
          ipDst: V6,
          target: ip("2001:db8:1::12"),
          mac: B,
          solicited: true,
          override: true,
        }),
        "not-ns",
      ));
    it("someone else's unsolicited NA for our IP", () =>
      expectIgnored(unsolicitedNeighborAdvertisementFrame(VIP6, B), "not-ns"));
    it("an echo request", () => expectIgnored(ns({ type: 128 }), "not-ns"));
    it("a UDP packet", () => expectIgnored(ns({ nextHeader: 17 }), "not-icmpv6"));
    it("our own NS looped back", () =>
      expectIgnored(ns({ ethSrc: A, options: linkLayerOption(ND_OPT_SOURCE_LINK_LAYER, A) }), "own-frame"));
    it("an NS whose SLLA is our MAC", () =>
      expectIgnored(ns({ ethSrc: C, options: linkLayerOption(ND_OPT_SOURCE_LINK_LAYER, A) }), "own-frame"));
    it("our own unsolicited NA looped back", () =>
      expectIgnored(unsolicitedNeighborAdvertisementFrame(VIP6, A), "own-frame"));
    it("an NS unicast to another host's MAC", () => expectIgnored(ns({ ethDst: C, dst: VIP6 }), "not-for-us"));
    it("a VLAN-tagged NS", () => {
      const untagged = ns();
      expectIgnored(Buffer.concat([untagged.subarray(0, 12), hex("8100 0064"), untagged.subarray(12)]), "vlan-tagged");
    });
    it("a truncated IPv6 packet", () => expectIgnored(ns().subarray(0, 50), "malformed-ipv6"));
    it("a unicast NS with no SLLA from a multicast Ethernet source", () =>
      expectIgnored(
        ns({ ethSrc: parseMAC("33:33:00:00:00:01")!, ethDst: A, dst: VIP6, options: Buffer.alloc(0) }),
        "no-link-layer-address",
      ));
  });
});
