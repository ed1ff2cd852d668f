/**
 * Reads wire bytes into the message model. Decoding is structural only: it
 * fails (with the NOTIFICATION RFC 4271 §6 names) when a message cannot be
 * taken apart, and otherwise reports what it found, including attributes it
 * could not read (`malformed`). What an odd but readable message costs is
 * decided in validate.ts. Never throws.
 */
import { ipFromBytes, type CIDR, type Family, type IP } from "../../../shared/net/ip";
import type { CodecOptions } from "./encode";
import {
  AFI,
  AttrFlag,
  AttrType,
  CapabilityCode,
  HEADER_LENGTH,
  MAX_MESSAGE_LENGTH,
  MessageType,
  OPT_PARAM_CAPABILITIES,
  SAFI,
  bgpError,
  type AsPathSegment,
  type AsPathSegmentType,
  type BgpError,
  type Capability,
  type ExtendedNextHopEntry,
  type GracefulRestartFamily,
  type Message,
  type OpenMessage,
  type PathAttribute,
  type UpdateMessage,
} from "./messages";
import { ErrorCode, HeaderSubcode, OpenSubcode, UpdateSubcode } from "./notification";

export type DecodeResult =
  | { readonly ok: true; readonly message: Message }
  | { readonly ok: false; readonly error: BgpError };

const fail = (error: BgpError): DecodeResult => ({ ok: false, error });

const lengthData = (length: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(length & 0xffff);
  return b;
};

export interface Header {
  readonly length: number;
  readonly type: number;
}

/**
 * Checks the marker and length of a header (RFC 4271 §6.1). Needs at least
 * 19 octets; returns the declared length and type, or the error to send.
 */
export function checkHeader(buf: Buffer): Header | BgpError {
  if (buf.length < HEADER_LENGTH) {
    return bgpError(
      ErrorCode.MESSAGE_HEADER,
      HeaderSubcode.BAD_MESSAGE_LENGTH,
      `only ${buf.length} octets`,
      lengthData(buf.length),
    );
  }
  for (let i = 0; i < 16; i++) {
    if (buf[i] !== 0xff) {
      return bgpError(ErrorCode.MESSAGE_HEADER, HeaderSubcode.CONNECTION_NOT_SYNCHRONIZED, "marker is not all ones");
    }
  }
  const length = buf.readUInt16BE(16);
  if (length < HEADER_LENGTH || length > MAX_MESSAGE_LENGTH) {
    return bgpError(
      ErrorCode.MESSAGE_HEADER,
      HeaderSubcode.BAD_MESSAGE_LENGTH,
      `message length ${length} is outside ${HEADER_LENGTH}..${MAX_MESSAGE_LENGTH}`,
      lengthData(length),
    );
  }
  return { length, type: buf[18]! };
}

/** RFC 4271 §6.1: the length must also suit the type. [min, max] body octets per type. */
const BODY_BOUNDS: Readonly<Record<number, readonly [number, number]>> = {
  [MessageType.OPEN]: [10, MAX_MESSAGE_LENGTH],
  [MessageType.UPDATE]: [4, MAX_MESSAGE_LENGTH],
  [MessageType.NOTIFICATION]: [2, MAX_MESSAGE_LENGTH],
  [MessageType.KEEPALIVE]: [0, 0],
  // RFC 2918 §3 fixes the body at 4 octets.
  [MessageType.ROUTE_REFRESH]: [4, 4],
};

