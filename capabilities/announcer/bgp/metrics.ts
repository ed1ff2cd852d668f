/**
 * BGP metrics the controller can compute: per session, prefixes planned and
 * prefixes still pending (planned but not yet reported advertised by the agent).
 * Per-session wire counters belong to the agent, and so does MetalLB's
 * metallb_bgp_pending_prefixes_total (the speaker's own view, per peer): these carry
 * `controller` in their names so the two jobs never export one name with two meanings.
 */
import { Gauge, register } from "prom-client";
import type { PendingRow } from "./pending";

type Labels = "peer" | "node";
const gauge = (name: string, help: string) =>
  (register.getSingleMetric(name) as Gauge<Labels>) ?? new Gauge({ name, help, labelNames: ["peer", "node"] });

export const bgpControllerMetrics = {
  pending: gauge(
    "metallb_bgp_controller_pending_prefixes",
    "Planned prefixes the node's session has not reported advertised, per peer and node",
  ),
  planned: gauge(
    "metallb_bgp_controller_planned_prefixes",
    "Prefixes the plan sends on the session, per peer and node",
  ),
};

/** Replaces every series, so sessions that went away stop being reported. */
export function publishPending(rows: readonly PendingRow[]): void {
  bgpControllerMetrics.pending.reset();
  bgpControllerMetrics.planned.reset();
  for (const r of rows) {
    bgpControllerMetrics.pending.set({ peer: r.peerLabel, node: r.node }, r.pending);
    bgpControllerMetrics.planned.set({ peer: r.peerLabel, node: r.node }, r.planned);
  }
}
