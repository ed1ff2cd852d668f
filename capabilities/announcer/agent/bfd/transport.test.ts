import { parseIP, ipToBytes, type Family } from "../../../shared/net/ip";
import type { BpfInstruction } from "../native";
import { DROP_ALL, multihopFilter, singleHopFilter } from "./transport";

/**
 * Runs a classic BPF program the way the kernel runs a socket filter on a UDP socket,
 * for the opcodes our filters use; loads at SKF_NET_OFF+k read the IP header.
 */
function runFilter(prog: readonly BpfInstruction[], ipHeader: Buffer): number {
  let a = 0;
  const load = (k: number, size: 1 | 4): number => {
    const off = k - 0xfff00000;
    if (off < 0 || off + size > ipHeader.length) throw new Error(`load outside the IP header at ${k}`);
    return size === 1 ? ipHeader[off]! : ipHeader.readUInt32BE(off);
  };
  for (let pc = 0; pc < prog.length; pc++) {
    const [code, jt, jf, k] = prog[pc]!;
    switch (code) {
      case 0x30:
        a = load(k, 1);
        break;
      case 0x20:
        a = load(k, 4);
        break;
      case 0x15:
        pc += a === k ? jt : jf;
        break;
      case 0x35:
        pc += a >= k ? jt : jf;
        break;
      case 0x06:
        return k;
      default:
        throw new Error(`opcode ${code}`);
    }
    if (pc + 1 > prog.length) throw new Error("jump past the end");
  }
  throw new Error("fell off the end");
}

/** A minimal IPv4 or IPv6 header with the given TTL / hop limit and source. */
function header(family: Family, ttl: number, source: string): Buffer {
  const src = ipToBytes(parseIP(source)!);
  if (family === 4) {
    const h = Buffer.alloc(20);
    h[0] = 0x45;
    h[8] = ttl;
    h[9] = 17;
    src.copy(h, 12);
    return h;
  }
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h[6] = 17;
  h[7] = ttl;
  src.copy(h, 8);
  return h;
}

describe("BFD receive filters (GTSM in the kernel)", () => {
  it.each([4, 6] as const)("single hop, IPv%d: only TTL / Hop Limit 255 passes (RFC 5881 §5)", (family) => {
    const src = family === 4 ? "192.0.2.1" : "2001:db8:1::1";
    const f = singleHopFilter(family);
    expect(runFilter(f, header(family, 255, src))).toBeGreaterThan(0);
    for (const ttl of [254, 64, 1, 0]) expect(runFilter(f, header(family, ttl, src))).toBe(0);
  });

  it("multihop, IPv4: each source with its own minimum TTL; unknown sources dropped (RFC 5883 §5)", () => {
    const f = multihopFilter(4, [
      { source: parseIP("198.51.100.1")!, minTtl: 254 },
      { source: parseIP("198.51.100.2")!, minTtl: 250 },
      { source: parseIP("2001:db8::9")!, minTtl: 1 },
    ]);
    const pass = (ttl: number, src: string) => runFilter(f, header(4, ttl, src)) > 0;
    expect([pass(255, "198.51.100.1"), pass(254, "198.51.100.1"), pass(253, "198.51.100.1")]).toEqual([
      true,
      true,
      false,
    ]);
    expect([pass(250, "198.51.100.2"), pass(249, "198.51.100.2")]).toEqual([true, false]);
    expect(pass(255, "198.51.100.3")).toBe(false);
  });

  it("multihop, IPv6: the whole 128-bit source must match", () => {
    const f = multihopFilter(6, [
      { source: parseIP("2001:db8::1")!, minTtl: 254 },
      { source: parseIP("2001:db8::2")!, minTtl: 200 },
    ]);
    const pass = (ttl: number, src: string) => runFilter(f, header(6, ttl, src)) > 0;
    expect(pass(254, "2001:db8::1")).toBe(true);
    expect(pass(253, "2001:db8::1")).toBe(false);
    expect(pass(200, "2001:db8::2")).toBe(true);
    expect(pass(255, "2001:db8:1::1")).toBe(false);
    expect(pass(255, "2001:db9::1")).toBe(false);
  });

  it("no multihop peers, or a send-only socket: everything dropped", () => {
    expect(runFilter(multihopFilter(4, []), header(4, 255, "192.0.2.1"))).toBe(0);
    expect(runFilter(DROP_ALL, header(4, 255, "192.0.2.1"))).toBe(0);
  });
});