/** Decodes one whole message (as framed by MessageReader). */
export function decodeMessage(frame: Buffer, opts: CodecOptions): DecodeResult {
  const header = checkHeader(frame);
  if ("code" in header) return fail(header);
  if (header.length !== frame.length) {
    return fail(
      bgpError(
        ErrorCode.MESSAGE_HEADER,
        HeaderSubcode.BAD_MESSAGE_LENGTH,
        `length field says ${header.length} octets but the frame has ${frame.length}`,
        lengthData(header.length),
      ),
    );
  }
  const bounds = BODY_BOUNDS[header.type];
  if (!bounds) {
    // RFC 4271 §6.1: data is the bad Type field.
    return fail(
      bgpError(
        ErrorCode.MESSAGE_HEADER,
        HeaderSubcode.BAD_MESSAGE_TYPE,
        `unknown message type ${header.type}`,
        Buffer.from([header.type]),
      ),
    );
  }
  const body = frame.subarray(HEADER_LENGTH);
  if (body.length < bounds[0] || body.length > bounds[1]) {
    return fail(
      bgpError(
        ErrorCode.MESSAGE_HEADER,
        HeaderSubcode.BAD_MESSAGE_LENGTH,
        `length ${header.length} is wrong for message type ${header.type}`,
        lengthData(header.length),
      ),
    );
  }
  switch (header.type) {
    case MessageType.OPEN:
      return decodeOpen(body);
    case MessageType.UPDATE:
      return decodeUpdate(body, opts);
    case MessageType.NOTIFICATION:
      return {
        ok: true,
        message: { type: "notification", code: body[0]!, subcode: body[1]!, data: Buffer.from(body.subarray(2)) },
      };
    case MessageType.KEEPALIVE:
      return { ok: true, message: { type: "keepalive" } };
    default:
      return {
        ok: true,
        message: { type: "route-refresh", afi: body.readUInt16BE(0), subtype: body[2]!, safi: body[3]! },
      };
  }
}

// ---------------------------------------------------------------- OPEN

/** RFC 4271 §6.2: a recognised optional parameter that is malformed gives subcode 0 (Unspecific). */
const openUnspecific = (reason: string): DecodeResult =>
  fail(bgpError(ErrorCode.OPEN_MESSAGE, OpenSubcode.UNSPECIFIC, reason));

function decodeOpen(body: Buffer): DecodeResult {
  const optLength = body[9]!;
  if (10 + optLength !== body.length) {
    return openUnspecific(
      `optional parameters length ${optLength} does not match the message (${body.length - 10} octets follow)`,
    );
  }
  const capabilities: Capability[] = [];
  const otherParameters: { paramType: number; value: Buffer }[] = [];
  let pos = 10;
  while (pos < body.length) {
    if (pos + 2 > body.length) return openUnspecific("truncated optional parameter header");
    const paramType = body[pos]!;
    const paramLength = body[pos + 1]!;
    const end = pos + 2 + paramLength;
    if (end > body.length) return openUnspecific(`optional parameter ${paramType} overruns the message`);
    const value = body.subarray(pos + 2, end);
    if (paramType === OPT_PARAM_CAPABILITIES) {
      const caps = decodeCapabilities(value);
      if (typeof caps === "string") return openUnspecific(caps);
      capabilities.push(...caps);
    } else {
      otherParameters.push({ paramType, value: Buffer.from(value) });
    }
    pos = end;
  }
  const open: OpenMessage = {
    type: "open",
    version: body[0]!,
    myAS: body.readUInt16BE(1),
    holdTime: body.readUInt16BE(3),
    bgpId: ipFromBytes(body.subarray(5, 9)),
    capabilities,
    ...(otherParameters.length > 0 ? { otherParameters } : {}),
  };
  return { ok: true, message: open };
}

/** RFC 5492 §4: a sequence of (code, length, value). Returns a problem string when malformed. */
function decodeCapabilities(buf: Buffer): Capability[] | string {
  const out: Capability[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (pos + 2 > buf.length) return "truncated capability header";
    const code = buf[pos]!;
    const end = pos + 2 + buf[pos + 1]!;
    if (end > buf.length) return `capability ${code} overruns its parameter`;
    const cap = decodeCapability(code, buf.subarray(pos + 2, end));
    if (typeof cap === "string") return cap;
    out.push(cap);
    pos = end;
  }
  return out;
}

