import { isBuggyIPv4Value } from "./capacity";
import { UsedRuns } from "./used-runs";

describe("UsedRuns", () => {
  it("finds the lowest free address and fills holes first", () => {
    const runs = new UsedRuns();
    expect(runs.lowestFree(10n, 20n)).toBe(10n);
    for (const v of [10n, 11n, 12n, 14n]) runs.add(v);
    expect(runs.lowestFree(10n, 20n)).toBe(13n);
    runs.add(13n);
    expect(runs.runCount).toBe(1);
    expect(runs.lowestFree(10n, 20n)).toBe(15n);
    runs.remove(11n);
    expect(runs.lowestFree(10n, 20n)).toBe(11n);
    expect(runs.has(11n)).toBe(false);
    expect(runs.has(12n)).toBe(true);
  });

  it("reports a full range and splits/merges runs on removal", () => {
    const runs = new UsedRuns();
    for (let v = 0n; v < 4n; v++) runs.add(v);
    expect(runs.lowestFree(0n, 3n)).toBeUndefined();
    runs.remove(0n);
    runs.remove(3n);
    expect(runs.lowestFree(0n, 3n)).toBe(0n);
    runs.add(0n);
    expect(runs.lowestFree(0n, 3n)).toBe(3n);
    runs.remove(1n);
    runs.remove(2n);
    expect(runs.runCount).toBe(1);
    runs.remove(0n);
    expect(runs.runCount).toBe(0);
    runs.remove(7n); // unknown addresses are ignored
    expect(runs.lowestFree(0n, 3n)).toBe(0n);
  });

  it("never returns skipped addresses and merges runs across them", () => {
    const runs = new UsedRuns(isBuggyIPv4Value);
    // 0..511 spans two /24-sized blocks: .0 and .255 of each are skipped.
    expect(runs.lowestFree(0n, 511n)).toBe(1n);
    for (let v = 1n; v <= 254n; v++) runs.add(v);
    expect(runs.lowestFree(0n, 511n)).toBe(257n);
    runs.add(257n);
    expect(runs.runCount).toBe(1);
    runs.add(300n);
    runs.add(299n);
    expect(runs.runCount).toBe(2);
    expect(runs.lowestFree(0n, 511n)).toBe(258n);
    expect(runs.lowestFree(255n, 256n)).toBeUndefined();
  });

  it("keeps a sequential fill in one run (the common case stays O(log n))", () => {
    const runs = new UsedRuns(isBuggyIPv4Value);
    for (let i = 0; i < 5000; i++) runs.add(runs.lowestFree(0n, 1n << 24n)!);
    expect(runs.runCount).toBe(1);
  });

  it.each([false, true])("agrees with a plain set under random adds and removes (skip buggy: %p)", (skipBuggy) => {
    const runs = new UsedRuns(skipBuggy ? isBuggyIPv4Value : undefined);
    const model = new Set<bigint>();
    const high = 1023n;
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const expectedLowest = (): bigint | undefined => {
      for (let v = 0n; v <= high; v++) if (!model.has(v) && !(skipBuggy && isBuggyIPv4Value(v))) return v;
      return undefined;
    };
    for (let step = 0; step < 4000; step++) {
      const v = BigInt(Math.floor(rand() * 1024));
      if (model.has(v)) {
        model.delete(v);
        runs.remove(v);
      } else if (!(skipBuggy && isBuggyIPv4Value(v))) {
        model.add(v);
        runs.add(v);
      }
      if (step % 50 === 0) {
        expect(runs.lowestFree(0n, high)).toBe(expectedLowest());
        for (const probe of [v, v + 1n, 5n])
          expect(runs.has(probe) || (skipBuggy && isBuggyIPv4Value(probe))).toBe(
            model.has(probe) || (skipBuggy && isBuggyIPv4Value(probe)),
          );
      }
    }
    // Fill the rest from the bottom: must end exactly full.
    for (let v = runs.lowestFree(0n, high); v !== undefined; v = runs.lowestFree(0n, high)) {
      expect(model.has(v)).toBe(false);
      model.add(v);
      runs.add(v);
    }
    expect(expectedLowest()).toBeUndefined();
  });
});
