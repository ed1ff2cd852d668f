/**
 * Metric names and labels: MetalLB's metrics keep MetalLB's exact names and label sets (a
 * dashboard written for MetalLB works unchanged); each name has one owning process; and
 * deploy/ (Grafana dashboard, PrometheusRule) only refers to metrics the code actually
 * registers, so a renamed metric cannot silently blank a panel or disarm an alert.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { register, type Registry } from "prom-client";
import { parse } from "yaml";
import { publishPoolStats } from "../../capabilities/allocator/metrics";
import { agentMetrics, agentRegistry, setAnnounced } from "../../capabilities/announcer/agent/metrics";
import { bfdMetrics } from "../../capabilities/announcer/agent/bfd/metrics";
import { bgpMetrics } from "../../capabilities/announcer/agent/bgp/metrics";
import { countUpdate, recordConfigResult } from "../../capabilities/shared/kube/metrics";

const root = join(__dirname, "..", "..");

function sources(dir: string, skip?: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (p === skip) return [];
    if (statSync(p).isDirectory()) return sources(p, skip);
    return p.endsWith(".ts") && !p.endsWith(".test.ts") ? [readFileSync(p, "utf8")] : [];
  });
}

const namesIn = (texts: string[]) =>
  new Set(texts.flatMap((s) => [...s.matchAll(/"(metallb_[a-z0-9_]+)"/g)].map((m) => m[1])));

const registered = new Set(
  sources(join(root, "capabilities")).flatMap((s) =>
    [...s.matchAll(/"((?:metallb|pepr)_[a-z0-9_]+)"/g)].map((m) => m[1]),
  ),
);
/** Metric names in PromQL; prefixes written as `metallb_bgp_*` in comments are skipped. */
const metricsIn = (text: string) =>
  new Set(
    [...text.matchAll(/\bmetallb_[a-z0-9_]*[a-z0-9]\b(?!\*)/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, "")),
  );

describe("metric names", () => {
  it("the controller and the node agent never export the same name (one series, one meaning, one job)", () => {
    const agentDir = join(root, "capabilities", "announcer", "agent");
    const agent = namesIn(sources(agentDir));
    const controller = namesIn(sources(join(root, "capabilities"), agentDir));
    expect(agent.size).toBeGreaterThan(5);
    expect([...agent].filter((n) => controller.has(n))).toEqual([]);
  });
});

/**
 * reference/metallb.md §6: every MetalLB metric we export, with MetalLB's label names.
 * (metallb_allocator_services_allocated_total is registered by MetalLB but never set, and
 * the FRR-only BFD echo/zebra counters count what we do not run: not exported.)
 */
const METALLB: Record<"controller" | "agent", Record<string, string[]>> = {
  controller: {
    metallb_allocator_addresses_total: ["pool"],
    metallb_allocator_addresses_in_use_total: ["pool"],
    metallb_allocator_ipv4_addresses_total: ["pool"],
    metallb_allocator_ipv4_addresses_in_use_total: ["pool"],
    metallb_allocator_ipv6_addresses_total: ["pool"],
    metallb_allocator_ipv6_addresses_in_use_total: ["pool"],
    metallb_k8s_client_updates_total: [],
    metallb_k8s_client_update_errors_total: [],
    metallb_k8s_client_config_loaded_bool: [],
    metallb_k8s_client_config_stale_bool: [],
  },
  agent: {
    metallb_speaker_announced: ["ip", "node", "protocol", "service"],
    metallb_layer2_requests_received: ["ip"],
    metallb_layer2_responses_sent: ["ip"],
    metallb_layer2_gratuitous_sent: ["ip"],
    metallb_bgp_session_up: ["peer"],
    metallb_bgp_updates_total: ["peer"],
    metallb_bgp_announced_prefixes_total: ["peer"],
    metallb_bgp_pending_prefixes_total: ["peer"],
    // FRR mode's message counters (MetalLB adds `vrf` there; we run no VRFs).
    metallb_bgp_opens_sent: ["peer"],
    metallb_bgp_opens_received: ["peer"],
    metallb_bgp_keepalives_sent: ["peer"],
    metallb_bgp_keepalives_received: ["peer"],
    metallb_bgp_notifications_sent: ["peer"],
    metallb_bgp_route_refresh_sent: ["peer"],
    metallb_bgp_updates_total_received: ["peer"],
    metallb_bgp_total_sent: ["peer"],
    metallb_bgp_total_received: ["peer"],
    metallb_bfd_session_up: ["peer"],
    metallb_bfd_control_packet_input: ["peer"],
    metallb_bfd_control_packet_output: ["peer"],
    metallb_bfd_session_up_events: ["peer"],
    metallb_bfd_session_down_events: ["peer"],
  },
};

