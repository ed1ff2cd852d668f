/**
 * metallb_pepr_webhook_certificate_expiry_timestamp_seconds: notAfter of the certificate the
 * process's HTTPS server (webhooks, /metrics, /healthz) serves, for the expiry alerts.
 *
 * Pepr serves /metrics from a private registry. pepr.ts merges prom-client's default registry
 * into it in the watcher and `pepr dev` only: admission pods would otherwise publish the
 * controller's gauges at zero. This gauge matters in both, so it lives in a registry of its own
 * that is appended to Pepr's output in every process; never in the default registry, or the
 * watcher would serve it twice, which fails the scrape.
 */
import { Gauge, Registry } from "prom-client";
import type { MetricsCollectorLike } from "./metrics-merge";

export const CERT_EXPIRY_METRIC = "metallb_pepr_webhook_certificate_expiry_timestamp_seconds";

export const servingCertRegistry = new Registry();

export const certExpiry = new Gauge({
  name: CERT_EXPIRY_METRIC,
  help: "Expiry (notAfter, unix seconds) of the certificate the webhook server serves",
  registers: [servingCertRegistry],
});

const exposed = new WeakSet<MetricsCollectorLike>();

/** Appends the gauge to a collector's output; idempotent, and independent of other merges' order. */
export function exposeCertExpiry(collector: MetricsCollectorLike): void {
  if (exposed.has(collector)) return;
  exposed.add(collector);
  const own = collector.getMetrics.bind(collector);
  collector.getMetrics = async () => {
    const [theirs, mine] = await Promise.all([own(), servingCertRegistry.metrics()]);
    return `${theirs.trimEnd()}\n${mine}`;
  };
}
