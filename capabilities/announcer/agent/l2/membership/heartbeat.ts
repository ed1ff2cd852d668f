/**
 * The L2 membership heartbeat: what one agent tells the others every interval, over UDP,
 * authenticated with HMAC-SHA256 under the cluster key (a host on the LAN without the key
 * can neither forge one nor, thanks to the sequence number and replay-window.ts, replay one).
 *
 * Layout (big endian), then a 32-byte HMAC-SHA256 over everything before it:
 *
 *   "MLHB" | version u8 (1) | flags u8 | sender length u8 | sender (UTF-8)
 *   | roster digest (8 bytes) | seq u64 | tie-breaker held ms u32
 *   | entry count u16 | entries: voter index u16, ack seq u64, silence ms u32
 *
 * An entry is the sender's view of one other voter (by its index in the sorted roster the
 * digest names): the newest sequence number it accepted from that voter (its echo: the voter
 * learns it was heard, timed on its own clock) and how long ago it last heard it.
 * 50 voters make a 791-byte packet; the scale plan in docs/l2.md covers more.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const MAGIC = Buffer.from("MLHB", "ascii");
export const VERSION = 1;
const MAC_LENGTH = 32;
export const DIGEST_LENGTH = 8;
const ENTRY_LENGTH = 14;
/** Silence too long (or never heard) for a u32 of milliseconds. */
export const SILENCE_UNKNOWN = 0xffffffff;

export const FLAG_SERVING = 1;
export const FLAG_DRAINING = 2;
export const FLAG_TIEBREAKER = 4;

export interface HeartbeatEntry {
  /** Index of the voter in the sender's roster. */
  readonly voter: number;
  /** Newest sequence number accepted from that voter; 0 = none. */
  readonly ackSeq: number;
  /** Milliseconds since the sender last heard that voter, capped at SILENCE_UNKNOWN. */
  readonly silenceMs: number;
}

export interface Heartbeat {
  readonly sender: string;
  readonly flags: number;
  readonly rosterDigest: Buffer;
  readonly seq: number;
  /** How long the sender has held the tie-breaker Lease (0 unless FLAG_TIEBREAKER). */
  readonly tiebreakerHeldMs: number;
  readonly entries: readonly HeartbeatEntry[];
}

const u32 = (n: number): number => Math.max(0, Math.min(0xffffffff, Math.floor(n)));

export function encodeHeartbeat(hb: Heartbeat, key: Buffer): Buffer {
  const sender = Buffer.from(hb.sender, "utf8");
  if (sender.length === 0 || sender.length > 255) throw new RangeError(`node name of ${sender.length} bytes`);
  if (hb.rosterDigest.length !== DIGEST_LENGTH) throw new RangeError("roster digest must be 8 bytes");
  if (hb.entries.length > 0xffff) throw new RangeError("too many entries");
  const body = Buffer.alloc(4 + 3 + sender.length + DIGEST_LENGTH + 8 + 4 + 2 + hb.entries.length * ENTRY_LENGTH);
  let o = MAGIC.copy(body, 0);
  o = body.writeUInt8(VERSION, o);
  o = body.writeUInt8(hb.flags & 0xff, o);
  o = body.writeUInt8(sender.length, o);
  o += sender.copy(body, o);
  o += hb.rosterDigest.copy(body, o);
  o = body.writeBigUInt64BE(BigInt(hb.seq), o);
  o = body.writeUInt32BE(u32(hb.tiebreakerHeldMs), o);
  o = body.writeUInt16BE(hb.entries.length, o);
  for (const e of hb.entries) {
    o = body.writeUInt16BE(e.voter, o);
    o = body.writeBigUInt64BE(BigInt(e.ackSeq), o);
    o = body.writeUInt32BE(u32(e.silenceMs), o);
  }
  return Buffer.concat([body, mac(body, key)]);
}

const mac = (body: Buffer, key: Buffer): Buffer => createHmac("sha256", key).update(body).digest();

export type DecodeFailure = "short" | "bad-mac" | "bad-magic" | "bad-version" | "malformed";

/**
 * The heartbeat in `packet`, or why it was refused. The MAC is checked first (in constant
 * time), so nothing of an unauthenticated packet is parsed.
 */
export function decodeHeartbeat(packet: Buffer, key: Buffer): Heartbeat | DecodeFailure {
  if (packet.length < MAC_LENGTH + 4 + 3) return "short";
  const body = packet.subarray(0, packet.length - MAC_LENGTH);
  if (!timingSafeEqual(mac(body, key), packet.subarray(packet.length - MAC_LENGTH))) return "bad-mac";
  if (!body.subarray(0, 4).equals(MAGIC)) return "bad-magic";
  if (body[4] !== VERSION) return "bad-version";
  const flags = body[5];
  const senderLength = body[6];
  let o = 7;
  const fixed = senderLength + DIGEST_LENGTH + 8 + 4 + 2;
  if (senderLength === 0 || body.length < o + fixed) return "malformed";
  const sender = body.toString("utf8", o, o + senderLength);
  o += senderLength;
  const rosterDigest = Buffer.from(body.subarray(o, o + DIGEST_LENGTH));
  o += DIGEST_LENGTH;
  const seq = body.readBigUInt64BE(o);
  o += 8;
  if (seq > BigInt(Number.MAX_SAFE_INTEGER)) return "malformed";
  const tiebreakerHeldMs = body.readUInt32BE(o);
  o += 4;
  const count = body.readUInt16BE(o);
  o += 2;
  if (body.length !== o + count * ENTRY_LENGTH) return "malformed";
  const entries: HeartbeatEntry[] = [];
  for (let i = 0; i < count; i++, o += ENTRY_LENGTH) {
    const ackSeq = body.readBigUInt64BE(o + 2);
    if (ackSeq > BigInt(Number.MAX_SAFE_INTEGER)) return "malformed";
    entries.push({ voter: body.readUInt16BE(o), ackSeq: Number(ackSeq), silenceMs: body.readUInt32BE(o + 10) });
  }
  return { sender, flags, rosterDigest, seq: Number(seq), tiebreakerHeldMs, entries };
}