function decodeCapability(code: number, value: Buffer): Capability | string {
  switch (code) {
    case CapabilityCode.MULTIPROTOCOL:
      if (value.length !== 4) return `multiprotocol capability has length ${value.length}, want 4`;
      return { type: "multiprotocol", afi: value.readUInt16BE(0), safi: value[3]! };
    case CapabilityCode.ROUTE_REFRESH:
      if (value.length !== 0) return `route refresh capability has length ${value.length}, want 0`;
      return { type: "route-refresh" };
    case CapabilityCode.EXTENDED_NEXT_HOP: {
      // RFC 8950 §4: a list of 6-octet triples.
      if (value.length === 0 || value.length % 6 !== 0)
        return `extended next hop capability has length ${value.length}, want a multiple of 6`;
      const entries: ExtendedNextHopEntry[] = [];
      for (let p = 0; p < value.length; p += 6)
        entries.push({
          afi: value.readUInt16BE(p),
          safi: value.readUInt16BE(p + 2),
          nextHopAfi: value.readUInt16BE(p + 4),
        });
      return { type: "extended-next-hop", entries };
    }
    case CapabilityCode.FOUR_OCTET_AS:
      if (value.length !== 4) return `4-octet AS capability has length ${value.length}, want 4`;
      return { type: "four-octet-as", asn: value.readUInt32BE(0) };
    case CapabilityCode.GRACEFUL_RESTART: {
      if (value.length < 2 || (value.length - 2) % 4 !== 0)
        return `graceful restart capability has length ${value.length}`;
      const head = value.readUInt16BE(0);
      const families: GracefulRestartFamily[] = [];
      for (let p = 2; p < value.length; p += 4) {
        families.push({
          afi: value.readUInt16BE(p),
          safi: value[p + 2]!,
          forwardingState: (value[p + 3]! & 0x80) !== 0,
        });
      }
      return { type: "graceful-restart", restartState: (head & 0x8000) !== 0, restartTime: head & 0x0fff, families };
    }
    default:
      return { type: "unknown", code, value: Buffer.from(value) };
  }
}

// ---------------------------------------------------------------- UPDATE

const updateError = (subcode: number, reason: string, data?: Buffer): DecodeResult =>
  fail(bgpError(ErrorCode.UPDATE_MESSAGE, subcode, reason, data));

function decodeUpdate(body: Buffer, opts: CodecOptions): DecodeResult {
  // RFC 4271 §6.3: lengths that overrun the message are a Malformed Attribute List;
  // RFC 7606 §4 agrees: without them the NLRI cannot be located, so the session resets.
  const withdrawnLength = body.readUInt16BE(0);
  if (2 + withdrawnLength + 2 > body.length) {
    return updateError(
      UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
      `withdrawn routes length ${withdrawnLength} overruns the message`,
    );
  }
  const attrStart = 2 + withdrawnLength + 2;
  const attrLength = body.readUInt16BE(2 + withdrawnLength);
  const attrEnd = attrStart + attrLength;
  if (attrEnd > body.length) {
    return updateError(
      UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
      `total path attribute length ${attrLength} overruns the message`,
    );
  }
  // RFC 7606 §5.3: NLRI that cannot be parsed cannot be withdrawn either: session reset.
  const withdrawn = decodePrefixes(body.subarray(2, 2 + withdrawnLength), 4);
  if (typeof withdrawn === "string")
    return updateError(UpdateSubcode.INVALID_NETWORK_FIELD, `withdrawn routes: ${withdrawn}`);
  const nlri = decodePrefixes(body.subarray(attrEnd), 4);
  if (typeof nlri === "string") return updateError(UpdateSubcode.INVALID_NETWORK_FIELD, `NLRI: ${nlri}`);

  const attributes: PathAttribute[] = [];
  let attributeListProblem: string | undefined;
  let pos = attrStart;
  while (pos < attrEnd) {
    // RFC 7606 §4: too few octets for an attribute header, or an attribute that
    // overruns the Total Path Attribute Length, is noted here (treat-as-withdraw).
    const flags = body[pos]!;
    const headerLength = flags & AttrFlag.EXTENDED_LENGTH ? 4 : 3;
    if (attrEnd - pos < headerLength) {
      attributeListProblem = `${attrEnd - pos} octet(s) left, too few for an attribute header`;
      break;
    }
    const code = body[pos + 1]!;
    const length = headerLength === 4 ? body.readUInt16BE(pos + 2) : body[pos + 2]!;
    const end = pos + headerLength + length;
    if (end > attrEnd) {
      attributeListProblem = `attribute ${code} of length ${length} overruns the path attributes`;
      break;
    }
    attributes.push(decodeAttribute(code, flags, body.subarray(pos + headerLength, end), opts));
    pos = end;
  }
  const update: UpdateMessage = {
    type: "update",
    withdrawn,
    attributes,
    nlri,
    ...(attributeListProblem !== undefined ? { attributeListProblem } : {}),
  };
  return { ok: true, message: update };
}

