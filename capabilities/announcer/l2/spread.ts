/**
 * Spreading L2 ownership across nodes: bounded-load rendezvous hashing with stickiness.
 * Pure; election.ts builds the groups (one per announced IP, Services sharing an IP are one
 * group) and this module says which node answers for each.
 *
 * Choices:
 * - Every group has its candidates ranked (preferredNodeSelectors weight, then a hash of node
 *   and IP) and a preferred tier: the candidates of the highest weight. A group only ever goes
 *   to its tier, so preferences beat the spread; the spread works inside each tier.
 * - A node may hold at most `hi` = ceil((1 + slack) x average) groups: a new group goes to the
 *   first tier node under `hi` in its ranking (the least loaded of the tier when all are full).
 *   The ranking alone spreads well on average; the bound removes the unlucky pile-ups.
 * - Stickiness: a group keeps its current node (or the standby that took it over, which the
 *   agents already made answer) whatever the bound, so a failover, a node joining or a config
 *   change moves nothing by itself.
 * - Rebalancing (full passes only): a node above `hi` hands its excess to tier nodes under
 *   `hi`, and a node below `lo` = floor((1 - slack) x average), such as one back from a
 *   reboot, takes groups from nodes above ceil(average) until it reaches `lo`. The band
 *   between `lo` and `hi` is the hysteresis: a returning node pulls addresses back only when
 *   the spread requires it, and deleting a few Services does not reshuffle the rest. The agents
 *   hand a moved address over make-before-break (agent/l2/release.ts), so a move only goes
 *   to a settled node: one live and voting long enough to answer at once. Until a node is
 *   settled it does not count towards the average either.
 * - A scoped pass (a few Services changed) places only its own groups, counting every other
 *   group's current node as background load, and moves nothing else.
 * - Deterministic: the result depends only on the input, never on its order.
 */
import { createHash } from "node:crypto";

export interface SpreadGroup {
  /** The group's IP (canonical text): its identity and hash key. */
  readonly id: string;
  /** Candidates, best first. Never empty. */
  readonly ranked: readonly string[];
  /** The candidates of the highest preference weight, in ranking order. Never empty. */
  readonly tier: readonly string[];
  /** The node that answers now and should keep it (current owner, or the standby that took over). */
  readonly sticky?: string;
}

export interface Background {
  /** Node -> groups it holds outside this pass. */
  readonly load: ReadonlyMap<string, number>;
  /** How many groups exist outside this pass. */
  readonly groups: number;
}

export interface SpreadOptions {
  /** Allowed excess over the average before moving anything (0.25 = 25 %). */
  readonly slack: number;
  /** Full pass: shed from overloaded nodes and fill underloaded ones. */
  readonly rebalance: boolean;
  readonly background?: Background;
  /**
   * The nodes a rebalancing move may go to (default: every candidate): ones that have been
   * live long enough to answer, so the old owner's make-before-break meets an answering node.
   */
  readonly settled?: ReadonlySet<string>;
}

export const DEFAULT_SLACK = 0.25;

export interface Bounds {
  readonly hi: number;
  readonly lo: number;
  /** ceil(average): a donor must hold more than this to give a group to an underloaded node. */
  readonly donorAbove: number;
}

/** The load band for `groups` groups over `nodes` nodes. */
export function bounds(groups: number, nodes: number, slack: number): Bounds {
  const avg = nodes > 0 ? groups / nodes : 0;
  return {
    hi: Math.max(1, Math.ceil((1 + slack) * avg)),
    lo: Math.floor((1 - slack) * avg),
    donorAbove: Math.ceil(avg),
  };
}

const hashOf = (text: string): string => createHash("sha256").update(text).digest("hex");
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Group id -> node. */
export function spread(groups: readonly SpreadGroup[], opts: SpreadOptions): Map<string, string> {
  const load = new Map<string, number>(opts.background?.load ?? []);
  const nodes = new Set<string>(load.keys());
  for (const g of groups) g.ranked.forEach((n) => nodes.add(n));
  const canReceive = (n: string): boolean => opts.settled?.has(n) ?? true;
  // A node not yet settled does not count towards the average: its arrival would otherwise
  // push the others over the bound before it may take anything, and their excess would go
  // elsewhere first and move again once it settles.
  const counted = [...nodes].filter(canReceive).length || nodes.size;
  const { hi, lo, donorAbove } = bounds(groups.length + (opts.background?.groups ?? 0), counted, opts.slack);
  const loadOf = (n: string): number => load.get(n) ?? 0;
  const add = (n: string, d: number): void => void load.set(n, loadOf(n) + d);

  const order = groups.map((g) => ({ g, h: hashOf(g.id) })).sort((a, b) => byText(a.h, b.h));
  const at = new Map<string, string>();
  for (const { g } of order) {
    if (g.sticky === undefined) continue;
    at.set(g.id, g.sticky);
    add(g.sticky, 1);
  }
  for (const { g } of order) {
    if (at.has(g.id)) continue;
    const free = g.tier.find((n) => loadOf(n) < hi);
    const node = free ?? g.tier.reduce((best, n) => (loadOf(n) < loadOf(best) ? n : best));
    at.set(g.id, node);
    add(node, 1);
  }
  if (!opts.rebalance) return at;

  // Shed: the groups an overloaded node is least preferred for go first, each to the least
  // loaded node of its tier (a node back from a reboot, typically), ties in ranking order.
  const held = (node: string) => order.filter(({ g }) => at.get(g.id) === node).map(({ g }) => g);
  for (const node of [...nodes].sort(byText)) {
    if (loadOf(node) <= hi) continue;
    const mine = held(node).sort((a, b) => b.ranked.indexOf(node) - a.ranked.indexOf(node));
    for (const g of mine) {
      if (loadOf(node) <= hi) break;
      const to = g.tier
        .filter((n) => n !== node && loadOf(n) < hi && canReceive(n))
        .reduce<
          string | undefined
        >((best, n) => (best === undefined || loadOf(n) < loadOf(best) ? n : best), undefined);
      if (to === undefined) continue;
      at.set(g.id, to);
      add(node, -1);
      add(to, 1);
    }
  }

  // Fill: the least loaded first; each takes the groups that rank it best, from the fullest donors.
  const receivers = [...nodes]
    .filter((n) => loadOf(n) < lo && canReceive(n))
    .sort((a, b) => loadOf(a) - loadOf(b) || byText(a, b));
  for (const node of receivers) {
    const offers = order
      .map(({ g }) => g)
      .filter((g) => at.get(g.id) !== node && g.tier.includes(node))
      .sort((a, b) => loadOf(at.get(b.id)!) - loadOf(at.get(a.id)!) || a.ranked.indexOf(node) - b.ranked.indexOf(node));
    for (const g of offers) {
      if (loadOf(node) >= lo) break;
      const from = at.get(g.id)!;
      if (loadOf(from) <= donorAbove) continue;
      at.set(g.id, node);
      add(from, -1);
      add(node, 1);
    }
  }
  return at;
}
