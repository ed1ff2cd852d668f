/**
 * The controller's own Prometheus metrics on Pepr's /metrics, and MetalLB's
 * configuration health gauges. Label `configuration` is the ConfigurationState
 * name; stale = the configuration is invalid and an older one is in force,
 * loaded = the current one is in force.
 *
 * Controller-only (it imports pepr).
 */
import { metricsCollector } from "pepr";
import { Gauge, register } from "prom-client";
import { mergeMetrics } from "./metrics-merge";

/** Makes Pepr's /metrics (its own registry) also serve prom-client's default one, where ours live. */
export function exposeControllerMetrics(): void {
  mergeMetrics(metricsCollector, register);
}

const gauge = (name: string, help: string) =>
  (register.getSingleMetric(name) as Gauge<"configuration">) ??
  new Gauge({ name, help, labelNames: ["configuration"] });

const loaded = gauge("metallb_k8s_client_config_loaded_bool", "1 if the current configuration is valid and in force");
const stale = gauge(
  "metallb_k8s_client_config_stale_bool",
  "1 if the configuration is invalid and an older one is in force",
);

export function recordConfigResult(configuration: string, valid: boolean): void {
  loaded.set({ configuration }, valid ? 1 : 0);
  stale.set({ configuration }, valid ? 0 : 1);
}
