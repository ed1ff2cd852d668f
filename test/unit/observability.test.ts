/**
 * deploy/ (Grafana dashboard, PrometheusRule) only refers to metrics the code
 * actually registers, so a renamed metric cannot silently blank a panel or
 * disarm an alert.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

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
