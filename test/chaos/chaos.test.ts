/**
 * The chaos suite: seeded rounds of Service bursts, configuration edits and faults
 * (watcher SIGKILL mid-burst, kube-apiserver restart, an API that answers 429/500 or
 * cuts streams) against a real kube-apiserver + etcd and the module's real watcher
 * process; after every round, the invariants of invariants.ts over every Service.
 *
 * No admission webhook runs here, deliberately: the rounds create objects admission
 * would refuse (a BGPAdvertisement naming an unknown Community alias, a BGPPeer naming
 * a missing BFDProfile, a Community deleted while in use, an overlapping pool) to prove
 * that a bad object disables only itself.
 *
 *   CHAOS_SEED=<n>      repeat a run (the seed is printed at the start)
 *   CHAOS_ROUNDS=<n>    rounds (default 200; at least 15.5% SIGKILL the watcher, 3% restart the API server)
 *   CHAOS_QUIET_MS=<n>  settle: no Service change for this long (default 1000)
 *   CHAOS_STOP_AFTER=<n>  stop after round n of the same plan (the plan depends on seed and CHAOS_ROUNDS)
 *   CHAOS_STOP_ON_FAILURE=1  stop after the first failing round
 *   KEEP_CHAOS_CLUSTER=1  leave the control plane in .lab/chaos-cluster running
 *
 * Its own control plane (API 36443, etcd 32379, .lab/chaos-cluster), apart from the
 * integration tests'. Logs: .lab/chaos-cluster/chaos.log, watcher-<n>.log, apiserver.log.
 */
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { planRun, quotas } from "./plan";
import { randomSeed } from "./rng";
import { ChaosRunner, type RoundResult } from "./runner";
import { chaosCluster, startSystem, type ChaosSystem } from "./system";
import { formatReport } from "./report";

const rounds = Number(process.env.CHAOS_ROUNDS ?? 200);
const seed = process.env.CHAOS_SEED !== undefined ? Number(process.env.CHAOS_SEED) : randomSeed();
const quietMs = Number(process.env.CHAOS_QUIET_MS ?? 1000);
/** Run the plan of CHAOS_ROUNDS rounds only up to this round (to inspect a failing one with KEEP_CHAOS_CLUSTER=1). */
const stopAfter = Number(process.env.CHAOS_STOP_AFTER ?? rounds);
const logFile = join(chaosCluster.stateDir, "chaos.log");

mkdirSync(chaosCluster.stateDir, { recursive: true });
writeFileSync(logFile, "");
function log(line: string): void {
  appendFileSync(logFile, `${line}\n`);
  process.stderr.write(`${line}\n`);
}

let sys: ChaosSystem | undefined;
let runner: ChaosRunner | undefined;

beforeAll(async () => {
  log(`CHAOS_SEED=${seed} CHAOS_ROUNDS=${rounds}`);
  sys = await startSystem(log);
  runner = new ChaosRunner(sys, {
    quietMs,
    deadlineMs: 30_000,
    restartDeadlineMs: 30_000,
    apiServerGraceMs: 2_000,
    log,
  });
  await runner.setup();
  await runner.settleInitial();
}, 15 * 60_000);

afterAll(async () => {
  await runner?.close();
  await sys?.stop();
}, 120_000);

it(
  `${rounds} chaos rounds keep every invariant (CHAOS_SEED=${seed})`,
  async () => {
    const plan = planRun(seed, rounds);
    const q = quotas(rounds);
    log(`plan: ${rounds} rounds, ${q.kills} watcher SIGKILLs, ${q.apiRestarts} API server restarts`);
    const results: RoundResult[] = [];
    const began = Date.now();
    for (const round of plan) {
      for (const line of ChaosRunner.describe(round, rounds)) log(line);
      const r = await runner!.runRound(round);
      results.push(r);
      log(
        `  settled in ${r.settleMs} ms${r.timedOut ? " (deadline passed)" : ""}; round ${r.ms} ms; ${r.failures.length ? `${r.failures.length} VIOLATION(S)` : "ok"}`,
      );
      for (const f of r.failures) log(`  ! invariant ${f.invariant}: ${f.message}`);
      if (process.env.CHAOS_STOP_ON_FAILURE && r.failures.length) break;
      if (round.round === stopAfter) break;
    }
    const report = formatReport(seed, plan, results, Date.now() - began);
    for (const line of report.split("\n")) log(line);
    writeFileSync(join(chaosCluster.stateDir, "chaos-report.json"), JSON.stringify({ seed, rounds, results }, null, 1));
    expect(results.flatMap((r) => r.failures.map((f) => ({ round: r.round, ...f })))).toEqual([]);
  },
  rounds * 60_000,
);
