/**
 * ARP for IPv4 over Ethernet (RFC 826): hardware type 1, protocol type 0x0800,
 * hardware length 6, protocol length 4. Gratuitous ARP in both the request and
 * the reply form (RFC 5227 §3, RFC 5944 §4.6). Pure: no I/O.
 */
import { IP, ipFromBytes, ipToBytes } from "../../../shared/net/ip";
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, encodeEthernet } from "./ethernet";
import { BROADCAST_MAC, MAC_LENGTH, ZERO_MAC } from "./mac";

export const ARP_HTYPE_ETHERNET = 1;
export const ARP_OP_REQUEST = 1;
export const ARP_OP_REPLY = 2;
/** Size of an Ethernet/IPv4 ARP packet. */
export const ARP_LENGTH = 28;

export interface ArpPacket {
  readonly op: typeof ARP_OP_REQUEST | typeof ARP_OP_REPLY;
  readonly senderMac: Buffer;
  readonly senderIp: IP;
  readonly targetMac: Buffer;
  readonly targetIp: IP;
}

/**
 * Decodes an ARP packet (the Ethernet payload; trailing padding is ignored). Anything
 * but Ethernet/IPv4 requests and replies is undefined: other hardware or protocol
 * types, other address lengths, other opcodes (RARP, InARP), truncated packets.
 */
export function decodeArp(payload: Buffer): ArpPacket | undefined {
  if (payload.length < ARP_LENGTH) return undefined;
  if (payload.readUInt16BE(0) !== ARP_HTYPE_ETHERNET) return undefined;
  if (payload.readUInt16BE(2) !== ETHERTYPE_IPV4) return undefined;
  if (payload[4] !== MAC_LENGTH || payload[5] !== 4) return undefined;
  const op = payload.readUInt16BE(6);
  if (op !== ARP_OP_REQUEST && op !== ARP_OP_REPLY) return undefined;
  return {
    op,
    senderMac: Buffer.from(payload.subarray(8, 14)),
    senderIp: ipFromBytes(payload.subarray(14, 18)),
    targetMac: Buffer.from(payload.subarray(18, 24)),
    targetIp: ipFromBytes(payload.subarray(24, 28)),
  };
}

export function encodeArp(p: ArpPacket): Buffer {
  if (p.senderIp.family !== 4 || p.targetIp.family !== 4) throw new RangeError("ARP carries IPv4 addresses only");
  if (p.senderMac.length !== MAC_LENGTH || p.targetMac.length !== MAC_LENGTH)
    throw new RangeError("ARP over Ethernet carries 6-byte MACs");
  const out = Buffer.alloc(ARP_LENGTH);
  out.writeUInt16BE(ARP_HTYPE_ETHERNET, 0);
  out.writeUInt16BE(ETHERTYPE_IPV4, 2);
  out[4] = MAC_LENGTH;
  out[5] = 4;
  out.writeUInt16BE(p.op, 6);
  out.set(p.senderMac, 8);
  out.set(ipToBytes(p.senderIp), 14);
  out.set(p.targetMac, 18);
  out.set(ipToBytes(p.targetIp), 24);
  return out;
}

/** An ARP packet in an Ethernet frame (padded to 60 bytes). */
export function arpFrame(ethDst: Uint8Array, ethSrc: Uint8Array, p: ArpPacket): Buffer {
  return encodeEthernet({ dst: ethDst, src: ethSrc, etherType: ETHERTYPE_ARP, payload: encodeArp(p) });
}

/**
 * The reply to `request` saying that `ourMac` has the requested address, per RFC 826:
 * swap sender and target, fill in our MAC, unicast to the requester's hardware address.
 */
export function arpReplyFrame(request: ArpPacket, ourMac: Buffer): Buffer {
  return arpFrame(request.senderMac, ourMac, {
    op: ARP_OP_REPLY,
    senderMac: ourMac,
    senderIp: request.targetIp,
    targetMac: request.senderMac,
    targetIp: request.senderIp,
  });
}

/**
 * Gratuitous ARP, request form (an RFC 5227 "ARP Announcement"): broadcast, sender and
 * target protocol address both `ip`, target hardware address zero.
 */
export function gratuitousArpRequestFrame(ip: IP, mac: Buffer): Buffer {
  return arpFrame(BROADCAST_MAC, mac, {
    op: ARP_OP_REQUEST,
    senderMac: mac,
    senderIp: ip,
    targetMac: ZERO_MAC,
    targetIp: ip,
  });
}

/**
 * Gratuitous ARP, reply form: broadcast, sender and target protocol address both `ip`,
 * target hardware address broadcast. Some hosts only update their caches from replies.
 */
export function gratuitousArpReplyFrame(ip: IP, mac: Buffer): Buffer {
  return arpFrame(BROADCAST_MAC, mac, {
    op: ARP_OP_REPLY,
    senderMac: mac,
    senderIp: ip,
    targetMac: BROADCAST_MAC,
    targetIp: ip,
  });
}

/** An ordinary who-has request (used by tests and probes). */
export function arpRequestFrame(senderMac: Buffer, senderIp: IP, targetIp: IP): Buffer {
  return arpFrame(BROADCAST_MAC, senderMac, { op: ARP_OP_REQUEST, senderMac, senderIp, targetMac: ZERO_MAC, targetIp });
}
