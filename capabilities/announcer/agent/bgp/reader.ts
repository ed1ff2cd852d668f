/**
 * Frames a TCP byte stream into whole BGP messages (RFC 4271 §4.1): checks
 * the marker and the 19..4096 length as soon as a header is complete, and
 * stops for good after a header error (the session must be torn down).
 */
import { checkHeader } from "./decode";
import { HEADER_LENGTH, type BgpError } from "./messages";

export type Frame =
  | { readonly kind: "frame"; readonly bytes: Buffer }
  | { readonly kind: "error"; readonly error: BgpError };

export class MessageReader {
  private pending: Buffer = Buffer.alloc(0);
  private failed = false;

  /** Feeds one chunk; returns the messages it completed, in order (and at most one error, last). */
  push(chunk: Buffer): Frame[] {
    if (this.failed) return [];
    // Buffer.concat copies, so frames never alias the caller's chunk.
    this.pending = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
    const out: Frame[] = [];
    let pos = 0;
    while (this.pending.length - pos >= HEADER_LENGTH) {
      const header = checkHeader(this.pending.subarray(pos, pos + HEADER_LENGTH));
      if ("code" in header) {
        this.failed = true;
        this.pending = Buffer.alloc(0);
        out.push({ kind: "error", error: header });
        return out;
      }
      if (this.pending.length - pos < header.length) break;
      out.push({ kind: "frame", bytes: this.pending.subarray(pos, pos + header.length) });
      pos += header.length;
    }
    this.pending = this.pending.subarray(pos);
    return out;
  }

  /** Octets held back waiting for the rest of a message. */
  get buffered(): number {
    return this.pending.length;
  }
}
