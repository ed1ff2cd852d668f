/**
 * Ethernet (EUI-48) MAC addresses as 6-byte Buffers, plus the multicast MACs
 * that ARP and NDP need. Pure: no I/O.
 */
import { IP } from "../../../shared/net/ip";

export const MAC_LENGTH = 6;

/** ff:ff:ff:ff:ff:ff */
export const BROADCAST_MAC: Buffer = Buffer.alloc(MAC_LENGTH, 0xff);
/** 00:00:00:00:00:00 (the "unknown" target hardware address in ARP requests). */
export const ZERO_MAC: Buffer = Buffer.alloc(MAC_LENGTH, 0);

/** Parses "aa:bb:cc:dd:ee:ff" or "aa-bb-cc-dd-ee-ff" (any case); undefined if malformed. */
export function parseMAC(text: string): Buffer | undefined {
  const m = /^([0-9a-f]{2})([:-])([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/i.exec(
    text.trim(),
  );
  if (!m) return undefined;
  return Buffer.from([m[1], m[3], m[4], m[5], m[6], m[7]].map((h) => parseInt(h, 16)));
}

/** Lowercase colon-separated text, the form `ip link` prints. */
export function formatMAC(mac: Uint8Array): string {
  if (mac.length !== MAC_LENGTH) throw new RangeError(`a MAC address has 6 bytes, got ${mac.length}`);
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join(":");
}

export function macEquals(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== MAC_LENGTH || b.length !== MAC_LENGTH) return false;
  for (let i = 0; i < MAC_LENGTH; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The I/G bit: set for multicast and broadcast destinations. */
export const isMulticastMAC = (mac: Uint8Array): boolean => mac.length === MAC_LENGTH && (mac[0] & 0x01) === 1;

export const isBroadcastMAC = (mac: Uint8Array): boolean => macEquals(mac, BROADCAST_MAC);

/** A MAC usable as a station's own address: 6 bytes, not multicast/broadcast, not all zero. */
export const isUnicastMAC = (mac: Uint8Array): boolean =>
  mac.length === MAC_LENGTH && !isMulticastMAC(mac) && !macEquals(mac, ZERO_MAC);

/** RFC 2464 §7: an IPv6 multicast address maps to 33:33 followed by its low 32 bits. */
export function ipv6MulticastMAC(group: IP): Buffer {
  if (group.family !== 6 || group.value >> 120n !== 0xffn) throw new RangeError("not an IPv6 multicast address");
  const low = Number(group.value & 0xffffffffn);
  const out = Buffer.alloc(MAC_LENGTH);
  out[0] = 0x33;
  out[1] = 0x33;
  out.writeUInt32BE(low >>> 0, 2);
  return out;
}
