/**
 * Address math for the chaos checker, written apart from the product's own
 * (capabilities/shared/net) so a bug there cannot hide itself here.
 */
export type Family = 4 | 6;

export interface Addr {
  family: Family;
  value: bigint;
}

/** An inclusive block of one family. */
export interface Block {
  family: Family;
  first: bigint;
  last: bigint;
}

function parseV4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n);
}

function parseV6(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:]+$/.test(text)) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string): string[] => (s === "" ? [] : s.split(":"));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? head.length !== 8 : missing < 1) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (all.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

export function parseAddr(text: string): Addr | undefined {
  if (text.includes(":")) {
    const value = parseV6(text);
    return value === undefined ? undefined : { family: 6, value };
  }
  const value = parseV4(text);
  return value === undefined ? undefined : { family: 4, value };
}

export function formatAddr(a: Addr): string {
  if (a.family === 4) return [24n, 16n, 8n, 0n].map((s) => String((a.value >> s) & 255n)).join(".");
  const groups = Array.from({ length: 8 }, (_, i) => ((a.value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  // The longest run of zero groups (two or more) becomes "::".
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > bestLen && j - i > 1) [best, bestLen] = [i, j - i];
    i = j;
  }
  if (best < 0) return groups.join(":");
  return `${groups.slice(0, best).join(":")}::${groups.slice(best + bestLen).join(":")}`;
}

/** A canonical text for comparing addresses written differently ("2001:db8::0" = "2001:db8::"). */
export function canonical(text: string): string {
  const a = parseAddr(text);
  return a ? formatAddr(a) : text;
}

/** "a-b" (inclusive) or a CIDR, as MetalLB's spec.addresses entries. */
export function parseBlock(text: string): Block | undefined {
  if (text.includes("-")) {
    const [from, to] = text.split("-").map((s) => parseAddr(s.trim()));
    if (!from || !to || from.family !== to.family || from.value > to.value) return undefined;
    return { family: from.family, first: from.value, last: to.value };
  }
  const [base, lenText] = text.split("/");
  const a = parseAddr(base);
  if (!a || lenText === undefined || !/^\d+$/.test(lenText)) return undefined;
  const bits = a.family === 4 ? 32 : 128;
  const len = Number(lenText);
  if (len > bits) return undefined;
  const size = 1n << BigInt(bits - len);
  const first = (a.value / size) * size;
  return { family: a.family, first, last: first + size - 1n };
}

export const blockContains = (b: Block, a: Addr): boolean =>
  b.family === a.family && a.value >= b.first && a.value <= b.last;

export const blocksOverlap = (x: Block, y: Block): boolean =>
  x.family === y.family && x.first <= y.last && y.first <= x.last;

/** Every address of a block, smallest first; meant for the chaos suite's small pools only. */
export function* addressesOf(b: Block): Generator<Addr> {
  for (let v = b.first; v <= b.last; v++) yield { family: b.family, value: v };
}

/** The block text for `count` addresses from `first`: "first-last". */
export function rangeText(first: Addr, count: number): string {
  return `${formatAddr(first)}-${formatAddr({ family: first.family, value: first.value + BigInt(count - 1) })}`;
}
