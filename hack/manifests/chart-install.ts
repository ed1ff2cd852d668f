/**
 * The install-time objects (capabilities/shared/kube/install-manifests.ts) as Helm chart
 * templates, so the chart renders the complete system, as the manifest does: the
 * configuration namespace, the CRDs, the agent and its Lease policy. The agent's
 * DaemonSet is templated where clusters differ (image, pull secrets, tolerations,
 * nodeSelector, resources, priorityClass, extra env); the rest is rendered as is.
 *
 * The objects are built by the same code as the manifest's, then the fields that come
 * from values are swapped for template actions: a field is first set to a marker string,
 * the object is written as YAML, and each marker line becomes its action at the
 * indentation YAML gave it. So the template cannot drift from the manifest. Pure.
 */
import type { KubernetesObject } from "@kubernetes/client-node";
import { parseDocument, stringify } from "yaml";
import {
  agentClusterRole,
  agentClusterRoleBinding,
  agentDaemonSet,
  agentLeasePolicyManifests,
  agentRole,
  agentRoleBinding,
  agentServiceAccount,
} from "../../capabilities/shared/kube/agent-manifests";
import { controllerRole, controllerRoleBinding } from "../../capabilities/shared/kube/controller-rbac";
import {
  configNamespace,
  crdManifests,
  peprStoreCRD,
  type InstallOptions,
} from "../../capabilities/shared/kube/install-manifests";

/** Template file name → text, under the chart's templates/. */
export type ChartFiles = Record<string, string>;

const toYaml = (objects: readonly unknown[]): string =>
  objects.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join("---\n");

interface PodFields {
  image: string;
  imagePullPolicy: string;
  imagePullSecrets: unknown[];
  tolerations: unknown[];
  nodeSelector: Record<string, string>;
  resources: Record<string, unknown>;
  priorityClassName: string;
  env: unknown[];
  leasePolicy: boolean;
}

type DaemonSetShape = KubernetesObject & {
  spec: {
    template: {
      spec: Record<string, unknown> & {
        containers: Array<Record<string, unknown> & { env: unknown[] }>;
      };
    };
  };
};

/** The agent values and their defaults: what the manifest installs. */
export function agentValueDefaults(o: InstallOptions): PodFields {
  const ds = agentDaemonSet(o) as DaemonSetShape;
  const pod = ds.spec.template.spec;
  const container = pod.containers[0];
  return {
    image: container.image as string,
    imagePullPolicy: container.imagePullPolicy as string,
    imagePullSecrets: [],
    tolerations: pod.tolerations as unknown[],
    nodeSelector: pod.nodeSelector as Record<string, string>,
    resources: container.resources as Record<string, unknown>,
    priorityClassName: "",
    env: [],
    leasePolicy: true,
  };
}

// Markers: a whole YAML value (scalar or block), or a list item that expands to a list.
const quoted = (path: string) => `@@quote ${path}@@`;
const block = (path: string) => `@@toYaml ${path}@@`;
const items = (path: string) => `@@items ${path}@@`;

