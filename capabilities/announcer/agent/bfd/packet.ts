/**
 * BFD Control packets (RFC 5880 §4.1): encode, decode, and the reception checks of
 * §6.8.6 that do not need session state. Pure; no sockets.
 *
 * - Intervals are carried in microseconds on the wire and kept in microseconds here.
 * - The Authentication Section (§4.2-§4.4) is decoded to its type, length and key id
 *   and checked for the length its type requires, but never verified: MetalLB's
 *   BFDProfile has no authentication field, so no session of ours is configured with
 *   it, and §6.8.6 then says a packet with the A bit set is discarded.
 * - `decode` never throws; every malformed input is a typed error with a reason.
 */

export const BFD_VERSION = 1;
/** §4.1: the mandatory section; §6.8.6: a packet shorter than this is discarded. */
export const MIN_LENGTH = 24;
/** §6.8.6: with the A bit set the Length must cover at least a 2-octet auth header. */
export const MIN_LENGTH_AUTH = 26;

/** §4.1 State (Sta). */
export enum BfdState {
  AdminDown = 0,
  Down = 1,
  Init = 2,
  Up = 3,
}

export const STATE_NAMES: Readonly<Record<BfdState, "AdminDown" | "Down" | "Init" | "Up">> = {
  [BfdState.AdminDown]: "AdminDown",
  [BfdState.Down]: "Down",
  [BfdState.Init]: "Init",
  [BfdState.Up]: "Up",
};

/** §4.1 Diagnostic codes (9-31 reserved). */
export enum Diag {
  None = 0,
  ControlDetectionTimeExpired = 1,
  EchoFunctionFailed = 2,
  NeighborSignaledSessionDown = 3,
  ForwardingPlaneReset = 4,
  PathDown = 5,
  ConcatenatedPathDown = 6,
  AdministrativelyDown = 7,
  ReverseConcatenatedPathDown = 8,
}

const DIAG_TEXT: Readonly<Record<number, string>> = {
  0: "no diagnostic",
  1: "control detection time expired",
  2: "echo function failed",
  3: "neighbor signaled session down",
  4: "forwarding plane reset",
  5: "path down",
  6: "concatenated path down",
  7: "administratively down",
  8: "reverse concatenated path down",
};

export const describeDiag = (d: number): string => DIAG_TEXT[d] ?? `reserved diagnostic ${d}`;

/** §4.2 Auth Type. */
export enum AuthType {
  SimplePassword = 1,
  KeyedMD5 = 2,
  MeticulousKeyedMD5 = 3,
  KeyedSHA1 = 4,
  MeticulousKeyedSHA1 = 5,
}

export interface AuthSection {
  readonly type: number;
  /** Auth Len as sent: the whole section including type and length octets. */
  readonly length: number;
  readonly keyId: number;
  /** Everything after Auth Key ID (password, or reserved + sequence + digest). */
  readonly data: Buffer;
}

export interface ControlPacket {
  readonly version: number;
  readonly diag: number;
  readonly state: BfdState;
  /** Poll (P). */
  readonly poll: boolean;
  /** Final (F). */
  readonly final: boolean;
  /** Control Plane Independent (C). */
  readonly cpi: boolean;
  /** Authentication Present (A): true exactly when `auth` is set. */
  readonly auth?: AuthSection;
  /** Demand (D). */
  readonly demand: boolean;
  /** Multipoint (M): must be zero (§4.1). */
  readonly multipoint: boolean;
  readonly detectMult: number;
  readonly myDiscriminator: number;
  readonly yourDiscriminator: number;
  /** Microseconds. */
  readonly desiredMinTxUs: number;
  /** Microseconds; 0 means "do not send me periodic packets" (§6.8.1). */
  readonly requiredMinRxUs: number;
  /** Microseconds; 0 means the sender does not loop Echo packets. */
  readonly requiredMinEchoRxUs: number;
}

/** Fills the fields a sender rarely changes. */
export function controlPacket(
  p: Pick<
    ControlPacket,
    "state" | "detectMult" | "myDiscriminator" | "yourDiscriminator" | "desiredMinTxUs" | "requiredMinRxUs"
  > &
    Partial<ControlPacket>,
): ControlPacket {
  return {
    version: BFD_VERSION,
    diag: Diag.None,
    poll: false,
    final: false,
    cpi: false,
    demand: false,
    multipoint: false,
    requiredMinEchoRxUs: 0,
    ...p,
  };
}

