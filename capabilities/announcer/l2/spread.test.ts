import { createHash } from "node:crypto";
import { xorshift32 } from "../agent/fuzz-rng";
import { bounds, DEFAULT_SLACK, spread, type SpreadGroup } from "./spread";

const hash = (s: string): string => createHash("sha256").update(s).digest("hex");
/** Groups over `nodes`, ranked by hash like the election does, one tier. */
function groupsOver(nodes: readonly string[], count: number, prefix = "192.0.2."): SpreadGroup[] {
  return Array.from({ length: count }, (_, i) => {
    const id = `${prefix}${i}`;
    const ranked = [...nodes].sort((a, b) => (hash(`${a}#${id}`) < hash(`${b}#${id}`) ? -1 : 1));
    return { id, ranked, tier: ranked };
  });
}
const loads = (at: ReadonlyMap<string, string>, nodes: readonly string[]): Record<string, number> => {
  const out = Object.fromEntries(nodes.map((n) => [n, 0]));
  for (const n of at.values()) out[n] = (out[n] ?? 0) + 1;
  return out;
};
const withSticky = (groups: readonly SpreadGroup[], at: ReadonlyMap<string, string>): SpreadGroup[] =>
  groups.map((g) => ({ ...g, sticky: at.get(g.id) }));
const moved = (before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): string[] =>
  [...after].filter(([id, n]) => before.get(id) !== n).map(([id]) => id);
const full = { slack: DEFAULT_SLACK, rebalance: true };

/** What the agents do when `dead` dies: its groups go to their first other candidate (the first standby). */
function failover(groups: readonly SpreadGroup[], at: ReadonlyMap<string, string>, dead: string): SpreadGroup[] {
  return groups.map((g) => {
    const ranked = g.ranked.filter((n) => n !== dead);
    const owner = at.get(g.id)!;
    return { ...g, ranked, tier: ranked, sticky: owner === dead ? ranked[0] : owner };
  });
}

describe("L2 spread (bounded-load rendezvous)", () => {
  const nodes = ["a", "b", "c"];

  it("no node holds more than the bound, and the result does not depend on input order", () => {
    const groups = groupsOver(nodes, 99);
    const at = spread(groups, full);
    const { hi } = bounds(99, 3, DEFAULT_SLACK);
    for (const n of Object.values(loads(at, nodes))) expect(n).toBeLessThanOrEqual(hi);
    expect(spread([...groups].reverse(), full)).toEqual(at);
  });

  it("is a fixed point: the next pass over its own result moves nothing", () => {
    const groups = groupsOver(nodes, 50);
    const at = spread(groups, full);
    expect(moved(at, spread(withSticky(groups, at), full))).toEqual([]);
  });

  it("a node's death moves only the dead node's addresses, to their standbys", () => {
    const groups = groupsOver(nodes, 99);
    const at = spread(groups, full);
    const after = spread(failover(groups, at, "c"), full);
    for (const id of moved(at, after)) expect(at.get(id)).toBe("c");
    expect(Object.values(loads(after, ["a", "b"])).reduce((x, y) => x + y)).toBe(99);
  });

  it("a returning node takes back only what the band requires, and the survivors stay within it", () => {
    const groups = groupsOver(nodes, 99);
    const at = spread(groups, full);
    const survivors = spread(failover(groups, at, "c"), full);
    const back = spread(withSticky(groups, survivors), full);
    const { hi, lo } = bounds(99, 3, DEFAULT_SLACK);
    const l = loads(back, nodes);
    expect(l.c).toBe(Math.max(lo, 99 - 2 * hi));
    for (const n of nodes) expect(l[n]).toBeLessThanOrEqual(hi);
    // Every move is onto the returning node.
    for (const id of moved(survivors, back)) expect(back.get(id)).toBe("c");
    // And it settles: nothing moves on the next pass.
    expect(moved(back, spread(withSticky(groups, back), full))).toEqual([]);
  });

  it("a returning node receives moved addresses only once settled (live and voting long enough to answer)", () => {
    const groups = groupsOver(nodes, 99);
    const survivors = spread(failover(groups, spread(groups, full), "c"), full);
    const early = spread(withSticky(groups, survivors), { ...full, settled: new Set(["a", "b"]) });
    expect(moved(survivors, early)).toEqual([]);
    const late = spread(withSticky(groups, survivors), { ...full, settled: new Set(nodes) });
    expect(loads(late, nodes).c).toBeGreaterThan(0);
    // Every move goes onto the returning node: the others' excess is shed to the least loaded.
    for (const id of moved(survivors, late)) expect(late.get(id)).toBe("c");
  });

  it("inside the band nothing moves: deleting a few Services does not reshuffle the rest", () => {
    const groups = groupsOver(nodes, 99);
    const at = spread(groups, full);
    const fewer = withSticky(groups, at).slice(0, 94);
    expect(moved(at, spread(fewer, full))).toEqual([]);
  });

  it("never places a group outside its preferred tier, unless it is already there", () => {
    const groups = groupsOver(nodes, 30).map((g) => ({ ...g, tier: g.ranked.filter((n) => n !== "c") }));
    const at = spread(groups, full);
    expect(loads(at, nodes).c).toBe(0);
    // Already on c (say the tier changed): it stays; the spread does not fight the user's preference either way.
    const sticky = groups.map((g) => ({ ...g, sticky: "c" }));
    const kept = spread(sticky, full);
    expect(loads(kept, nodes).c).toBeGreaterThan(0);
    for (const n of kept.values()) expect(["a", "b", "c"]).toContain(n);
  });

  it("a scoped pass places its groups under the bound counting the others' load, and moves none of its sticky ones", () => {
    const background = {
      load: new Map([
        ["a", 40],
        ["b", 10],
        ["c", 10],
      ]),
      groups: 60,
    };
    const fresh = groupsOver(nodes, 12, "198.51.100.");
    const at = spread(fresh, { slack: DEFAULT_SLACK, rebalance: false, background });
    // Average 24, bound 30: a is full, so nothing new lands there.
    expect(loads(at, nodes).a).toBe(0);
    const sticky = fresh.map((g) => ({ ...g, sticky: "a" }));
    expect(loads(spread(sticky, { slack: DEFAULT_SLACK, rebalance: false, background }), nodes).a).toBe(12);
  });

  it("randomized: bounded and stable across deaths and returns", () => {
    const seed = Number(process.env.SPREAD_SEED) || (Date.now() & 0xffffffff) >>> 0;
    // Printed so a failure can be replayed with SPREAD_SEED=<seed>.
    console.log(`spread seed ${seed}`);
    const next = xorshift32(seed);
    for (let round = 0; round < 30; round++) {
      const all = Array.from({ length: 2 + (next() % 6) }, (_, i) => `n${i}`);
      const groups = groupsOver(all, 1 + (next() % 200));
      let at = spread(groups, full);
      const dead = all[next() % all.length];
      const down = spread(failover(groups, at, dead), full);
      expect([...down.values()]).not.toContain(dead);
      // Other addresses move only to keep the survivors within the bound.
      const survivorsHi = bounds(groups.length, all.length - 1, DEFAULT_SLACK).hi;
      for (const n of Object.values(loads(down, all))) expect(n).toBeLessThanOrEqual(survivorsHi);
      at = spread(withSticky(groups, down), full);
      const { hi } = bounds(groups.length, all.length, DEFAULT_SLACK);
      for (const n of Object.values(loads(at, all))) expect(n).toBeLessThanOrEqual(hi);
      expect(moved(at, spread(withSticky(groups, at), full))).toEqual([]);
    }
  });
});
