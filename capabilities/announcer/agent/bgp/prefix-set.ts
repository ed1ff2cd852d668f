/**
 * The distinct prefixes a peer has announced to us, held as 8-octet keys rather than
 * routes: the agent only announces, so it needs how many prefixes a peer sent (status,
 * metrics, the maximum-prefix limit), never the routes themselves.
 *
 * Why not a bare counter: re-announcing a prefix the peer already sent replaces it (an
 * implicit withdraw, RFC 4271 §3.1), so "announced minus withdrawn" would creep upwards
 * with a healthy peer's churn until it hit the limit and reset a good session.
 *
 * Layout: one open-addressing table in a Uint32Array (two words a slot, linear probing,
 * backward-shift deletion), at most half full. No object per prefix; the session closes
 * once a family passes its limit, so the table never holds more than about the limit:
 * 100,000 prefixes take 2 MiB (as strings in a Set they took ~95 bytes each).
 *
 * Keys: IPv4 exactly (tag bit, length, address). IPv6 as a 63-bit fingerprint of length
 * and address (MurmurHash3's mixing steps, written here), so two different IPv6 prefixes
 * share a key with a probability of about n² / 2⁶⁴: at a million prefixes, one in ten
 * million that the count is one short.
 */
import type { CIDR } from "../../../shared/net/ip";

const MIN_SLOTS = 1024;
const IPV4_TAG = 0x40000000;
const IPV6_TAG = 0x80000000;

/** MurmurHash3 (x86, 32-bit) block step. */
function mixIn(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** MurmurHash3 finaliser: every input bit reaches every output bit. */
function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class PrefixSet {
  /** [hi, lo] per slot; hi 0 marks an empty slot (every key has a tag bit in hi). */
  private table = new Uint32Array(MIN_SLOTS * 2);
  private mask = MIN_SLOTS - 1;
  private count = 0;
  private keyHi = 0;
  private keyLo = 0;

  get size(): number {
    return this.count;
  }

  /** Octets held by the table. */
  get bytes(): number {
    return this.table.byteLength;
  }

  /** Adds a prefix; false when it was already there. */
  add(p: CIDR): boolean {
    this.key(p);
    const hi = this.keyHi;
    const lo = this.keyLo;
    let i = this.home(hi, lo);
    for (;;) {
      const h = this.table[2 * i]!;
      if (h === 0) break;
      if (h === hi && this.table[2 * i + 1] === lo) return false;
      i = (i + 1) & this.mask;
    }
    this.table[2 * i] = hi;
    this.table[2 * i + 1] = lo;
    this.count++;
    if (this.count * 2 > this.mask + 1) this.resize((this.mask + 1) * 2);
    return true;
  }

  /** Removes a prefix; false when it was not there. */
  delete(p: CIDR): boolean {
    this.key(p);
    let i = this.find(this.keyHi, this.keyLo);
    if (i < 0) return false;
    // Backward shift: pull later entries of the probe run into the hole, so lookups
    // never stop early at an emptied slot (no tombstones to clean up later).
    for (let j = (i + 1) & this.mask; this.table[2 * j] !== 0; j = (j + 1) & this.mask) {
      const home = this.home(this.table[2 * j]!, this.table[2 * j + 1]!);
      // Entry j may fill hole i unless its home lies cyclically in (i, j].
      const between = i <= j ? home > i && home <= j : home > i || home <= j;
      if (between) continue;
      this.table[2 * i] = this.table[2 * j]!;
      this.table[2 * i + 1] = this.table[2 * j + 1]!;
      i = j;
    }
    this.table[2 * i] = 0;
    this.table[2 * i + 1] = 0;
    this.count--;
    return true;
  }

  has(p: CIDR): boolean {
    this.key(p);
    return this.find(this.keyHi, this.keyLo) >= 0;
  }

  /** Empties the set and gives the memory back. */
  clear(): void {
    this.table = new Uint32Array(MIN_SLOTS * 2);
    this.mask = MIN_SLOTS - 1;
    this.count = 0;
  }

  private find(hi: number, lo: number): number {
    for (let i = this.home(hi, lo); ; i = (i + 1) & this.mask) {
      const h = this.table[2 * i]!;
      if (h === 0) return -1;
      if (h === hi && this.table[2 * i + 1] === lo) return i;
    }
  }

  private home(hi: number, lo: number): number {
    return finish(mixIn(mixIn(0, hi), lo)) & this.mask;
  }

  /** Sets keyHi/keyLo for a prefix (fields, not a returned pair: no allocation per prefix). */
  private key(p: CIDR): void {
    if (p.family === 4) {
      this.keyHi = (IPV4_TAG | p.prefixLength) >>> 0;
      this.keyLo = Number(p.base) >>> 0;
      return;
    }
    // Two differently seeded hashes of the same five words make the 63 bits.
    let a = mixIn(0x9747b28c, p.prefixLength);
    let b = mixIn(0x2f1c3a5d, p.prefixLength);
    for (let shift = 96n; shift >= 0n; shift -= 32n) {
      const w = Number((p.base >> shift) & 0xffffffffn);
      a = mixIn(a, w);
      b = mixIn(b, w ^ 0x5bd1e995);
    }
    this.keyHi = (IPV6_TAG | finish(a)) >>> 0;
    this.keyLo = finish(b);
  }

  private resize(slots: number): void {
    const old = this.table;
    this.table = new Uint32Array(slots * 2);
    this.mask = slots - 1;
    for (let i = 0; i < old.length; i += 2) {
      const hi = old[i]!;
      if (hi === 0) continue;
      let j = this.home(hi, old[i + 1]!);
      while (this.table[2 * j] !== 0) j = (j + 1) & this.mask;
      this.table[2 * j] = hi;
      this.table[2 * j + 1] = old[i + 1]!;
    }
  }
}
