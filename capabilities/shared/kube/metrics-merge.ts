/**
 * Pepr serves /metrics from its own private prom-client Registry, so metrics
 * registered on prom-client's default registry (metallb_allocator_*, ...) would
 * never be scraped. mergeMetrics makes Pepr's collector append another registry's
 * exposition to its own. Pure: pass in Pepr's `metricsCollector` and the registry.
 */
import type { Registry } from "prom-client";

export interface MetricsCollectorLike {
  getMetrics: () => Promise<string>;
}

const merged = new WeakSet<MetricsCollectorLike>();

/** Idempotent: merging twice does not duplicate the series. */
export function mergeMetrics(collector: MetricsCollectorLike, registry: Pick<Registry, "metrics">): void {
  if (merged.has(collector)) return;
  merged.add(collector);
  const own = collector.getMetrics.bind(collector);
  collector.getMetrics = async () => {
    const [mine, theirs] = await Promise.all([own(), registry.metrics()]);
    return theirs.trim() ? `${mine.trimEnd()}\n${theirs}` : mine;
  };
}
