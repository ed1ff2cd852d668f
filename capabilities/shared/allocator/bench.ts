/**
 * Allocation engine benchmark: sequential allocations into huge pools, plus churn
 * (release a random address, allocate again) on a full-ish pool. Reports throughput,
 * per-call latency and memory next to each other. Not a test: nothing here asserts.
 *
 *   npx esbuild capabilities/shared/allocator/bench.ts --bundle --platform=node --outfile=/tmp/bench.js && node /tmp/bench.js
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { parseCIDR, type Family } from "../net/ip";
import { Allocator } from "./allocator";
import type { Pool, ServiceRequest } from "./types";

export interface BenchResult {
  readonly scenario: string;
  readonly pool: string;
  readonly allocations: number;
  readonly runs: number;
  /** Median over runs of whole-run throughput. */
  readonly allocsPerSecMedian: number;
  /** Per-call latency over all calls of all runs, microseconds. */
  readonly latencyP50Us: number;
  readonly latencyP99Us: number;
  /** Growth while the allocator held the assignments (median over runs), MiB. */
  readonly rssDeltaMiB: number;
  readonly heapDeltaMiB: number;
  readonly usedRuns: number;
}

interface Scenario {
  readonly name: string;
  readonly pool: Pool;
  readonly family: Family;
  readonly count: number;
  /**
   * fill: timed sequential allocations; churn: after an untimed fill, timed cycles of
   * releasing a random holder and allocating again; holes: after an untimed fill, every
   * other address is released (worst fragmentation), then the holes are refilled, timed.
   */
  readonly mode: "fill" | "churn" | "holes";
  /** Timed operations. */
  readonly ops: number;
}

const cidr = (text: string) => parseCIDR(text)!;

const V4_POOL: Pool = { name: "v4-slash8", cidrs: [cidr("10.0.0.0/8")], autoAssign: true, avoidBuggyIPs: true };
const V6_POOL: Pool = { name: "v6-slash64", cidrs: [cidr("2001:db8::/64")], autoAssign: true, avoidBuggyIPs: false };

const request = (i: number, family: Family): ServiceRequest => ({
  serviceKey: `bench/svc-${i}`,
  namespace: "bench",
  ipFamilies: [family],
  ports: [{ protocol: "TCP", port: 80 }],
});

