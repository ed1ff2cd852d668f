/**
 * The post-build step on the Helm chart a real `npx pepr build` of this module wrote
 * (test/unit/fixtures/chart): rendered with the chart's defaults, the finished webhook
 * template must be exactly what finish.ts makes of the rendered original.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { finishManifests, type ManifestObject } from "../../hack/manifests/finish";
import {
  CHART_BUDGET_TEMPLATE,
  finishChartValues,
  finishChartWebhookTemplate,
} from "../../hack/manifests/finish-chart";

const fixture = (name: string) => readFileSync(join(__dirname, "fixtures", "chart", name), "utf8");

/** What `helm template` makes of the webhook template with the chart's default values (none extra ignored). */
const render = (template: string, failurePolicy = "Fail"): ManifestObject =>
  parse(
    template
      .split("\n")
      .filter((l) => !/^\s*\{\{-? (range|end)\b/.test(l) && !/^\s*- \{\{ \. \}\}$/.test(l))
      .join("\n")
      .replaceAll("{{ .Values.uuid }}", "pepr-metallb-pepr")
      .replaceAll("{{ .Values.admission.failurePolicy }}", failurePolicy)
      .replaceAll("{{ .Values.admission.webhookTimeout }}", "10"),
  );

describe("finishing the generated Helm chart", () => {
  it("renders to exactly the finished manifest's webhooks", () => {
    const template = fixture("validation-webhook.yaml");
    expect(render(template).webhooks).toHaveLength(1);
    const [expected] = finishManifests([render(template)]);
    expect(render(finishChartWebhookTemplate(template))).toEqual(expected);
  });

  it("the metallb.io webhook fails closed whatever admission.failurePolicy says", () => {
    const finished = render(finishChartWebhookTemplate(fixture("validation-webhook.yaml")), "Ignore");
    const policies = (finished.webhooks as { name: string; failurePolicy: string }[]).map((h) => [
      h.name,
      h.failurePolicy,
    ]);
    expect(policies).toEqual([
      ["pepr-metallb-pepr.pepr.dev", "Fail"],
      ["pepr-metallb-pepr-services.pepr.dev", "Ignore"],
    ]);
  });

  it("keeps the template actions for the ignored namespaces in both entries", () => {
    const finished = finishChartWebhookTemplate(fixture("validation-webhook.yaml"));
    expect(finished.match(/\{\{- range \.Values\.additionalIgnoredNamespaces \}\}/g)).toHaveLength(2);
  });

  it("is idempotent and refuses a layout it does not know", () => {
    const once = finishChartWebhookTemplate(fixture("validation-webhook.yaml"));
    expect(finishChartWebhookTemplate(once)).toBe(once);
    expect(() => finishChartWebhookTemplate("webhooks: []\n")).toThrow(/layout changed/);
  });

  it("admission.affinity defaults to preferred anti-affinity by hostname; a user's own is kept", () => {
    const values = parse(finishChartValues(fixture("values.yaml"), "pepr-metallb-pepr"));
    expect(values.admission.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution).toEqual([
      {
        weight: 100,
        podAffinityTerm: {
          labelSelector: { matchLabels: { app: "pepr-metallb-pepr", "pepr.dev/controller": "admission" } },
          topologyKey: "kubernetes.io/hostname",
        },
      },
    ]);
    expect(values.watcher.affinity).toEqual({});
    expect(values.admission.antiAffinity).toBe(false); // Pepr's required variant stays off
    const own = fixture("values.yaml").replace("  affinity: {}", "  affinity: {nodeAffinity: {}}");
    expect(finishChartValues(own, "pepr-metallb-pepr")).toBe(own);
  });

  it("the budget template selects the admission pods", () => {
    const rendered = parse(
      CHART_BUDGET_TEMPLATE.split("\n")
        .filter((l) => !l.includes("{{-"))
        .join("\n")
        .replaceAll("{{ .Values.uuid }}", "pepr-metallb-pepr"),
    );
    expect(rendered.spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: { app: "pepr-metallb-pepr", "pepr.dev/controller": "admission" } },
      unhealthyPodEvictionPolicy: "AlwaysAllow",
    });
  });
});
