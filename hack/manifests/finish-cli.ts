/**
 * `node finish-cli.js [DIR]`: finishes the module manifest and the Helm chart `pepr build`
 * wrote in DIR (default dist/) in place; see finish.ts and finish-chart.ts for what and why. Run by `npm run build`
 * through hack/finish-manifests.sh.
 *
 * `node finish-cli.js --live [NAME]`: finishes the webhook configurations NAME (default
 * pepr-metallb-pepr) registered in the cluster kubectl points at, by `kubectl replace`.
 * For `npx pepr dev` (and `npx pepr deploy`), which register Pepr's own unfinished
 * configuration: run it after they have registered, and again after each dev rebuild.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { agentOptions } from "../../capabilities/shared/kube/agent-manifests";
import { installManifests, type InstallOptions } from "../../capabilities/shared/kube/install-manifests";
import { readSettings } from "../../capabilities/shared/settings";
import { chartInstallSchema, chartInstallTemplates, chartInstallValues, chartMetadata } from "./chart-install";
import pkg from "../../package.json";
import { finishManifests, type ManifestObject } from "./finish";
import { CHART_BUDGET_TEMPLATE, finishChartRbac, finishChartValues, finishChartWebhookTemplate } from "./finish-chart";
import { addCertManagerOption } from "./chart-cert-manager";

const summary = (objects: ManifestObject[]): string =>
  objects
    .flatMap((o) => (o.webhooks as { name: string; failurePolicy: string }[] | undefined) ?? [])
    .map((h) => `${h.name} ${h.failurePolicy}`)
    .join(", ");

/** What the manifest and chart install besides Pepr's objects; METALLB_AGENT_IMAGE picks the agent image. */
const installOptions = (): InstallOptions => ({ ...agentOptions(readSettings(), process.env), leasePolicy: true });
const installObjects = (): ManifestObject[] => installManifests(installOptions()) as ManifestObject[];

function finishFile(path: string): string {
  const objects = parseAllDocuments(readFileSync(path, "utf8")).map((d) => {
    if (d.errors.length) throw new Error(`${path}: ${d.errors[0].message}`);
    return d.toJS() as ManifestObject;
  });
  const install = installObjects();
  const finished = finishManifests(objects, install);
  // No folded scalars and no YAML aliases (the two webhooks share a clientConfig): plain YAML
  // any tool reads, diffed and grepped line by line.
  writeFileSync(path, finished.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join("---\n"));
  return `${path}: ${summary(finished)}; PodDisruptionBudget ${
    finished.some((o) => o.kind === "PodDisruptionBudget") ? "added" : "not added (no admission Deployment)"
  }; ${install.length} install objects (namespace, CRDs, agent, Lease policy)`;
}

function finishChart(chart: string): string {
  const templates = join(chart, "templates");
  for (const f of ["validation-webhook.yaml", "mutation-webhook.yaml"]) {
    const path = join(templates, f);
    if (existsSync(path)) writeFileSync(path, finishChartWebhookTemplate(readFileSync(path, "utf8")));
  }
  const budget = existsSync(join(templates, "admission-deployment.yaml"));
  if (budget) writeFileSync(join(templates, "admission-pdb.yaml"), CHART_BUDGET_TEMPLATE);
  const valuesPath = join(chart, "values.yaml");
  const values = readFileSync(valuesPath, "utf8");
  const uuid = (parseAllDocuments(values)[0].toJS() as { uuid?: string }).uuid;
  const options = installOptions();
  let finishedValues = uuid ? finishChartValues(values, uuid) : values;
  finishedValues = chartInstallValues(finishChartRbac(finishedValues), options);
  writeFileSync(valuesPath, finishedValues);
  writeFileSync(join(chart, "Chart.yaml"), chartMetadata(pkg));
  const schemaPath = join(chart, "values.schema.json");
  if (existsSync(schemaPath)) writeFileSync(schemaPath, chartInstallSchema(readFileSync(schemaPath, "utf8")));
  const installTemplates = chartInstallTemplates(options);
  for (const [f, text] of Object.entries(installTemplates)) writeFileSync(join(templates, f), text);
  return `${chart}: webhook templates split${budget ? ", templates/admission-pdb.yaml" : ""}${
    uuid ? ", admission.affinity" : ""
  }, ${Object.keys(installTemplates).join(", ")} with agent.* values`;
}

/** The certManager value (chart-cert-manager.ts); after finishChart, whose webhook split it keeps. */
function chartCertManager(chart: string): string {
  const files = addCertManagerOption((f) =>
    existsSync(join(chart, f)) ? readFileSync(join(chart, f), "utf8") : undefined,
  );
  for (const [f, text] of Object.entries(files)) writeFileSync(join(chart, f), text);
  return `${chart}: certManager option (${Object.keys(files).join(", ") || "already there"})`;
}

function finishLive(name: string): string {
  const kubectl = (args: string[], input?: string) =>
    execFileSync("kubectl", args, { input, encoding: "utf8", stdio: ["pipe", "pipe", "inherit"] });
  const done: string[] = [];
  for (const kind of ["validatingwebhookconfiguration", "mutatingwebhookconfiguration"]) {
    const found = JSON.parse(kubectl(["get", kind, "--field-selector", `metadata.name=${name}`, "-o", "json"]));
    for (const live of found.items as ManifestObject[]) {
      const [finished] = finishManifests([
        { ...live, apiVersion: "admissionregistration.k8s.io/v1", kind: live.kind ?? kindOf(kind) },
      ]);
      // replace, not apply: the entries Pepr's field manager owns must go, not be merged with.
      kubectl(["replace", "-f", "-"], JSON.stringify(finished));
      done.push(`${kind}/${name}: ${summary([finished])}`);
    }
  }
  if (!done.length) throw new Error(`no webhook configuration named ${name} in the cluster`);
  return done.join("; ");
}

const kindOf = (resource: string) =>
  resource === "validatingwebhookconfiguration" ? "ValidatingWebhookConfiguration" : "MutatingWebhookConfiguration";

function main(args: string[]): void {
  if (args[0] === "--live") {
    console.log(`finish-manifests: ${finishLive(args[1] ?? "pepr-metallb-pepr")}`);
    return;
  }
  const dir = args[0] ?? "dist";
  const files = readdirSync(dir).filter((f) => /^pepr-module-.*\.yaml$/.test(f));
  if (!files.length) throw new Error(`no pepr-module-*.yaml in ${dir}; run \`npx pepr build\` first`);
  for (const f of files) console.log(`finish-manifests: ${finishFile(join(dir, f))}`);
  for (const d of readdirSync(dir).filter((f) => f.endsWith("-chart"))) {
    console.log(`finish-manifests: ${finishChart(join(dir, d))}`);
    console.log(`finish-manifests: ${chartCertManager(join(dir, d))}`);
  }
}

try {
  main(process.argv.slice(2));
} catch (err) {
  console.error(`finish-manifests: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
