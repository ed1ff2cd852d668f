/** Controller-side L2 metrics. */
import { Gauge, Histogram, register } from "prom-client";

const NAME = "metallb_layer2_failover_seconds";

/**
 * From the moment the controller saw a node reported down by the agents' quorum (or, with
 * no report, its last Lease renewal) to the moment the new owner was recorded in its
 * ServiceL2Status, per Service moved off a dead node. With agent-to-agent failover the
 * standby answers before this; it measures the record, not the outage.
 */
export const failoverSeconds: Histogram =
  (register.getSingleMetric(NAME) as Histogram | undefined) ??
  new Histogram({
    name: NAME,
    help: "Time from a dead node's last seen Lease renewal to its Services' new L2 owner being written",
    buckets: [0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10, 20],
  });

const HOLDING = "metallb_l2_controller_holding";
/** 1 while expiry is suspended because most agents went quiet at once (a stalled watch?). */
export const holdingGauge: Gauge =
  (register.getSingleMetric(HOLDING) as Gauge | undefined) ??
  new Gauge({
    name: HOLDING,
    help: "1 while the L2 controller holds every address in place because most agents went quiet at once",
  });

const VOTERS = "metallb_l2_controller_roster_voters";
/** Voters in the published L2 membership roster. */
export const rosterVotersGauge: Gauge =
  (register.getSingleMetric(VOTERS) as Gauge | undefined) ??
  new Gauge({ name: VOTERS, help: "Voters in the published L2 membership roster (the tie-breaker not counted)" });
