import { configOf, l2, pool } from "../../shared/config/testing";
import { xorshift32 } from "../agent/fuzz-rng";
import type { L2AdvertisementSpec } from "../../../crds/types";
import { EXCLUDE_LB_LABEL, type ElectionNode } from "./election";
import {
  API_VOTER,
  parseRoster,
  planRoster,
  pseudoVoters,
  rosterText,
  stepToward,
  targetRoster,
  type Roster,
} from "./roster";

const node = (name: string, labels: Record<string, string> = {}, networkUnavailable = false): ElectionNode => ({
  name,
  labels,
  networkUnavailable,
});
const ads = (specs: L2AdvertisementSpec[] = [{}]) =>
  configOf({
    pools: [pool("p", ["192.0.2.100-192.0.2.199"])],
    l2Advertisements: specs.map((spec, i) => l2(`ad${i}`, { ipAddressPools: ["p"], ...spec })),
  }).l2Advertisements;
const addr = (names: string[]) => new Map(names.map((n, i) => [n, `192.0.2.${11 + i}`]));
const roster = (voters: string[], tiebreaker: boolean, addresses: Record<string, string> = {}): Roster => ({
  voters,
  tiebreaker,
  addresses: Object.fromEntries(voters.map((v) => [v, addresses[v] ?? `a-${v}`])),
});

/** Seeded xorshift32 (the fuzz tests' generator), as a float in [0, 1). */
function rng(seed: number): () => number {
  const next = xorshift32(seed);
  return () => next() / 2 ** 32;
}

const symmetricDifference = (a: Roster, b: Roster): string[] => {
  const pa = pseudoVoters(a);
  const pb = pseudoVoters(b);
  return [...[...pa].filter((v) => !pb.has(v)), ...[...pb].filter((v) => !pa.has(v))];
};

describe("target roster", () => {
  it("voters: a heartbeat address, a Node, and L2-eligible; sorted; the tie-breaker for an even count", () => {
    const nodes = [node("n3"), node("n1"), node("n2", { [EXCLUDE_LB_LABEL]: "" }), node("n4", {}, true), node("n5")];
    const t = targetRoster({
      heartbeatAddresses: addr(["n1", "n2", "n3", "n4", "n6"]),
      nodes,
      l2Advertisements: ads(),
      ignoreExcludeLBLabel: false,
    });
    // n2 excluded, n4 NetworkUnavailable, n5 has no address, n6 has no Node.
    expect(t).toEqual({ voters: ["n1", "n3"], tiebreaker: true, addresses: { n1: "192.0.2.11", n3: "192.0.2.13" } });
    const odd = targetRoster({
      heartbeatAddresses: addr(["n1", "n2", "n3"]),
      nodes,
      l2Advertisements: ads(),
      ignoreExcludeLBLabel: true,
    });
    expect(odd.voters).toEqual(["n1", "n2", "n3"]);
    expect(odd.tiebreaker).toBe(false);
  });

  it("only nodes some L2Advertisement selects; none without any; no tie-breaker for no voters", () => {
    const nodes = [node("a", { zone: "x" }), node("b", { zone: "y" })];
    const input = { heartbeatAddresses: addr(["a", "b"]), nodes, ignoreExcludeLBLabel: false };
    expect(
      targetRoster({ ...input, l2Advertisements: ads([{ nodeSelectors: [{ matchLabels: { zone: "x" } }] }]) }),
    ).toEqual({ voters: ["a"], tiebreaker: false, addresses: { a: "192.0.2.11" } });
    expect(targetRoster({ ...input, l2Advertisements: [] })).toEqual({ voters: [], tiebreaker: false, addresses: {} });
  });
});

