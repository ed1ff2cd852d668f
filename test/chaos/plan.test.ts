import { type Action, type RoundPlan, planRun, quotas, stepsOf } from "./plan";
import { Rng } from "./rng";

const count = (plan: RoundPlan[], kind: string): number => plan.filter((r) => r.fault.kind === kind).length;

describe("seeded random", () => {
  it("repeats for a seed and differs between seeds", () => {
    const draw = (seed: number) =>
      Array.from(
        { length: 20 },
        (
          (r) => () =>
            r.int(0, 1000)
        )(new Rng(seed)),
      );
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
  });

  it("int stays within its bounds and reaches both ends", () => {
    const r = new Rng(7);
    const seen = new Set(Array.from({ length: 500 }, () => r.int(2, 5)));
    expect([...seen].sort()).toEqual([2, 3, 4, 5]);
  });
});

describe("chaos plan", () => {
  it("is the same plan for the same seed, and another for another seed", () => {
    expect(planRun(123, 50)).toEqual(planRun(123, 50));
    expect(JSON.stringify(planRun(123, 50))).not.toEqual(JSON.stringify(planRun(124, 50)));
  });

  it.each([1, 99, 2024, 31337])(
    "seed %i: 200 rounds carry exactly the fault quotas (>= 30 SIGKILLs, >= 5 API restarts)",
    (seed) => {
      const plan = planRun(seed, 200);
      const q = quotas(200);
      expect(q.kills).toBeGreaterThanOrEqual(30);
      expect(q.apiRestarts).toBeGreaterThanOrEqual(5);
      expect(count(plan, "kill-watcher")).toBe(q.kills);
      expect(count(plan, "restart-apiserver")).toBe(q.apiRestarts);
      expect(plan.map((r) => r.round)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    },
  );

  it("scales the quotas with the round count and keeps at least one of each", () => {
    expect(quotas(2000)).toEqual({ kills: 310, apiRestarts: 60 });
    expect(quotas(3)).toEqual({ kills: 1, apiRestarts: 1 });
  });

  it("kills the watcher strictly inside a Service burst", () => {
    for (const r of planRun(5, 300)) {
      if (r.fault.kind !== "kill-watcher") continue;
      let at = 0;
      let inside = false;
      for (const a of r.actions) {
        const n = stepsOf(a);
        const burst = a.kind === "create-services" || a.kind === "delete-services";
        if (burst && r.fault.atStep > at && r.fault.atStep < at + n) inside = true;
        at += n;
      }
      expect({ round: r.round, inside }).toEqual({ round: r.round, inside: true });
    }
  });

  it("only acts on objects that exist at that point, and never reuses a Service name", () => {
    const live = new Set<string>();
    const created = new Set<string>();
    const pools = new Set(["pool-a", "pool-b", "pool-ns"]);
    let overlap = false;
    const apply = (round: number, a: Action, touched: Set<string>) => {
      switch (a.kind) {
        case "create-services":
          for (const s of a.services) {
            const key = `${s.namespace}/${s.name}`;
            expect(created.has(key)).toBe(false);
            created.add(key);
            live.add(key);
          }
          break;
        case "delete-services":
          for (const k of a.keys) expect(live.delete(k)).toBe(true);
          break;
        case "set-request":
          expect(live.has(a.key)).toBe(true);
          break;
        case "resize-pool":
          expect({ round, resize: a.pool, exists: pools.has(a.pool) }).toEqual({ round, resize: a.pool, exists: true });
          break;
        case "delete-pool":
          expect(pools.delete(a.pool)).toBe(true);
          touched.add(a.pool);
          break;
        case "create-pool":
          expect(pools.has(a.pool)).toBe(false);
          pools.add(a.pool);
          touched.add(a.pool);
          break;
        case "overlap":
          expect(a.present).toBe(!overlap);
          overlap = a.present;
          touched.add("overlap");
          break;
      }
      // The overlapping pool is always the newer of the two: pool-a exists while it does.
      if (overlap) expect(pools.has("pool-a")).toBe(true);
    };
    for (const r of planRun(77, 400)) {
      const touched = new Set<string>();
      for (const a of r.actions) apply(r.round, a, touched);
      expect(touched.has("overlap") && touched.has("pool-a")).toBe(false);
    }
  });

  it("covers every action kind, stack and flavour over a run", () => {
    const actions = planRun(9, 200).flatMap((r) => r.actions);
    const kinds = new Set(actions.map((a) => a.kind));
    expect([...kinds].sort()).toEqual(
      [
        "create-pool",
        "create-services",
        "dangling",
        "delete-pool",
        "delete-services",
        "overlap",
        "resize-pool",
        "select-team",
        "set-request",
      ].sort(),
    );
    const services = actions.flatMap((a) => (a.kind === "create-services" ? a.services : []));
    expect(new Set(services.map((s) => s.stack))).toEqual(new Set(["v4", "v6", "require-dual", "prefer-dual"]));
    expect(services.some((s) => s.foreign)).toBe(true);
    expect(services.some((s) => s.shareKey)).toBe(true);
    expect(services.some((s) => s.requestIP)).toBe(true);
    expect(services.some((s) => s.pool)).toBe(true);
    const faults = new Set(planRun(9, 200).map((r) => r.fault.kind));
    expect(faults).toEqual(new Set(["none", "kill-watcher", "restart-apiserver", "proxy-errors", "proxy-cut"]));
  });
});
