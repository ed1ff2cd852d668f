import { Gauge, Registry } from "prom-client";
import { mergeMetrics } from "./metrics-merge";

/** Stands in for Pepr's MetricsCollector: a private registry behind getMetrics. */
function fakeCollector() {
  const registry = new Registry();
  new Gauge({ name: "pepr_errors", help: "errors", registers: [registry] }).set(0);
  return { getMetrics: () => registry.metrics() };
}

describe("mergeMetrics", () => {
  it("serves the other registry's metrics beside Pepr's own, once", async () => {
    const collector = fakeCollector();
    const ours = new Registry();
    new Gauge({
      name: "metallb_allocator_addresses_in_use_total",
      help: "in use",
      labelNames: ["pool"],
      registers: [ours],
    }).set({ pool: "lab" }, 3);
    mergeMetrics(collector, ours);
    mergeMetrics(collector, ours);
    const text = await collector.getMetrics();
    expect(text).toContain("pepr_errors 0");
    expect(text).toContain('metallb_allocator_addresses_in_use_total{pool="lab"} 3');
    expect(text.match(/# TYPE metallb_allocator_addresses_in_use_total/g)).toHaveLength(1);
  });

  it("leaves Pepr's output untouched when the other registry is empty", async () => {
    const collector = fakeCollector();
    const before = await collector.getMetrics();
    mergeMetrics(collector, new Registry());
    expect(await collector.getMetrics()).toBe(before);
  });
});