describe("stepping the published roster", () => {
  it("adds one pseudo-voter at a time (nodes first, @api last), then removes one at a time", () => {
    const from = roster(["n1", "n2", "n3"], false);
    const to = roster(["n1", "n2", "n3", "n4"], true);
    const s1 = stepToward(from, to);
    expect(s1).toEqual(roster(["n1", "n2", "n3", "n4"], false));
    expect(stepToward(s1, to)).toEqual(to);
    const back = stepToward(to, from);
    expect(back).toEqual(roster(["n1", "n2", "n3"], true));
    expect(stepToward(back, from)).toEqual(from);
    expect(stepToward(from, from)).toEqual(from);
  });

  it("the first publish is immediate and whole; later voter changes wait stepMs apart", () => {
    const target = roster(["a", "b", "c"], false);
    expect(planRoster(undefined, 0, target, 1000, 5000)).toEqual({ publish: target, voterChange: true });
    const published = roster(["a"], false);
    expect(planRoster(published, 1000, target, 3000, 5000)).toEqual({ voterChange: false, againInMs: 3000 });
    const p = planRoster(published, 1000, target, 6000, 5000);
    expect(p).toEqual({ publish: roster(["a", "b"], false), voterChange: true, againInMs: 5000 });
    expect(planRoster(p.publish, 6000, target, 11_000, 5000)).toEqual({ publish: target, voterChange: true });
    expect(planRoster(target, 11_000, target, 11_001, 5000)).toEqual({ voterChange: false });
  });

  it("an address change is published at once, also while a voter step waits", () => {
    const published = roster(["a", "b"], true);
    const moved = roster(["a", "b"], true, { b: "198.51.100.2" });
    expect(planRoster(published, 0, moved, 1, 5000)).toEqual({ publish: moved, voterChange: false });
    const growing = roster(["a", "b", "c"], false, { b: "198.51.100.2" });
    expect(planRoster(published, 0, growing, 1, 5000)).toEqual({ publish: moved, voterChange: false, againInMs: 4999 });
  });

  it("round-trips through the ConfigMap text; junk reads as nothing published", () => {
    const r = roster(["b", "a"], true);
    expect(parseRoster(rosterText(r))).toEqual({ ...r, voters: ["a", "b"] });
    expect(rosterText(r)).toBe('{"voters":["a","b"],"tiebreaker":true,"addresses":{"a":"a-a","b":"a-b"}}');
    for (const junk of [undefined, "", "{", "[]", '{"voters":[1],"tiebreaker":false}', '{"voters":[]}'])
      expect(parseRoster(junk)).toBeUndefined();
  });

  it("randomized: consecutive published rosters differ by exactly one pseudo-voter, and the target is reached", () => {
    const seed = Number(process.env.ROSTER_SEED) || (Date.now() & 0xffffffff) >>> 0;
    // Printed so a failure can be replayed with ROSTER_SEED=<seed>.
    console.log(`roster stepping seed ${seed}`);
    const rand = rng(seed);
    const pick = (n: number) => Math.floor(rand() * n);
    const names = Array.from({ length: 9 }, (_, i) => `n${i}`);
    const randomTarget = (): Roster => {
      const voters = names.filter(() => rand() < 0.5);
      return roster(voters, voters.length > 0 && voters.length % 2 === 0);
    };
    for (let round = 0; round < 200; round++) {
      let now = 0;
      let published: Roster | undefined;
      let changedAt = 0;
      let target = randomTarget();
      const history: Roster[] = [];
      for (let t = 0; t < 400; t++) {
        now += t < 300 ? 250 + pick(3000) : 5000;
        if (t < 300 && rand() < 0.2) target = randomTarget(); // the target moves while we step
        const plan = planRoster(published, changedAt, target, now, 5000);
        if (plan.publish) {
          if (published && plan.voterChange) expect(now - changedAt).toBeGreaterThanOrEqual(5000);
          if (published) {
            const diff = symmetricDifference(published, plan.publish);
            expect({ seed, round, diff: diff.length }).toEqual({ seed, round, diff: plan.voterChange ? 1 : 0 });
          }
          for (const v of plan.publish.voters) expect(plan.publish.addresses[v]).toBeDefined();
          if (plan.voterChange) changedAt = now;
          published = plan.publish;
          history.push(published);
        }
      }
      // 100 steps of 5 s with no target change: more than the 18 pseudo-voter moves any change needs.
      expect({ seed, round, reached: rosterText(published!) }).toEqual({ seed, round, reached: rosterText(target) });
      expect(history.every((r) => !r.voters.includes(API_VOTER))).toBe(true);
    }
  });
});
