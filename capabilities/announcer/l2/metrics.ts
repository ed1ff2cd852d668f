/** Controller-side L2 metrics. */
import { Histogram, register } from "prom-client";

const NAME = "metallb_layer2_failover_seconds";

/**
 * From the last Lease renewal the controller saw from a node to the moment the new
 * owner's ServiceL2Status was written, per Service moved off a dead node.
 */
export const failoverSeconds: Histogram =
  (register.getSingleMetric(NAME) as Histogram | undefined) ??
  new Histogram({
    name: NAME,
    help: "Time from a dead node's last seen Lease renewal to its Services' new L2 owner being written",
    buckets: [0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10, 20],
  });
