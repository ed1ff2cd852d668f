/**
 * The install objects as chart templates (hack/manifests/chart-install.ts), by structure.
 * The real `helm template` of a built chart is test/integration/chart.test.ts.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import {
  agentDaemonSetTemplate,
  agentValueDefaults,
  chartInstallSchema,
  chartInstallTemplates,
  chartInstallValues,
  chartMetadata,
} from "../../hack/manifests/chart-install";
import { agentDaemonSet } from "../../capabilities/shared/kube/agent-manifests";
import type { InstallOptions } from "../../capabilities/shared/kube/install-manifests";

const o: InstallOptions = { namespace: "metallb-system", image: "ghcr.io/metallb-pepr/agent:9.9.9", leasePolicy: true };
const fixture = (f: string) => readFileSync(join(__dirname, "fixtures", "chart", f), "utf8");

describe("the agent DaemonSet template", () => {
  const text = agentDaemonSetTemplate(o);

  it("takes image, pull policy and secrets, tolerations, nodeSelector, resources, priorityClass and env from values", () => {
    for (const action of [
      "image: {{ .Values.agent.image | quote }}",
      "imagePullPolicy: {{ .Values.agent.imagePullPolicy | quote }}",
      "{{- toYaml .Values.agent.imagePullSecrets | nindent 8 }}",
      "{{- toYaml .Values.agent.tolerations | nindent 8 }}",
      "{{- toYaml .Values.agent.nodeSelector | nindent 8 }}",
      "{{- toYaml .Values.agent.resources | nindent 12 }}",
      "priorityClassName: {{ .Values.agent.priorityClassName | quote }}",
      "{{- with .Values.agent.env }}",
    ])
      expect(text).toContain(action);
    expect(text).not.toContain("@@");
  });

  it("is the manifest's DaemonSet once the actions are replaced by the defaults", () => {
    const d = agentValueDefaults(o);
    const rendered = text
      .replace("{{ .Values.agent.image | quote }}", JSON.stringify(d.image))
      .replace("{{ .Values.agent.imagePullPolicy | quote }}", JSON.stringify(d.imagePullPolicy))
      .replace("{{ .Values.agent.priorityClassName | quote }}", '""')
      .replace(/\n\s*\{\{- with \.Values\.agent\.env \}\}\n.*\n\s*\{\{- end \}\}/, "")
      .replace(/\{\{- toYaml \.Values\.agent\.(\w+) \| nindent \d+ \}\}/g, (_, key: string) =>
        JSON.stringify((d as unknown as Record<string, unknown>)[key]),
      );
    const parsed = parse(rendered) as { spec: { template: { spec: Record<string, unknown> } } };
    const pod = parsed.spec.template.spec;
    expect(pod.imagePullSecrets).toEqual([]);
    expect(pod.priorityClassName).toBe("");
    delete pod.imagePullSecrets;
    delete pod.priorityClassName;
    expect(parsed).toEqual(agentDaemonSet(o));
  });
});

describe("the chart files", () => {
  it("the Lease policy template is conditional on agent.leasePolicy; the other objects are plain YAML", () => {
    const files = chartInstallTemplates(o);
    expect(files["metallb-agent-lease-policy.yaml"]).toMatch(
      /^\{\{- if \.Values\.agent\.leasePolicy \}\}\n[\s\S]*\{\{- end \}\}\n$/,
    );
    for (const f of ["metallb-namespace.yaml", "metallb-crds.yaml"])
      for (const d of parseAllDocuments(files[f])) expect(d.errors).toEqual([]);
  });

  it("values.yaml gains the agent defaults once, keeping everything else", () => {
    const values = fixture("values.yaml");
    const once = chartInstallValues(values, o);
    expect(once.startsWith(values.trimEnd())).toBe(true);
    expect((parse(once) as { agent: unknown }).agent).toEqual(agentValueDefaults(o));
    expect(chartInstallValues(once, o)).toBe(once);
  });

  it("values.schema.json describes the agent values (Pepr's schema refuses unknown keys), idempotently", () => {
    const once = chartInstallSchema(fixture("values.schema.json"));
    const schema = JSON.parse(once);
    expect(schema.definitions.Values.properties.agent).toEqual({ $ref: "#/definitions/Agent" });
    expect(Object.keys(schema.definitions.Agent.properties).sort()).toEqual(Object.keys(agentValueDefaults(o)).sort());
    expect(chartInstallSchema(once)).toBe(once);
    // Pepr infers the Rbac schema from the rules it wrote; finish.ts adds a rule with resourceNames.
    const withoutNames = JSON.parse(fixture("values.schema.json"));
    delete withoutNames.definitions.Rbac.properties.resourceNames;
    const fixed = JSON.parse(chartInstallSchema(JSON.stringify(withoutNames)));
    expect(fixed.definitions.Rbac.properties.resourceNames).toEqual({ type: "array", items: { type: "string" } });
  });

  it("Chart.yaml is valid YAML even when the description holds a colon", () => {
    const meta = parse(chartMetadata({ name: "metallb-pepr", description: "LB: as a Pepr module", version: "1.2.3" }));
    expect(meta).toEqual({
      apiVersion: "v2",
      name: "metallb-pepr",
      description: "LB: as a Pepr module",
      type: "application",
      version: "1.2.3",
      appVersion: "1.2.3",
    });
  });
});
