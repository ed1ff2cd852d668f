/** MetalLB's allocator metrics, by the names existing dashboards and alerts use. */
import { Gauge, register } from "prom-client";

const gauge = (name: string, help: string) =>
  (register.getSingleMetric(name) as Gauge<"pool">) ?? new Gauge({ name, help, labelNames: ["pool"] });

export const allocatorMetrics = {
  addressesInUse: gauge("metallb_allocator_addresses_in_use_total", "Number of IP addresses in use, per pool"),
  addressesTotal: gauge("metallb_allocator_addresses_total", "Number of usable IP addresses, per pool"),
};

/** Gauges are floats: huge IPv6 pools saturate at Number.MAX_SAFE_INTEGER rather than lose precision silently. */
export const toGaugeValue = (n: bigint): number =>
  n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
