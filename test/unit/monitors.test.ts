/**
 * deploy/podmonitor.yaml and deploy/servicemonitor.yaml select what actually runs: the agent
 * DaemonSet our code applies (agent-manifests.ts) and the watcher Service Pepr generates
 * (its own generator function, read from the installed pepr). A renamed label, port or
 * Service breaks this test instead of silently emptying the scrape and disarming the alerts.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import pkg from "../../package.json";
import { agentDaemonSet } from "../../capabilities/shared/kube/agent-manifests";
import { readAgentSettings } from "../../capabilities/announcer/agent/settings";

const root = join(__dirname, "..", "..");
const load = (file: string) => parse(readFileSync(join(root, "deploy", file), "utf8"));

interface Relabel {
  action?: string;
  sourceLabels?: string[];
  regex?: string;
  targetLabel?: string;
  replacement?: string;
}
const jobOf = (relabelings: Relabel[] = []) =>
  relabelings.find((r) => r.targetLabel === "job" && (r.action ?? "replace") === "replace")?.replacement;

/** Every job="..." the alert rules select. */
const ruleJobs = new Set(
  [...readFileSync(join(root, "deploy", "prometheusrule.yaml"), "utf8").matchAll(/job="([^"]+)"/g)].map((m) => m[1]),
);

const subset = (want: Record<string, string>, have: Record<string, string> = {}) =>
  Object.entries(want).every(([k, v]) => have[k] === v);

/** The watcher Service exactly as `pepr build` writes it: Pepr's own generator, evaluated. */
function peprWatcherService(name: string): {
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: { selector: Record<string, string>; ports: Array<{ port: number; targetPort: number }> };
} {
  const cli = readFileSync(require.resolve("pepr/dist/cli.js"), "utf8");
  const start = cli.indexOf("function watcherService(");
  expect(start).toBeGreaterThan(0);
  let depth = 0;
  let end = cli.indexOf("{", start);
  for (; end < cli.length; end++) {
    if (cli[end] === "{") depth++;
    else if (cli[end] === "}" && --depth === 0) break;
  }
  const make = new Function("isWatcher", `return (${cli.slice(start, end + 1)});`)(() => true);
  return make(name, { capabilities: [] });
}

describe("PodMonitor (agents)", () => {
  const monitor = load("podmonitor.yaml");
  const namespace = readAgentSettings({ NODE_NAME: "n" }).namespace;
  const ds = agentDaemonSet({ namespace, image: "agent:test" }) as unknown as {
    metadata: { namespace: string };
    spec: {
      template: {
        metadata: { labels: Record<string, string> };
        spec: { hostNetwork: boolean; containers: Array<{ ports: Array<{ name: string; containerPort: number }> }> };
      };
    };
  };

  it("selects the DaemonSet's pods in the agent's default namespace", () => {
    expect(monitor.kind).toBe("PodMonitor");
    expect(monitor.spec.namespaceSelector.matchNames).toContain(ds.metadata.namespace);
    expect(subset(monitor.spec.selector.matchLabels, ds.spec.template.metadata.labels)).toBe(true);
  });

  it("scrapes the agent's named metrics port, as the job the alerts use", () => {
    const ports = ds.spec.template.spec.containers.flatMap((c) => c.ports ?? []);
    const [endpoint] = monitor.spec.podMetricsEndpoints;
    const port = ports.find((p) => p.name === endpoint.port);
    expect(port?.containerPort).toBe(readAgentSettings({ NODE_NAME: "n" }).metrics.port);
    expect(endpoint.path).toBe("/metrics");
    expect(ruleJobs).toContain(jobOf(endpoint.relabelings));
  });
});

describe("ServiceMonitor (controller)", () => {
  const monitor = load("servicemonitor.yaml");
  const service = peprWatcherService(`pepr-${pkg.pepr.uuid}`);

  it("selects Pepr's watcher Service, and only ours among Pepr modules", () => {
    expect(monitor.kind).toBe("ServiceMonitor");
    expect(monitor.spec.namespaceSelector.matchNames).toContain(service.metadata.namespace);
    expect(subset(monitor.spec.selector.matchLabels, service.metadata.labels)).toBe(true);
    const [endpoint] = monitor.spec.endpoints;
    const keep = (endpoint.relabelings as Relabel[]).find((r) => r.action === "keep");
    expect(keep?.sourceLabels).toEqual(["__meta_kubernetes_service_name"]);
    expect(new RegExp(`^(?:${keep!.regex})$`).test(service.metadata.name)).toBe(true);
  });

  it("scrapes the port the Service forwards to, over HTTPS, as the job the alerts use", () => {
    const [endpoint] = monitor.spec.endpoints;
    expect(service.spec.ports.map((p) => p.targetPort)).toContain(endpoint.targetPort);
    expect(endpoint.scheme).toBe("https");
    expect(endpoint.path).toBe("/metrics");
    expect(ruleJobs).toContain(jobOf(endpoint.relabelings));
  });

  it("every job the alerts name is scraped by one of the two monitors", () => {
    const scraped = [
      jobOf(monitor.spec.endpoints[0].relabelings),
      jobOf(load("podmonitor.yaml").spec.podMetricsEndpoints[0].relabelings),
    ];
    expect([...ruleJobs].filter((j) => !scraped.includes(j))).toEqual([]);
  });
});