/** Swaps each marker line for its template action, at the indentation YAML gave it. */
function expandMarkers(text: string): string {
  return text
    .split("\n")
    .flatMap((line) => {
      const field = /^(\s*)([\w]+): ["']?@@(quote|toYaml) ([\w.]+)@@["']?$/.exec(line);
      if (field) {
        const [, indent, key, how, path] = field;
        if (how === "quote") return [`${indent}${key}: {{ .Values.${path} | quote }}`];
        return [`${indent}${key}:`, `${indent}  {{- toYaml .Values.${path} | nindent ${indent.length + 2} }}`];
      }
      const item = /^(\s*)- ["']?@@items ([\w.]+)@@["']?$/.exec(line);
      if (item) {
        const [, indent, path] = item;
        return [
          `${indent}{{- with .Values.${path} }}`,
          `${indent}{{- toYaml . | nindent ${indent.length} }}`,
          `${indent}{{- end }}`,
        ];
      }
      if (line.includes("@@")) throw new Error(`chart-install: a marker YAML wrote in an unexpected form: ${line}`);
      return [line];
    })
    .join("\n");
}

/** The DaemonSet template: agentDaemonSet with the values' fields. */
export function agentDaemonSetTemplate(o: InstallOptions): string {
  const ds = structuredClone(agentDaemonSet(o)) as DaemonSetShape;
  const pod = ds.spec.template.spec;
  const container = pod.containers[0];
  container.image = quoted("agent.image");
  container.imagePullPolicy = quoted("agent.imagePullPolicy");
  container.resources = block("agent.resources");
  container.env = [...container.env, items("agent.env")];
  pod.imagePullSecrets = block("agent.imagePullSecrets");
  pod.tolerations = block("agent.tolerations");
  pod.nodeSelector = block("agent.nodeSelector");
  pod.priorityClassName = quoted("agent.priorityClassName");
  return expandMarkers(toYaml([ds]));
}

/** The templates the chart gains (names start with metallb- to stay apart from Pepr's). */
export function chartInstallTemplates(o: InstallOptions): ChartFiles {
  return {
    "metallb-namespace.yaml": toYaml([configNamespace(o.namespace)]),
    "metallb-crds.yaml": toYaml([...crdManifests(), peprStoreCRD()]),
    "metallb-controller-role.yaml": toYaml([controllerRole(o.namespace), controllerRoleBinding(o.namespace)]),
    "metallb-agent.yaml":
      toYaml([
        agentServiceAccount(o),
        agentClusterRole(),
        agentClusterRoleBinding(o),
        agentRole(o),
        agentRoleBinding(o),
      ]) +
      "---\n" +
      agentDaemonSetTemplate(o),
    "metallb-agent-lease-policy.yaml": `{{- if .Values.agent.leasePolicy }}\n${toYaml(agentLeasePolicyManifests(o))}{{- end }}\n`,
  };
}

/**
 * values.yaml with an `agent:` section holding the defaults (comments and everything else
 * kept). A section already there is left as the user or an earlier finish wrote it.
 */
export function chartInstallValues(text: string, o: InstallOptions): string {
  if (parseDocument(text).has("agent")) return text;
  const comment = [
    "# The node agent DaemonSet (templates/metallb-agent.yaml). leasePolicy: the ValidatingAdmissionPolicy",
    "# that lets each agent write only its own node's Lease (pod-bound ServiceAccount tokens, Kubernetes >= 1.30).",
  ].join("\n");
  return `${text.trimEnd()}\n${comment}\n${stringify({ agent: agentValueDefaults(o) }, { lineWidth: 0 })}`;
}

const anyObject = { type: "object" };
const anyArray = { type: "array", items: {} };

/** The `agent` values in values.schema.json (Pepr's schema refuses unknown top-level keys). */
export const AGENT_VALUES_SCHEMA = {
  type: "object",
  additionalProperties: false,
  properties: {
    image: { type: "string", minLength: 1 },
    imagePullPolicy: { type: "string", enum: ["Always", "IfNotPresent", "Never"] },
    imagePullSecrets: anyArray,
    tolerations: anyArray,
    nodeSelector: { type: "object", additionalProperties: { type: "string" } },
    resources: anyObject,
    priorityClassName: { type: "string" },
    env: anyArray,
    leasePolicy: { type: "boolean" },
  },
  required: ["image"],
};

interface ValuesSchema {
  definitions?: Record<string, { properties?: Record<string, unknown> } | undefined>;
}

/**
 * values.schema.json with the `agent` values, and `resourceNames` allowed in an `rbac` rule
 * (Pepr infers the schema from the rules it generated; finish.ts adds a named rule). Idempotent.
 */
export function chartInstallSchema(text: string): string {
  const schema = JSON.parse(text) as ValuesSchema;
  const values = schema.definitions?.Values;
  if (!values?.properties)
    throw new Error("values.schema.json: no definitions.Values.properties; Pepr's chart changed");
  schema.definitions!.Agent = AGENT_VALUES_SCHEMA;
  values.properties.agent = { $ref: "#/definitions/Agent" };
  const rbac = schema.definitions!.Rbac?.properties;
  if (rbac) rbac.resourceNames = { type: "array", items: { type: "string" } };
  return JSON.stringify(schema, null, 2) + "\n";
}

/**
 * Chart.yaml. Pepr writes the package description unquoted, and ours holds ": ", which
 * makes the file invalid YAML that helm refuses to load. Rewritten from the package, with
 * its version as the chart's version and appVersion.
 */
export function chartMetadata(pkg: { name: string; description: string; version: string }): string {
  return stringify(
    {
      apiVersion: "v2",
      name: pkg.name,
      description: pkg.description,
      type: "application",
      version: pkg.version,
      appVersion: pkg.version,
    },
    { lineWidth: 0 },
  );
}