/** Scratch for decodePrefixes: one address at a time, so no allocation per prefix. */
const prefixScratch = Buffer.alloc(16);

/**
 * RFC 4271 §4.3 prefix list for one family; a problem string when a length or the data
 * is wrong. Hot when a peer sends a large table: the address is read as 32-bit words
 * (one BigInt per word, not per octet) from a reused buffer.
 */
export function decodePrefixes(buf: Buffer, family: Family): CIDR[] | string {
  const maxBits = family === 4 ? 32 : 128;
  const out: CIDR[] = [];
  const b = prefixScratch;
  let pos = 0;
  while (pos < buf.length) {
    const prefixLength = buf[pos]!;
    if (prefixLength > maxBits) return `prefix length ${prefixLength} exceeds ${maxBits}`;
    const octets = Math.ceil(prefixLength / 8);
    if (pos + 1 + octets > buf.length) return `prefix /${prefixLength} is truncated`;
    b.fill(0);
    buf.copy(b, 0, pos + 1, pos + 1 + octets);
    // Trailing bits past the prefix length are irrelevant (RFC 4271 §4.3); drop them.
    if (prefixLength % 8 !== 0) b[octets - 1]! &= (0xff << (8 - (prefixLength % 8))) & 0xff;
    const base =
      family === 4
        ? BigInt(b.readUInt32BE(0))
        : (BigInt(b.readUInt32BE(0)) << 96n) |
          (BigInt(b.readUInt32BE(4)) << 64n) |
          (BigInt(b.readUInt32BE(8)) << 32n) |
          BigInt(b.readUInt32BE(12));
    out.push({ family, base, prefixLength });
    pos += 1 + octets;
  }
  return out;
}

const malformed = (code: number, flags: number, value: Buffer, problem: string): PathAttribute => ({
  type: "malformed",
  code,
  flags,
  value: Buffer.from(value),
  problem,
});

const SEGMENT_TYPES: Readonly<Record<number, AsPathSegmentType>> = {
  1: "set",
  2: "sequence",
  3: "confed-sequence",
  4: "confed-set",
};

/** RFC 4271 §4.3 / RFC 6793 §3 / RFC 7606 §7.2: segments of (type, count, AS numbers). */
function decodeAsPath(value: Buffer, asSize: 2 | 4): AsPathSegment[] | string {
  const segments: AsPathSegment[] = [];
  let pos = 0;
  while (pos < value.length) {
    if (pos + 2 > value.length) return "a single octet trails the last segment";
    const type = SEGMENT_TYPES[value[pos]!];
    if (!type) return `unrecognised segment type ${value[pos]}`;
    const count = value[pos + 1]!;
    if (count === 0) return "segment of length zero";
    const end = pos + 2 + count * asSize;
    if (end > value.length) return "segment overruns the attribute";
    const asns: number[] = [];
    for (let p = pos + 2; p < end; p += asSize) asns.push(asSize === 4 ? value.readUInt32BE(p) : value.readUInt16BE(p));
    segments.push({ type, asns });
    pos = end;
  }
  return segments;
}

