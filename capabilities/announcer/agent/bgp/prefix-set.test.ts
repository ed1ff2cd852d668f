import { formatCIDR, type CIDR } from "../../../shared/net/ip";
import { cidr } from "./fixtures";
import { PrefixSet } from "./prefix-set";

/** A small deterministic generator (tests must replay). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0);
}

const v4 = (n: number, len = 24): CIDR => ({
  family: 4,
  base: BigInt(n >>> 0) & ~((1n << BigInt(32 - len)) - 1n),
  prefixLength: len,
});
const v6 = (n: number, len = 64): CIDR => ({
  family: 6,
  base: (0x20010db8n << 96n) | (BigInt(n) << 64n),
  prefixLength: len,
});

describe("PrefixSet", () => {
  it("counts distinct prefixes: a re-announcement is not a new prefix, a withdrawal of an unknown one changes nothing", () => {
    const s = new PrefixSet();
    expect(s.add(cidr("198.51.100.0/24"))).toBe(true);
    expect(s.add(cidr("198.51.100.0/24"))).toBe(false);
    expect(s.add(cidr("198.51.100.0/25"))).toBe(true); // same address, other length
    expect(s.add(cidr("2001:db8::/32"))).toBe(true);
    expect(s.add(cidr("0.0.0.0/0"))).toBe(true);
    expect(s.add(cidr("::/0"))).toBe(true); // not the IPv4 default route
    expect(s.size).toBe(5);
    expect(s.delete(cidr("203.0.113.0/24"))).toBe(false);
    expect(s.delete(cidr("198.51.100.0/24"))).toBe(true);
    expect(s.has(cidr("198.51.100.0/24"))).toBe(false);
    expect(s.has(cidr("198.51.100.0/25"))).toBe(true);
    expect(s.size).toBe(4);
  });

  it("agrees with a Set of strings through 60,000 random adds and deletes, growing past its first table", () => {
    const s = new PrefixSet();
    const ref = new Map<string, CIDR>();
    const next = lcg(7);
    let disagreements = 0;
    for (let i = 0; i < 60_000; i++) {
      const r = next();
      // A small key space so deletes often hit, and probe runs get long.
      const p = r & 1 ? v4(next() % 20_000 << 8) : v6(next() % 8_000);
      const key = formatCIDR(p);
      if (r & 2) {
        if (s.delete(p) !== ref.delete(key)) disagreements++;
      } else {
        if (s.add(p) === ref.has(key)) disagreements++;
        ref.set(key, p);
      }
    }
    expect(disagreements).toBe(0);
    expect(s.size).toBe(ref.size);
    expect([...ref.values()].filter((p) => !s.has(p))).toEqual([]);
  });

  it("holds 100,000 prefixes in 2 MiB, and gives the memory back when cleared", () => {
    const s = new PrefixSet();
    for (let i = 0; i < 100_000; i++) s.add(v4(i << 8));
    expect(s.size).toBe(100_000);
    expect(s.bytes).toBe(2 * 1024 * 1024);
    s.clear();
    expect(s.size).toBe(0);
    expect(s.bytes).toBeLessThanOrEqual(8192);
  });
});
