/** Test helpers shared by the BGP unit tests (not used at run time). */
import { parseCIDR, parseIP, type CIDR, type IP } from "../../../shared/net/ip";

export function ip(text: string): IP {
  const v = parseIP(text);
  if (!v) throw new Error(`bad IP in test: ${text}`);
  return v;
}

export function cidr(text: string): CIDR {
  const v = parseCIDR(text);
  if (!v) throw new Error(`bad CIDR in test: ${text}`);
  return v;
}

/** Hex with any whitespace, e.g. "ff ff 00 13". */
export const fromHex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ""), "hex");

export const MARKER = "ff".repeat(16);

/** A message: marker, length computed from the body, type, body (hex). */
export function frame(type: number, bodyHex: string): Buffer {
  const body = fromHex(bodyHex);
  const head = Buffer.alloc(3);
  head.writeUInt16BE(19 + body.length);
  head[2] = type;
  return Buffer.concat([fromHex(MARKER), head, body]);
}
