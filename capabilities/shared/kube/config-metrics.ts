/**
 * The controller's own Prometheus metrics on Pepr's /metrics. Controller-only (it imports pepr).
 */
import { metricsCollector } from "pepr";
import { register } from "prom-client";
import { mergeMetrics } from "./metrics-merge";

/** Makes Pepr's /metrics (its own registry) also serve prom-client's default one, where ours live. */
export function exposeControllerMetrics(): void {
  mergeMetrics(metricsCollector, register);
}

/** MetalLB's config gauges live in the pepr-free metrics.ts; re-exported for configuration-state.ts. */
export { recordConfigResult } from "./metrics";