/** A collector when the runtime lets us have one, so memory deltas are not garbage noise. */
function gcFunction(): (() => void) | undefined {
  try {
    setFlagsFromString("--expose-gc");
    return runInNewContext("gc") as () => void;
  } catch {
    return undefined;
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
};

const percentile = (sorted: Float64Array, p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

const MiB = 1024 * 1024;

/** Deterministic pseudo-random sequence, so runs are comparable. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

interface RunSample {
  readonly opsPerSec: number;
  readonly rssDelta: number;
  readonly heapDelta: number;
  readonly usedRuns: number;
}

/** One run; fills `latencies` (allocated by the caller, before the memory baseline). */
function runOnce(sc: Scenario, gc: (() => void) | undefined, latencies: Float64Array): RunSample {
  gc?.();
  const before = process.memoryUsage();
  const allocator = new Allocator();
  allocator.setPools([sc.pool]);
  let n = 0;
  const timedAllocate = (i: number): void => {
    const t0 = process.hrtime.bigint();
    const r = allocator.allocate(request(i, sc.family));
    latencies[n++] = Number(process.hrtime.bigint() - t0) / 1000;
    if (!r.ok) throw new Error(`bench allocation failed: ${r.error.message}`);
  };

  let from = process.hrtime.bigint();
  if (sc.mode === "fill") {
    for (let i = 0; i < sc.count; i++) timedAllocate(i);
  } else {
    for (let i = 0; i < sc.count; i++) allocator.allocate(request(i, sc.family));
    if (sc.mode === "churn") {
      const rand = lcg(42);
      from = process.hrtime.bigint();
      for (let c = 0; c < sc.ops; c++) {
        const victim = Math.floor(rand() * sc.count);
        allocator.release(`bench/svc-${victim}`);
        timedAllocate(victim);
      }
    } else {
      for (let i = 0; i < sc.count; i += 2) allocator.release(`bench/svc-${i}`);
      from = process.hrtime.bigint();
      for (let i = 0; i < sc.count; i += 2) timedAllocate(i);
    }
  }
  const seconds = Number(process.hrtime.bigint() - from) / 1e9;
  gc?.();
  const after = process.memoryUsage();
  return {
    opsPerSec: n / seconds,
    rssDelta: (after.rss - before.rss) / MiB,
    heapDelta: (after.heapUsed - before.heapUsed) / MiB,
    // Also keeps the allocator reachable until memory has been measured.
    usedRuns: countRuns(allocator),
  };
}

/** Fragmentation of the free-address index (reaches into internals on purpose: bench only). */
function countRuns(allocator: Allocator): number {
  const pools = (
    allocator as unknown as { pools: Array<{ cidrsOf(f: Family): Array<{ used: { runCount: number } }> }> }
  ).pools;
  return pools.reduce((n, p) => n + [...p.cidrsOf(4), ...p.cidrsOf(6)].reduce((m, c) => m + c.used.runCount, 0), 0);
}

function scenarios(): Scenario[] {
  const out: Scenario[] = [];
  for (const [pool, family] of [
    [V4_POOL, 4],
    [V6_POOL, 6],
  ] as const) {
    for (const count of [1_000, 10_000, 100_000]) {
      out.push({ name: "sequential fill", pool, family, count, mode: "fill", ops: count });
    }
    out.push({ name: "churn after 100k", pool, family, count: 100_000, mode: "churn", ops: 10_000 });
    out.push({ name: "refill 50k holes of 100k", pool, family, count: 100_000, mode: "holes", ops: 50_000 });
  }
  return out;
}

export async function runAllocatorBench(): Promise<BenchResult[]> {
  const gc = gcFunction();
  const results: BenchResult[] = [];
  for (const sc of scenarios()) {
    const runs = sc.count >= 100_000 ? 3 : 5;
    const ops = sc.ops;
    const latencies = new Float64Array(ops * runs);
    const samples: RunSample[] = [];
    for (let r = 0; r < runs; r++) {
      samples.push(runOnce(sc, gc, latencies.subarray(r * ops, (r + 1) * ops)));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const sorted = latencies.sort();
    results.push({
      scenario: sc.name,
      pool: sc.pool.name,
      allocations: ops,
      runs,
      allocsPerSecMedian: Math.round(median(samples.map((s) => s.opsPerSec))),
      latencyP50Us: round2(percentile(sorted, 0.5)),
      latencyP99Us: round2(percentile(sorted, 0.99)),
      rssDeltaMiB: round2(median(samples.map((s) => s.rssDelta))),
      heapDeltaMiB: round2(median(samples.map((s) => s.heapDelta))),
      usedRuns: samples[0].usedRuns,
    });
  }
  return results;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

function printTable(results: readonly BenchResult[]): void {
  const header = [
    "scenario",
    "pool",
    "allocations",
    "runs",
    "allocs/s (median)",
    "p50 µs",
    "p99 µs",
    "RSS Δ MiB",
    "heap Δ MiB",
    "runs in index",
  ];
  const rows = results.map((r) => [
    r.scenario,
    r.pool,
    String(r.allocations),
    String(r.runs),
    String(r.allocsPerSecMedian),
    String(r.latencyP50Us),
    String(r.latencyP99Us),
    String(r.rssDeltaMiB),
    String(r.heapDeltaMiB),
    String(r.usedRuns),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const row of rows) console.log(line(row));
}

if (require.main === module) {
  runAllocatorBench()
    .then((results) => {
      printTable(results);
      console.log(JSON.stringify({ benchmark: "allocator", node: process.version, results }, null, 2));
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
