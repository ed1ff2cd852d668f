/**
 * The Helm chart `npm run build` writes renders the complete system (issue 15): the real
 * `helm template` (hack/build-helm.sh builds it from its Go module) on the chart the global
 * setup built, compared object by object with the manifest, with a user's values applied,
 * and the rendering accepted by the real API server (server-side dry-run).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { repoRoot } from "../harness/local-cluster";
import { kubectl } from "../harness/kubectl";

const run = promisify(execFile);
const buildDir = process.env.PEPR_BUILD_DIR ?? join(repoRoot, ".lab", "pepr-build");
const chart = join(buildDir, "metallb-pepr-chart");

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown> & {
    template?: { spec: Record<string, unknown> & { containers: Array<Record<string, unknown>> } };
  };
}

const parse = (text: string): Obj[] =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => !!o?.kind);
const CLUSTER_SCOPED = new Set([
  "Namespace",
  "CustomResourceDefinition",
  "ClusterRole",
  "ClusterRoleBinding",
  "ValidatingWebhookConfiguration",
  "MutatingWebhookConfiguration",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
]);
/** Kind, namespace and name; Pepr's chart puts a namespace on its ClusterRole, which the API ignores. */
const id = (o: Obj) => `${o.kind}/${CLUSTER_SCOPED.has(o.kind) ? "" : (o.metadata.namespace ?? "")}/${o.metadata.name}`;

let helm = "";
async function template(...args: string[]): Promise<Obj[]> {
  const { stdout } = await run(helm, ["template", "metallb-pepr", chart, ...args], { maxBuffer: 1 << 27 });
  return parse(stdout);
}

beforeAll(async () => {
  helm = (await run("bash", [join(repoRoot, "hack", "build-helm.sh")])).stdout.trim();
});

it("with its defaults, it renders every object the manifest installs", async () => {
  const rendered = await template();
  const manifest = parse(readFileSync(join(buildDir, "pepr-module-metallb-pepr.yaml"), "utf8"));
  // The chart's own additions (ServiceMonitors are off by default, cert-manager is off).
  expect(rendered.map(id).sort()).toEqual(manifest.map(id).sort());
  // The DaemonSet: the chart writes the two optional pod fields empty; otherwise it is the manifest's.
  const daemonSet = (objs: Obj[]) => objs.find((o) => o.kind === "DaemonSet")!;
  const pod = daemonSet(rendered).spec!.template!.spec;
  expect([pod.imagePullSecrets, pod.priorityClassName]).toEqual([[], ""]);
  delete pod.imagePullSecrets;
  delete pod.priorityClassName;
  expect(daemonSet(rendered).spec).toEqual(daemonSet(manifest).spec);
  const clusterRole = (objs: Obj[]) =>
    (objs.find((o) => o.kind === "ClusterRole" && o.metadata.name === "pepr-metallb-pepr") as { rules?: unknown })
      .rules;
  expect(clusterRole(rendered)).toEqual(clusterRole(manifest));
  for (const kind of ["CustomResourceDefinition", "ValidatingAdmissionPolicy", "Namespace"])
    for (const o of manifest.filter((m) => m.kind === kind)) expect(rendered.find((r) => id(r) === id(o))).toEqual(o);
});

it("a user's values reach the agent DaemonSet, and the rendering passes server-side dry-run", async () => {
  const toleration = { key: "example.com/dedicated", operator: "Equal", value: "lb", effect: "NoSchedule" };
  const rendered = await template(
    "--set",
    "agent.image=registry.example.com/metallb/agent:1.2.3",
    "--set",
    "agent.priorityClassName=system-node-critical",
    "--set-json",
    `agent.tolerations=${JSON.stringify([toleration])}`,
    "--set-json",
    'agent.nodeSelector={"example.com/lb":"true"}',
    "--set-json",
    'agent.imagePullSecrets=[{"name":"pull"}]',
    "--set-json",
    'agent.resources={"requests":{"cpu":"10m","memory":"64Mi"}}',
    "--set-json",
    'agent.env=[{"name":"METALLB_L2_SPREAD_SLACK","value":"0.5"}]',
    "--set",
    "agent.leasePolicy=false",
  );
  const ds = rendered.find((o) => o.kind === "DaemonSet")!;
  const pod = ds.spec!.template!.spec;
  const container = pod.containers[0] as { image: string; env: Array<{ name: string }>; resources: unknown };
  expect(container.image).toBe("registry.example.com/metallb/agent:1.2.3");
  expect(pod.priorityClassName).toBe("system-node-critical");
  expect(pod.tolerations).toEqual([toleration]);
  // Helm merges a map value with its default (set a key to null to drop it); a list replaces it.
  expect(pod.nodeSelector).toEqual({ "example.com/lb": "true", "kubernetes.io/os": "linux" });
  expect(pod.imagePullSecrets).toEqual([{ name: "pull" }]);
  expect(container.resources).toEqual({ requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "256Mi" } });
  expect(container.env.map((e) => e.name)).toEqual([
    "NODE_NAME",
    "METALLB_HEARTBEAT_ADDRESS",
    "METALLB_NAMESPACE",
    "METALLB_METRICS_PORT",
    "METALLB_HEALTH_PORT",
    "NODE_OPTIONS",
    "METALLB_L2_SPREAD_SLACK",
  ]);
  expect(rendered.some((o) => o.kind === "ValidatingAdmissionPolicy")).toBe(false);

  const file = join(mkdtempSync(join(tmpdir(), "chart-")), "rendered.json");
  // Only the agent part: Pepr's objects are dry-run from the manifest in deploy.test.ts, and
  // its webhooks would replace the ones pepr dev registered in this cluster.
  const agent = rendered.filter((o) => o.metadata.name === "metallb-agent");
  writeFileSync(file, JSON.stringify({ apiVersion: "v1", kind: "List", items: agent }));
  const r = await kubectl(["apply", "--server-side", "--dry-run=server", "--force-conflicts", "-f", file]);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
});

it("a value of the wrong shape is refused by the chart's schema, naming the field", async () => {
  const err = await template("--set", "agent.imagePullPolicy=Sometimes").then(
    () => undefined,
    (e: { stderr?: string }) => e.stderr ?? String(e),
  );
  expect(err).toMatch(/agent.*imagePullPolicy/);
});

it("with certManager.enabled, cert-manager issues the webhook certificate and the cainjector fills the CA", async () => {
  const rendered = await template("--set", "certManager.enabled=true");
  const kinds = rendered.map((o) => `${o.kind}/${o.metadata.name}`);
  expect(kinds).toContain("Certificate/pepr-metallb-pepr-webhook");
  expect(kinds.filter((k) => k.startsWith("Issuer/")).length).toBeGreaterThan(0);
  expect(kinds).not.toContain("Secret/pepr-metallb-pepr-tls");
  const webhook = rendered.find((o) => o.kind === "ValidatingWebhookConfiguration") as unknown as {
    metadata: { annotations?: Record<string, string> };
    webhooks: Array<{ clientConfig: { caBundle?: string } }>;
  };
  expect(webhook.metadata.annotations?.["cert-manager.io/inject-ca-from"]).toBe(
    "pepr-system/pepr-metallb-pepr-webhook",
  );
  expect(webhook.webhooks.map((w) => w.clientConfig.caBundle ?? "")).toEqual(webhook.webhooks.map(() => ""));
});