describe("MetalLB parity", () => {
  bgpMetrics();
  bfdMetrics();
  const labelsOf = (registry: Registry, name: string) =>
    [...((registry.getSingleMetric(name) as unknown as { labelNames?: string[] })?.labelNames ?? [])].sort();

  it.each([
    ["controller", register],
    ["agent", agentRegistry],
  ] as const)("the %s exports MetalLB's metrics with exactly MetalLB's labels", (owner, registry) => {
    for (const [name, labels] of Object.entries(METALLB[owner])) {
      expect([name, registry.getSingleMetric(name) !== undefined]).toEqual([name, true]);
      expect([name, labelsOf(registry, name)]).toEqual([name, labels]);
    }
  });

  it("metallb_speaker_announced: L2 and BGP each replace only their own series", async () => {
    setAnnounced("layer2", "n1", new Map([["default/web", ["192.0.2.10"]]]));
    setAnnounced("bgp", "n1", [["default/api", ["192.0.2.20", "2001:db8::20"]]]);
    setAnnounced("layer2", "n1", []);
    const values = (await agentRegistry.getSingleMetric("metallb_speaker_announced")!.get()).values;
    expect(values.map((v) => [v.labels.protocol, v.labels.service, v.labels.ip, v.value])).toEqual([
      ["bgp", "default/api", "192.0.2.20", 1],
      ["bgp", "default/api", "2001:db8::20", 1],
    ]);
  });

  it("L2 requests count per IP in MetalLB's counter and per interface in ours", async () => {
    agentMetrics.requestsReceived.inc({ device: "eth0", ip: "192.0.2.10" });
    agentMetrics.requestsReceived.inc({ device: "eth1", ip: "192.0.2.10" });
    const text = await agentRegistry.metrics();
    expect(text).toContain('metallb_layer2_requests_received{ip="192.0.2.10"} 2');
    expect(text).toContain('metallb_pepr_layer2_requests_received_total{device="eth1",ip="192.0.2.10"} 1');
  });

  it("pool gauges per family, removed with the pool", async () => {
    publishPoolStats("dual", { assignedIPv4: 2n, availableIPv4: 6n, assignedIPv6: 1n, availableIPv6: 2n ** 80n });
    let text = await register.metrics();
    expect(text).toContain('metallb_allocator_ipv4_addresses_total{pool="dual"} 8');
    expect(text).toContain('metallb_allocator_ipv6_addresses_in_use_total{pool="dual"} 1');
    expect(text).toContain('metallb_allocator_addresses_in_use_total{pool="dual"} 3');
    expect(text).toContain(`metallb_allocator_ipv6_addresses_total{pool="dual"} ${Number.MAX_SAFE_INTEGER}`);
    publishPoolStats("dual", undefined);
    text = await register.metrics();
    expect(text).not.toContain('pool="dual"');
  });

  it("k8s client: loaded once a configuration was resolved, stale while the latest is invalid", async () => {
    const value = async (name: string) => (await register.getSingleMetric(name)!.get()).values[0]?.value ?? 0;
    expect(await value("metallb_k8s_client_config_loaded_bool")).toBe(0);
    recordConfigResult("controller", false);
    expect(await value("metallb_k8s_client_config_loaded_bool")).toBe(1);
    expect(await value("metallb_k8s_client_config_stale_bool")).toBe(1);
    recordConfigResult("controller", true);
    expect(await value("metallb_k8s_client_config_stale_bool")).toBe(0);
    countUpdate(true);
    expect(await value("metallb_k8s_client_updates_total")).toBe(3);
    expect(await value("metallb_k8s_client_update_errors_total")).toBe(1);
  });
});

describe("deploy/", () => {
  const dashboard = readFileSync(join(root, "deploy", "grafana-dashboard.json"), "utf8");
  const rules = readFileSync(join(root, "deploy", "prometheusrule.yaml"), "utf8");

  it.each([
    ["grafana-dashboard.json", dashboard],
    ["prometheusrule.yaml", rules],
  ])("%s uses only registered metrics", (_name, text) => {
    const used = [...metricsIn(text)];
    expect(used.length).toBeGreaterThan(3);
    expect(used.filter((m) => !registered.has(m))).toEqual([]);
  });

  it("the dashboard is valid JSON with panels, and every alert has a severity and a summary", () => {
    expect(JSON.parse(dashboard).panels.length).toBeGreaterThan(5);
    const rule = parse(rules);
    expect(rule.kind).toBe("PrometheusRule");
    const alerts = rule.spec.groups.flatMap((g: { rules: unknown[] }) => g.rules);
    for (const a of alerts) {
      expect(a.labels.severity).toMatch(/^(warning|critical)$/);
      expect(a.annotations.summary).toBeTruthy();
    }
    expect(alerts.map((a: { alert: string }) => a.alert)).toEqual(
      expect.arrayContaining([
        "MetalLBAddressPoolExhausted",
        "MetalLBAddressPoolNearlyFull",
        "MetalLBBGPSessionDown",
        "MetalLBConfigurationInvalid",
        "MetalLBL2FailoverSlow",
      ]),
    );
  });
});