const readIP = (value: Buffer): IP => ipFromBytes(value);

/** AFI/SAFI pairs whose NLRI we parse; others are kept verbatim. */
const prefixFamily = (afi: number, safi: number): Family | undefined =>
  safi !== SAFI.UNICAST ? undefined : afi === AFI.IPV4 ? 4 : afi === AFI.IPV6 ? 6 : undefined;

function decodeAttribute(code: number, flags: number, value: Buffer, opts: CodecOptions): PathAttribute {
  const len = value.length;
  const bad = (problem: string): PathAttribute => malformed(code, flags, value, problem);
  switch (code) {
    case AttrType.ORIGIN:
      return len === 1 ? { type: "origin", flags, origin: value[0]! } : bad(`ORIGIN length ${len}, want 1`);
    case AttrType.AS_PATH:
    case AttrType.AS4_PATH: {
      const segments = decodeAsPath(value, code === AttrType.AS4_PATH || opts.fourOctetAS ? 4 : 2);
      if (typeof segments === "string") return bad(segments);
      return { type: code === AttrType.AS_PATH ? "as-path" : "as4-path", flags, segments };
    }
    case AttrType.NEXT_HOP:
      return len === 4 ? { type: "next-hop", flags, nextHop: readIP(value) } : bad(`NEXT_HOP length ${len}, want 4`);
    case AttrType.MULTI_EXIT_DISC:
      return len === 4
        ? { type: "med", flags, med: value.readUInt32BE(0) }
        : bad(`MULTI_EXIT_DISC length ${len}, want 4`);
    case AttrType.LOCAL_PREF:
      return len === 4
        ? { type: "local-pref", flags, localPref: value.readUInt32BE(0) }
        : bad(`LOCAL_PREF length ${len}, want 4`);
    case AttrType.ATOMIC_AGGREGATE:
      return len === 0 ? { type: "atomic-aggregate", flags } : bad(`ATOMIC_AGGREGATE length ${len}, want 0`);
    case AttrType.AGGREGATOR: {
      const asSize = opts.fourOctetAS ? 4 : 2;
      if (len !== asSize + 4) return bad(`AGGREGATOR length ${len}, want ${asSize + 4}`);
      const asn = asSize === 4 ? value.readUInt32BE(0) : value.readUInt16BE(0);
      return { type: "aggregator", flags, asn, address: readIP(value.subarray(asSize)) };
    }
    case AttrType.AS4_AGGREGATOR:
      if (len !== 8) return bad(`AS4_AGGREGATOR length ${len}, want 8`);
      return { type: "as4-aggregator", flags, asn: value.readUInt32BE(0), address: readIP(value.subarray(4)) };
    case AttrType.COMMUNITIES: {
      // RFC 7606 §7.8: a non-zero multiple of 4.
      if (len === 0 || len % 4 !== 0) return bad(`COMMUNITIES length ${len} is not a non-zero multiple of 4`);
      const communities: number[] = [];
      for (let p = 0; p < len; p += 4) communities.push(value.readUInt32BE(p));
      return { type: "communities", flags, communities };
    }
    case AttrType.LARGE_COMMUNITY: {
      // RFC 8092 §6: a non-zero multiple of 12.
      if (len === 0 || len % 12 !== 0) return bad(`LARGE_COMMUNITY length ${len} is not a non-zero multiple of 12`);
      const communities = [];
      for (let p = 0; p < len; p += 12) {
        communities.push({
          globalAdmin: value.readUInt32BE(p),
          localData1: value.readUInt32BE(p + 4),
          localData2: value.readUInt32BE(p + 8),
        });
      }
      return { type: "large-communities", flags, communities };
    }
    case AttrType.ORIGINATOR_ID:
      // RFC 7606 §7.9: exactly 4 octets.
      return len === 4
        ? { type: "originator-id", flags, originatorId: readIP(value) }
        : bad(`ORIGINATOR_ID length ${len}, want 4`);
    case AttrType.CLUSTER_LIST: {
      // RFC 7606 §7.10: a non-zero multiple of 4.
      if (len === 0 || len % 4 !== 0) return bad(`CLUSTER_LIST length ${len} is not a non-zero multiple of 4`);
      const clusterIds: IP[] = [];
      for (let p = 0; p < len; p += 4) clusterIds.push(readIP(value.subarray(p, p + 4)));
      return { type: "cluster-list", flags, clusterIds };
    }
    case AttrType.EXTENDED_COMMUNITIES: {
      // RFC 7606 §7.14: a non-zero multiple of 8.
      if (len === 0 || len % 8 !== 0) return bad(`EXTENDED_COMMUNITIES length ${len} is not a non-zero multiple of 8`);
      const communities: bigint[] = [];
      for (let p = 0; p < len; p += 8) communities.push(value.readBigUInt64BE(p));
      return { type: "extended-communities", flags, communities };
    }
    case AttrType.OTC:
      // RFC 9234 §5: one 4-octet AS number.
      return len === 4 ? { type: "otc", flags, asn: value.readUInt32BE(0) } : bad(`OTC length ${len}, want 4`);
    case AttrType.MP_REACH_NLRI:
      return decodeMpReach(flags, value);
    case AttrType.MP_UNREACH_NLRI: {
      if (len < 3) return bad(`MP_UNREACH_NLRI length ${len}, want at least 3`);
      const afi = value.readUInt16BE(0);
      const safi = value[2]!;
      const family = prefixFamily(afi, safi);
      if (family === undefined) return { type: "unknown", code, flags, value: Buffer.from(value) };
      const withdrawn = decodePrefixes(value.subarray(3), family);
      if (typeof withdrawn === "string") return bad(`MP_UNREACH_NLRI withdrawn routes: ${withdrawn}`);
      return { type: "mp-unreach", flags, afi, safi, withdrawn };
    }
    default:
      return { type: "unknown", code, flags, value: Buffer.from(value) };
  }
}

