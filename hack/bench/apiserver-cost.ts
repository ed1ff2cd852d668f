/**
 * What a run cost the API server, from its own /metrics: CPU seconds, requests by
 * verb and resource, watch events sent, admission webhook calls. Two scrapes, one
 * before and one after; the difference is the run's. Lets a benchmark say where
 * the time went instead of guessing.
 */
import type { KubeHttp } from "../../capabilities/shared/kube/http";

export type Counters = Map<string, number>;

/** Sums Prometheus text-format samples of the named metrics, keyed by metric and chosen labels. */
export function parseCounters(text: string, keep: Record<string, string[]>): Counters {
  const out: Counters = new Map();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || !(m[1] in keep)) continue;
    const labels = new Map<string, string>();
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)) labels.set(l[1], l[2]);
    const key = [m[1], ...keep[m[1]].map((l) => labels.get(l) || "-")].join(" ");
    out.set(key, (out.get(key) ?? 0) + Number(m[3]));
  }
  return out;
}

const WANTED: Record<string, string[]> = {
  process_cpu_seconds_total: [],
  apiserver_request_total: ["verb", "resource", "subresource"],
  apiserver_watch_events_total: ["kind"],
  apiserver_admission_webhook_admission_duration_seconds_count: ["type", "operation"],
};

export async function scrape(http: KubeHttp): Promise<Counters> {
  return parseCounters(await http.send<string>("GET", "/metrics"), WANTED);
}

/** after - before, dropping what did not move. */
export function delta(before: Counters, after: Counters): Counters {
  const out: Counters = new Map();
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (d > 0) out.set(k, d);
  }
  return out;
}

/** One line per counter, per Service created, largest first. */
export function perService(d: Counters, services: number): Record<string, number> {
  return Object.fromEntries(
    [...d]
      .map(
        ([k, v]) =>
          [k.replace(/^apiserver_|_total|_seconds_count/g, ""), Math.round((v / services) * 1000) / 1000] as const,
      )
      .filter(([, v]) => v >= 0.01)
      .sort((a, b) => b[1] - a[1]),
  );
}
