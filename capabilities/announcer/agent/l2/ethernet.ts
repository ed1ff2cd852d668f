/**
 * Ethernet II framing (IEEE 802.3 with an EtherType, as ARP and IPv6 use it),
 * with optional 802.1Q / 802.1ad VLAN tags. No FCS: AF_PACKET frames start at
 * the destination MAC and the NIC adds and strips the checksum. Pure: no I/O.
 */
import { MAC_LENGTH } from "./mac";

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
/** IEEE 802.1Q customer VLAN tag. */
export const ETHERTYPE_VLAN = 0x8100;
/** IEEE 802.1ad service VLAN tag (QinQ outer tag). */
export const ETHERTYPE_QINQ = 0x88a8;

export const ETHERNET_HEADER_LENGTH = 14;
/** Shortest frame on the wire without the 4-byte FCS; shorter frames are padded with zeros. */
export const ETHERNET_MIN_FRAME = 60;

export interface VlanTag {
  /** The tag's own EtherType (0x8100 or 0x88a8). */
  readonly tpid: number;
  /** Priority code point, 0..7. */
  readonly pcp: number;
  /** Drop eligible indicator. */
  readonly dei: boolean;
  /** VLAN ID, 0..4095. */
  readonly vid: number;
}

export interface EthernetFrame {
  readonly dst: Buffer;
  readonly src: Buffer;
  /** The EtherType of the payload, after any VLAN tags. */
  readonly etherType: number;
  /** VLAN tags in wire order (outermost first); empty when the frame is untagged. */
  readonly vlans: readonly VlanTag[];
  /** Everything after the header, including any padding the sender added. */
  readonly payload: Buffer;
}

const isTagType = (t: number): boolean => t === ETHERTYPE_VLAN || t === ETHERTYPE_QINQ;

/**
 * Decodes an Ethernet II frame. Returns undefined when the frame is too short, when a
 * VLAN tag is truncated, or when the type field is an 802.3 length (< 0x0600) rather
 * than an EtherType. The returned buffers are views into `frame` (no copy).
 */
export function decodeEthernet(frame: Buffer): EthernetFrame | undefined {
  if (frame.length < ETHERNET_HEADER_LENGTH) return undefined;
  const dst = frame.subarray(0, MAC_LENGTH);
  const src = frame.subarray(MAC_LENGTH, 2 * MAC_LENGTH);
  let offset = 2 * MAC_LENGTH;
  let type = frame.readUInt16BE(offset);
  offset += 2;
  const vlans: VlanTag[] = [];
  while (isTagType(type)) {
    if (frame.length < offset + 4) return undefined;
    const tci = frame.readUInt16BE(offset);
    vlans.push({ tpid: type, pcp: tci >> 13, dei: (tci & 0x1000) !== 0, vid: tci & 0x0fff });
    type = frame.readUInt16BE(offset + 2);
    offset += 4;
  }
  if (type < 0x0600) return undefined;
  return { dst, src, etherType: type, vlans, payload: frame.subarray(offset) };
}

export interface EthernetFrameInput {
  readonly dst: Uint8Array;
  readonly src: Uint8Array;
  readonly etherType: number;
  readonly vlans?: readonly Pick<VlanTag, "vid">[] | readonly VlanTag[];
  readonly payload: Uint8Array;
}

/** Encodes a frame, zero-padding it to the 60-byte minimum. */
export function encodeEthernet(f: EthernetFrameInput): Buffer {
  if (f.dst.length !== MAC_LENGTH || f.src.length !== MAC_LENGTH)
    throw new RangeError("Ethernet addresses have 6 bytes");
  if (!Number.isInteger(f.etherType) || f.etherType < 0x0600 || f.etherType > 0xffff) {
    throw new RangeError(`invalid EtherType 0x${f.etherType.toString(16)}`);
  }
  const vlans = f.vlans ?? [];
  const headerLength = ETHERNET_HEADER_LENGTH + 4 * vlans.length;
  const out = Buffer.alloc(Math.max(ETHERNET_MIN_FRAME, headerLength + f.payload.length));
  out.set(f.dst, 0);
  out.set(f.src, MAC_LENGTH);
  let offset = 2 * MAC_LENGTH;
  for (const tag of vlans) {
    const full = tag as Partial<VlanTag>;
    if (!Number.isInteger(tag.vid) || tag.vid < 0 || tag.vid > 0x0fff)
      throw new RangeError(`invalid VLAN ID ${tag.vid}`);
    const pcp = full.pcp ?? 0;
    out.writeUInt16BE(full.tpid ?? ETHERTYPE_VLAN, offset);
    out.writeUInt16BE(((pcp & 7) << 13) | (full.dei ? 0x1000 : 0) | tag.vid, offset + 2);
    offset += 4;
  }
  out.writeUInt16BE(f.etherType, offset);
  out.set(f.payload, headerLength);
  return out;
}
