/**
 * Writes BGP messages (RFC 4271 §4) to wire bytes. Encoding trusts its input's
 * shape (types enforce it) and throws RangeError for values that cannot be
 * represented (a caller bug); it never validates protocol semantics.
 */
import { ipToBytes, type CIDR, type IP } from "../../../shared/net/ip";
import {
  AS_PATH_SEGMENT_CODES,
  AS_TRANS,
  AttrFlag,
  AttrType,
  CapabilityCode,
  HEADER_LENGTH,
  MAX_MESSAGE_LENGTH,
  MessageType,
  OPT_PARAM_CAPABILITIES,
  type AsPathSegment,
  type Capability,
  type Message,
  type OpenMessage,
  type PathAttribute,
  type UpdateMessage,
} from "./messages";

export interface CodecOptions {
  /** Both sides advertised the 4-octet AS capability (RFC 6793 §3): AS numbers are 4 octets in AS_PATH/AGGREGATOR. */
  readonly fourOctetAS: boolean;
}

const u8 = (v: number): Buffer => {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`${v} does not fit in one octet`);
  return Buffer.from([v]);
};
const u16 = (v: number): Buffer => {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`${v} does not fit in two octets`);
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
};
const u32 = (v: number): Buffer => {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${v} does not fit in four octets`);
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
};

const u64 = (v: bigint): Buffer => {
  if (v < 0n || v > 0xffffffffffffffffn) throw new RangeError(`${v} does not fit in eight octets`);
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(v);
  return b;
};

/** RFC 4271 §4.3: a prefix is its length in bits and the fewest octets that hold it. */
export const prefixWireLength = (prefix: CIDR): number => 1 + Math.ceil(prefix.prefixLength / 8);

export function encodePrefix(prefix: CIDR): Buffer {
  const bytes = ipToBytes({ family: prefix.family, value: prefix.base });
  return Buffer.concat([u8(prefix.prefixLength), bytes.subarray(0, Math.ceil(prefix.prefixLength / 8))]);
}

const encodePrefixes = (prefixes: readonly CIDR[]): Buffer => Buffer.concat(prefixes.map(encodePrefix));

function ipv4Bytes(ip: IP, what: string): Buffer {
  if (ip.family !== 4) throw new RangeError(`${what} must be an IPv4 address`);
  return ipToBytes(ip);
}

/** RFC 6793 §4.2.2: toward a 2-octet speaker, an AS that needs 4 octets is written as AS_TRANS. */
const asn = (value: number, fourOctet: boolean): Buffer =>
  fourOctet ? u32(value) : u16(value > 0xffff ? AS_TRANS : value);

function encodeAsPath(segments: readonly AsPathSegment[], fourOctet: boolean): Buffer {
  const parts: Buffer[] = [];
  for (const seg of segments) {
    if (seg.asns.length === 0 || seg.asns.length > 255)
      throw new RangeError("an AS_PATH segment holds 1..255 AS numbers");
    parts.push(u8(AS_PATH_SEGMENT_CODES[seg.type]), u8(seg.asns.length), ...seg.asns.map((a) => asn(a, fourOctet)));
  }
  return Buffer.concat(parts);
}

/** The flags RFC 4271 §5 and the attribute's own RFC assign. */
export function defaultAttributeFlags(code: number): number {
  switch (code) {
    case AttrType.ORIGIN:
    case AttrType.AS_PATH:
    case AttrType.NEXT_HOP:
    case AttrType.LOCAL_PREF:
    case AttrType.ATOMIC_AGGREGATE:
      return AttrFlag.TRANSITIVE; // well-known
    case AttrType.MULTI_EXIT_DISC:
    case AttrType.ORIGINATOR_ID:
    case AttrType.CLUSTER_LIST:
    case AttrType.MP_REACH_NLRI:
    case AttrType.MP_UNREACH_NLRI:
      return AttrFlag.OPTIONAL; // optional non-transitive
    default:
      return AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE;
  }
}

const ATTRIBUTE_CODES: Readonly<Record<Exclude<PathAttribute["type"], "unknown" | "malformed">, number>> = {
  origin: AttrType.ORIGIN,
  "as-path": AttrType.AS_PATH,
  "next-hop": AttrType.NEXT_HOP,
  med: AttrType.MULTI_EXIT_DISC,
  "local-pref": AttrType.LOCAL_PREF,
  "atomic-aggregate": AttrType.ATOMIC_AGGREGATE,
  aggregator: AttrType.AGGREGATOR,
  communities: AttrType.COMMUNITIES,
  "large-communities": AttrType.LARGE_COMMUNITY,
  "as4-path": AttrType.AS4_PATH,
  "as4-aggregator": AttrType.AS4_AGGREGATOR,
  "originator-id": AttrType.ORIGINATOR_ID,
  "cluster-list": AttrType.CLUSTER_LIST,
  "extended-communities": AttrType.EXTENDED_COMMUNITIES,
  otc: AttrType.OTC,
  "mp-reach": AttrType.MP_REACH_NLRI,
  "mp-unreach": AttrType.MP_UNREACH_NLRI,
};

/** The type code of any attribute. */
export const attributeCode = (attr: PathAttribute): number =>
  attr.type === "unknown" || attr.type === "malformed" ? attr.code : ATTRIBUTE_CODES[attr.type];

function attributeValue(attr: PathAttribute, opts: CodecOptions): Buffer {
  switch (attr.type) {
    case "origin":
      return u8(attr.origin);
    case "as-path":
      return encodeAsPath(attr.segments, opts.fourOctetAS);
    case "as4-path":
      return encodeAsPath(attr.segments, true); // RFC 6793 §3: always 4-octet
    case "next-hop":
      return ipv4Bytes(attr.nextHop, "NEXT_HOP");
    case "med":
      return u32(attr.med);
    case "local-pref":
      return u32(attr.localPref);
    case "atomic-aggregate":
      return Buffer.alloc(0);
    case "aggregator":
      return Buffer.concat([asn(attr.asn, opts.fourOctetAS), ipv4Bytes(attr.address, "AGGREGATOR address")]);
    case "as4-aggregator":
      return Buffer.concat([u32(attr.asn), ipv4Bytes(attr.address, "AS4_AGGREGATOR address")]);
    case "communities":
      return Buffer.concat(attr.communities.map(u32));
    case "large-communities":
      return Buffer.concat(attr.communities.flatMap((c) => [u32(c.globalAdmin), u32(c.localData1), u32(c.localData2)]));
    case "originator-id":
      return ipv4Bytes(attr.originatorId, "ORIGINATOR_ID");
    case "cluster-list":
      return Buffer.concat(attr.clusterIds.map((id) => ipv4Bytes(id, "CLUSTER_ID")));
    case "extended-communities":
      return Buffer.concat(attr.communities.map(u64));
    case "otc":
      return u32(attr.asn);
    case "mp-reach": {
      // RFC 4760 §3: AFI, SAFI, next-hop length + next hop, one reserved octet, NLRI.
      const nh = Buffer.concat(attr.nextHops.map(ipToBytes));
      return Buffer.concat([u16(attr.afi), u8(attr.safi), u8(nh.length), nh, u8(0), encodePrefixes(attr.nlri)]);
    }
    case "mp-unreach":
      // RFC 4760 §4: AFI, SAFI, withdrawn routes.
      return Buffer.concat([u16(attr.afi), u8(attr.safi), encodePrefixes(attr.withdrawn)]);
    case "unknown":
    case "malformed":
      return attr.value;
  }
}

/** One path attribute: flags, type, 1- or 2-octet length (Extended Length when > 255, RFC 4271 §4.3), value. */
export function encodeAttribute(attr: PathAttribute, opts: CodecOptions): Buffer {
  const code = attributeCode(attr);
  const value = attributeValue(attr, opts);
  let flags = attr.flags ?? defaultAttributeFlags(code);
  const extended = value.length > 255 || (flags & AttrFlag.EXTENDED_LENGTH) !== 0;
  flags = extended ? flags | AttrFlag.EXTENDED_LENGTH : flags & ~AttrFlag.EXTENDED_LENGTH;
  return Buffer.concat([u8(flags), u8(code), extended ? u16(value.length) : u8(value.length), value]);
}

/** One capability TLV (RFC 5492 §4). */
export function encodeCapability(cap: Capability): Buffer {
  let code: number;
  let value: Buffer;
  switch (cap.type) {
    case "multiprotocol": // RFC 4760 §8: AFI, reserved, SAFI
      code = CapabilityCode.MULTIPROTOCOL;
      value = Buffer.concat([u16(cap.afi), u8(0), u8(cap.safi)]);
      break;
    case "route-refresh": // RFC 2918 §2: no value
      code = CapabilityCode.ROUTE_REFRESH;
      value = Buffer.alloc(0);
      break;
    case "extended-next-hop": // RFC 8950 §4: NLRI AFI (2), NLRI SAFI (2, not 1), next hop AFI (2) per entry
      code = CapabilityCode.EXTENDED_NEXT_HOP;
      value = Buffer.concat(cap.entries.flatMap((e) => [u16(e.afi), u16(e.safi), u16(e.nextHopAfi)]));
      break;
    case "four-octet-as": // RFC 6793 §3
      code = CapabilityCode.FOUR_OCTET_AS;
      value = u32(cap.asn);
      break;
    case "graceful-restart": {
      // RFC 4724 §3: 4 flag bits (R = 0x8) + 12-bit restart time, then AFI, SAFI, flags (F = 0x80) per family.
      if (cap.restartTime < 0 || cap.restartTime > 0xfff) throw new RangeError("restart time is 0..4095 s");
      code = CapabilityCode.GRACEFUL_RESTART;
      value = Buffer.concat([
        u16((cap.restartState ? 0x8000 : 0) | cap.restartTime),
        ...cap.families.flatMap((f) => [u16(f.afi), u8(f.safi), u8(f.forwardingState ? 0x80 : 0)]),
      ]);
      break;
    }
    case "unknown":
      code = cap.code;
      value = cap.value;
      break;
  }
  return Buffer.concat([u8(code), u8(value.length), value]);
}

function openBody(msg: OpenMessage): Buffer {
  // RFC 5492 §4: each capability in its own Capabilities optional parameter.
  const params = [
    ...msg.capabilities.map((c) => {
      const tlv = encodeCapability(c);
      return Buffer.concat([u8(OPT_PARAM_CAPABILITIES), u8(tlv.length), tlv]);
    }),
    ...(msg.otherParameters ?? []).map((p) => Buffer.concat([u8(p.paramType), u8(p.value.length), p.value])),
  ];
  const opt = Buffer.concat(params);
  return Buffer.concat([
    u8(msg.version),
    u16(msg.myAS),
    u16(msg.holdTime),
    ipv4Bytes(msg.bgpId, "BGP Identifier"),
    u8(opt.length),
    opt,
  ]);
}

function updateBody(msg: UpdateMessage, opts: CodecOptions): Buffer {
  // RFC 4271 §4.3: withdrawn length, withdrawn routes, total attribute length, attributes, NLRI.
  const withdrawn = encodePrefixes(msg.withdrawn);
  const attrs = Buffer.concat(msg.attributes.map((a) => encodeAttribute(a, opts)));
  return Buffer.concat([u16(withdrawn.length), withdrawn, u16(attrs.length), attrs, encodePrefixes(msg.nlri)]);
}

const TYPE_CODES = {
  open: MessageType.OPEN,
  update: MessageType.UPDATE,
  notification: MessageType.NOTIFICATION,
  keepalive: MessageType.KEEPALIVE,
  "route-refresh": MessageType.ROUTE_REFRESH,
} as const;

/** A whole message with its 19-octet header (RFC 4271 §4.1). */
export function encodeMessage(msg: Message, opts: CodecOptions = { fourOctetAS: true }): Buffer {
  let body: Buffer;
  switch (msg.type) {
    case "open":
      body = openBody(msg);
      break;
    case "update":
      body = updateBody(msg, opts);
      break;
    case "notification":
      body = Buffer.concat([u8(msg.code), u8(msg.subcode), msg.data]);
      break;
    case "keepalive":
      body = Buffer.alloc(0);
      break;
    case "route-refresh": // RFC 2918 §3: AFI, reserved/subtype, SAFI
      body = Buffer.concat([u16(msg.afi), u8(msg.subtype ?? 0), u8(msg.safi)]);
      break;
  }
  const length = HEADER_LENGTH + body.length;
  if (length > MAX_MESSAGE_LENGTH)
    throw new RangeError(`a ${msg.type} of ${length} octets exceeds ${MAX_MESSAGE_LENGTH}`);
  return Buffer.concat([Buffer.alloc(16, 0xff), u16(length), u8(TYPE_CODES[msg.type]), body]);
}
