/**
 * MetalLB's k8s client metrics (process-wide, no labels, as MetalLB's), owned by the
 * controller (the Pepr watcher). Pepr-free, so the watch fan-out and unit tests can load it.
 *
 * - updates_total / update_errors_total: Kubernetes object updates the controller processed
 *   (Service, Node and EndpointSlice watch events, and each configuration resolution), and
 *   those a subscriber failed on or that left the configuration invalid.
 * - config_loaded_bool: 1 once a configuration has been loaded.
 * - config_stale_bool: 1 while the latest configuration is invalid and the last good one
 *   is in force for the objects it disabled.
 */
import { Counter, Gauge, register } from "prom-client";

function metric<T extends Counter | Gauge>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

export const k8sClientMetrics = {
  updates: metric(
    "metallb_k8s_client_updates_total",
    () => new Counter({ name: "metallb_k8s_client_updates_total", help: "Number of k8s object updates processed" }),
  ),
  updateErrors: metric(
    "metallb_k8s_client_update_errors_total",
    () =>
      new Counter({
        name: "metallb_k8s_client_update_errors_total",
        help: "Number of k8s object updates that failed to process",
      }),
  ),
  configLoaded: metric(
    "metallb_k8s_client_config_loaded_bool",
    () =>
      new Gauge({
        name: "metallb_k8s_client_config_loaded_bool",
        help: "1 once a configuration has been loaded",
      }),
  ),
  configStale: metric(
    "metallb_k8s_client_config_stale_bool",
    () =>
      new Gauge({
        name: "metallb_k8s_client_config_stale_bool",
        help: "1 while the latest configuration is invalid and an older one is in force",
      }),
  ),
};

/** One processed update; ok=false also counts it as an error. */
export function countUpdate(ok: boolean): void {
  k8sClientMetrics.updates.inc();
  if (!ok) k8sClientMetrics.updateErrors.inc();
}

/** The ConfigurationState the controller writes for itself; the gauges describe that one. */
const OWN = "controller";

/** A configuration resolution: its ConfigurationState name and whether it was valid. */
export function recordConfigResult(configuration: string, valid: boolean): void {
  if (configuration !== OWN) return;
  countUpdate(valid);
  k8sClientMetrics.configLoaded.set(1);
  k8sClientMetrics.configStale.set(valid ? 0 : 1);
}
