/**
 * The post-build step on the Helm chart a real `npx pepr build` of this module wrote
 * (test/unit/fixtures/chart): rendered with the chart's defaults, the finished webhook
 * template must be exactly what finish.ts makes of the rendered original.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { finishManifests, PEPR_STORE_CRD_RULE, type ManifestObject } from "../../hack/manifests/finish";
import {
  CHART_BUDGET_TEMPLATE,
  finishChartRbac,
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

  it("puts back a '10' or 'Fail' that Pepr turned into a value action inside the CA bundle or the webhook path", () => {
    // Pepr replaces every "10" and "Fail" in the YAML; these two spots are where it hurts.
    const generated = fixture("validation-webhook.yaml")
      .replace(
        "UkVEQUNURUQ=",
        "UkVE{{ .Values.admission.webhookTimeout }}Q1RF{{ .Values.admission.failurePolicy }}RUQ=",
      )
      .replace("/validate/f7f43f0a", "/validate/f7f43f0a{{ .Values.admission.webhookTimeout }}");
    const finished = finishChartWebhookTemplate(generated);
    expect(finished).toContain("UkVE10Q1RFFailRUQ=");
    expect(finished).toContain("/validate/f7f43f0a10");
    // The fields themselves: the metallb.io entry keeps Pepr's timeout action, failure policies are fixed.
    expect(finished).toContain("    timeoutSeconds: {{ .Values.admission.webhookTimeout }}");
    expect(finished).not.toContain("{{ .Values.admission.failurePolicy }}");
    expect(finishChartWebhookTemplate(finished)).toBe(finished);
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

  it("the chart's ClusterRole rules (values.rbac) lose CRD rights as the manifest's do, idempotently", () => {
    const before = parse(fixture("values.yaml")).rbac as Array<{ resources: string[] }>;
    expect(before.some((r) => r.resources.includes("customresourcedefinitions"))).toBe(true);
    const once = finishChartRbac(fixture("values.yaml"));
    const after = parse(once).rbac as Array<{ resources: string[] }>;
    expect(after.filter((r) => r.resources.includes("customresourcedefinitions"))).toEqual([PEPR_STORE_CRD_RULE]);
    expect(after.length).toBe(before.length);
    expect(finishChartRbac(once)).toBe(once);
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