/**
 * RFC 4760 §3; next hop lengths per RFC 2545 §3 (IPv6: 16, or 32 with a link-local), and for
 * IPv4 NLRI also 16 or 32: an IPv6 next hop (RFC 8950 §3, BGP unnumbered).
 */
function decodeMpReach(flags: number, value: Buffer): PathAttribute {
  const code = AttrType.MP_REACH_NLRI;
  const bad = (problem: string): PathAttribute => malformed(code, flags, value, problem);
  if (value.length < 5) return bad(`MP_REACH_NLRI length ${value.length}, want at least 5`);
  const afi = value.readUInt16BE(0);
  const safi = value[2]!;
  const nhLength = value[3]!;
  const nlriStart = 4 + nhLength + 1;
  if (nlriStart > value.length) return bad(`next hop length ${nhLength} overruns the attribute`);
  const family = prefixFamily(afi, safi);
  if (family === undefined) return { type: "unknown", code, flags, value: Buffer.from(value) };
  const allowed = family === 4 ? [4, 16, 32] : [16, 32];
  if (!allowed.includes(nhLength)) return bad(`next hop length ${nhLength} is wrong for AFI ${afi}`);
  const width = nhLength === 4 ? 4 : 16;
  const nextHops: IP[] = [];
  for (let p = 4; p < 4 + nhLength; p += width) nextHops.push(readIP(value.subarray(p, p + width)));
  const nlri = decodePrefixes(value.subarray(nlriStart), family);
  if (typeof nlri === "string") return bad(`MP_REACH_NLRI NLRI: ${nlri}`);
  return { type: "mp-reach", flags, afi, safi, nextHops, nlri };
}
