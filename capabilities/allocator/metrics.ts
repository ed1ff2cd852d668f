/** MetalLB's allocator metrics, by the names and labels existing dashboards and alerts use. */
import { Gauge, register } from "prom-client";
import type { PoolStats } from "../shared/allocator/types";

const gauge = (name: string, help: string) =>
  (register.getSingleMetric(name) as Gauge<"pool">) ?? new Gauge({ name, help, labelNames: ["pool"] });

export const allocatorMetrics = {
  addressesInUse: gauge("metallb_allocator_addresses_in_use_total", "Number of IP addresses in use, per pool"),
  addressesTotal: gauge("metallb_allocator_addresses_total", "Number of usable IP addresses, per pool"),
  ipv4InUse: gauge("metallb_allocator_ipv4_addresses_in_use_total", "Number of IPv4 addresses in use, per pool"),
  ipv4Total: gauge("metallb_allocator_ipv4_addresses_total", "Number of usable IPv4 addresses, per pool"),
  ipv6InUse: gauge("metallb_allocator_ipv6_addresses_in_use_total", "Number of IPv6 addresses in use, per pool"),
  ipv6Total: gauge("metallb_allocator_ipv6_addresses_total", "Number of usable IPv6 addresses, per pool"),
};

/** Gauges are floats: huge IPv6 pools saturate at Number.MAX_SAFE_INTEGER rather than lose precision silently. */
export const toGaugeValue = (n: bigint): number =>
  n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);

const published = new Set<string>();
/** Pools that currently have series. */
export const publishedPools = (): string[] => [...published];

/** Sets a pool's gauges; undefined stats (the pool is gone) removes its series, so no alert outlives the pool. */
export function publishPoolStats(pool: string, stats: PoolStats | undefined): void {
  const m = allocatorMetrics;
  if (!stats) {
    for (const g of Object.values(m)) g.remove({ pool });
    published.delete(pool);
    return;
  }
  published.add(pool);
  const v4Total = stats.assignedIPv4 + stats.availableIPv4;
  const v6Total = stats.assignedIPv6 + stats.availableIPv6;
  m.addressesInUse.set({ pool }, toGaugeValue(stats.assignedIPv4 + stats.assignedIPv6));
  m.addressesTotal.set({ pool }, toGaugeValue(v4Total + v6Total));
  m.ipv4InUse.set({ pool }, toGaugeValue(stats.assignedIPv4));
  m.ipv4Total.set({ pool }, toGaugeValue(v4Total));
  m.ipv6InUse.set({ pool }, toGaugeValue(stats.assignedIPv6));
  m.ipv6Total.set({ pool }, toGaugeValue(v6Total));
}
