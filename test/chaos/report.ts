/** The closing summary of a chaos run: what ran, how long, and every failing round with its plan. */
import { type RoundPlan, describeAction, describeFault } from "./plan";
import type { RoundResult } from "./runner";

export function formatReport(
  seed: number,
  plan: readonly RoundPlan[],
  results: readonly RoundResult[],
  ms: number,
): string {
  const ran = plan.slice(0, results.length);
  const count = (kind: string): number => ran.filter((p) => p.fault.kind === kind).length;
  const failed = results.filter((r) => r.failures.length);
  const byInvariant = new Map<string, number>();
  for (const r of failed)
    for (const f of r.failures) byInvariant.set(String(f.invariant), (byInvariant.get(String(f.invariant)) ?? 0) + 1);
  const lines = [
    `CHAOS_SEED=${seed}: ${results.length} rounds in ${(ms / 1000).toFixed(0)} s ` +
      `(${count("kill-watcher")} watcher SIGKILLs, ${count("restart-apiserver")} API server restarts, ` +
      `${count("proxy-errors") + count("proxy-cut")} proxy faults; ${results.filter((r) => r.timedOut).length} rounds hit their deadline)`,
    `time per round by fault: ${["none", "kill-watcher", "restart-apiserver", "proxy-errors", "proxy-cut"]
      .map((kind) => {
        const rs = results.filter((r) => plan[r.round - 1].fault.kind === kind);
        return rs.length
          ? `${kind} ${(rs.reduce((t, r) => t + r.ms, 0) / rs.length / 1000).toFixed(1)} s (x${rs.length})`
          : "";
      })
      .filter(Boolean)
      .join(", ")}`,
    failed.length === 0
      ? "every invariant held"
      : `${failed.length} rounds failed; violations by invariant: ${[...byInvariant].map(([k, n]) => `${k}: ${n}`).join(", ")}`,
  ];
  for (const r of failed) {
    const p = plan[r.round - 1];
    lines.push(`round ${r.round} (CHAOS_SEED=${seed}): ${describeFault(p.fault)}`);
    for (const a of p.actions) lines.push(`    - ${describeAction(a)}`);
    for (const f of r.failures) lines.push(`    ! invariant ${f.invariant}: ${f.message}`);
  }
  return lines.join("\n");
}