export function encode(p: ControlPacket): Buffer {
  const authLen = p.auth ? p.auth.length : 0;
  const buf = Buffer.alloc(MIN_LENGTH + authLen);
  buf[0] = ((p.version & 0x7) << 5) | (p.diag & 0x1f);
  buf[1] =
    ((p.state & 0x3) << 6) |
    (p.poll ? 0x20 : 0) |
    (p.final ? 0x10 : 0) |
    (p.cpi ? 0x08 : 0) |
    (p.auth ? 0x04 : 0) |
    (p.demand ? 0x02 : 0) |
    (p.multipoint ? 0x01 : 0);
  buf[2] = p.detectMult & 0xff;
  buf[3] = buf.length;
  buf.writeUInt32BE(p.myDiscriminator >>> 0, 4);
  buf.writeUInt32BE(p.yourDiscriminator >>> 0, 8);
  buf.writeUInt32BE(p.desiredMinTxUs >>> 0, 12);
  buf.writeUInt32BE(p.requiredMinRxUs >>> 0, 16);
  buf.writeUInt32BE(p.requiredMinEchoRxUs >>> 0, 20);
  if (p.auth) {
    buf[24] = p.auth.type;
    buf[25] = p.auth.length;
    if (p.auth.length > 2) buf[26] = p.auth.keyId;
    p.auth.data.copy(buf, 27, 0, Math.max(0, p.auth.length - 3));
  }
  return buf;
}

export type DecodeResult =
  | { readonly ok: true; readonly packet: ControlPacket }
  | { readonly ok: false; readonly reason: string };

const fail = (reason: string): DecodeResult => ({ ok: false, reason });

/**
 * §4.2-§4.4: the Auth Len each type requires. Simple Password: 3 + 1..16 octets of
 * password; Keyed/Meticulous MD5: 24; Keyed/Meticulous SHA1: 28.
 */
function authLengthError(type: number, len: number): string | undefined {
  switch (type) {
    case AuthType.SimplePassword:
      return len >= 4 && len <= 19 ? undefined : `simple password auth length ${len} is not 4-19`;
    case AuthType.KeyedMD5:
    case AuthType.MeticulousKeyedMD5:
      return len === 24 ? undefined : `MD5 auth length ${len} is not 24`;
    case AuthType.KeyedSHA1:
    case AuthType.MeticulousKeyedSHA1:
      return len === 28 ? undefined : `SHA1 auth length ${len} is not 28`;
    default:
      return `unknown auth type ${type}`;
  }
}

/**
 * Parses one datagram and applies the session-independent discards of §6.8.6:
 * version, Length against the A bit and the datagram, Detect Mult zero, Multipoint,
 * My Discriminator zero, Your Discriminator zero outside Down/AdminDown.
 * Octets after Length (padding) are ignored.
 */
export function decode(datagram: Uint8Array): DecodeResult {
  const buf = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  if (buf.length < MIN_LENGTH) return fail(`packet of ${buf.length} octets is shorter than ${MIN_LENGTH}`);
  const version = buf[0]! >> 5;
  if (version !== BFD_VERSION) return fail(`version ${version} is not ${BFD_VERSION}`);
  const flags = buf[1]!;
  const authPresent = (flags & 0x04) !== 0;
  const length = buf[3]!;
  const min = authPresent ? MIN_LENGTH_AUTH : MIN_LENGTH;
  if (length < min) return fail(`length ${length} is less than ${min}`);
  if (length > buf.length) return fail(`length ${length} exceeds the ${buf.length}-octet payload`);
  const detectMult = buf[2]!;
  if (detectMult === 0) return fail("detect mult is zero");
  if (flags & 0x01) return fail("multipoint bit is set");
  const myDiscriminator = buf.readUInt32BE(4);
  if (myDiscriminator === 0) return fail("my discriminator is zero");
  const yourDiscriminator = buf.readUInt32BE(8);
  const state = (flags >> 6) as BfdState;
  if (yourDiscriminator === 0 && state !== BfdState.Down && state !== BfdState.AdminDown) {
    return fail(`your discriminator is zero in state ${STATE_NAMES[state]}`);
  }
  let auth: AuthSection | undefined;
  if (authPresent) {
    const type = buf[24]!;
    const authLen = buf[25]!;
    if (MIN_LENGTH + authLen > length) return fail(`auth length ${authLen} runs past length ${length}`);
    const why = authLengthError(type, authLen);
    if (why) return fail(why);
    auth = {
      type,
      length: authLen,
      keyId: buf[26]!,
      data: Buffer.from(buf.subarray(27, MIN_LENGTH + authLen)),
    };
  }
  return {
    ok: true,
    packet: {
      version,
      diag: buf[0]! & 0x1f,
      state,
      poll: (flags & 0x20) !== 0,
      final: (flags & 0x10) !== 0,
      cpi: (flags & 0x08) !== 0,
      ...(auth ? { auth } : {}),
      demand: (flags & 0x02) !== 0,
      multipoint: false,
      detectMult,
      myDiscriminator,
      yourDiscriminator,
      desiredMinTxUs: buf.readUInt32BE(12),
      requiredMinRxUs: buf.readUInt32BE(16),
      requiredMinEchoRxUs: buf.readUInt32BE(20),
    },
  };
}

/**
 * §6.8.6: "If the A bit is set and no authentication is in use (bfd.AuthType is
 * zero), the packet MUST be discarded"; and the reverse. We never use authentication.
 */
export function authError(p: ControlPacket, authInUse: boolean): string | undefined {
  if (p.auth && !authInUse) return "authentication present but not configured";
  if (!p.auth && authInUse) return "authentication configured but not present";
  return undefined;
}
