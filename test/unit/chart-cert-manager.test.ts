/**
 * The chart's certManager option over the chart a real `npx pepr build` of this module wrote
 * (test/unit/fixtures/chart), finished as hack/manifests/finish-cli.ts finishes it. helm is not
 * installed here, so the templates this option touches are rendered by the small Go-template
 * subset below (if / if not / else / range / end, `.Values` paths, `| default`); any other
 * action throws, so a template the subset cannot render fails the test instead of passing it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv from "ajv";
import draft6 from "ajv/dist/refs/json-schema-draft-06.json";
import { parse, parseAllDocuments } from "yaml";
import {
  addCertManagerOption,
  certManagerSchema,
  certManagerTlsSecret,
  certManagerValues,
  certManagerWebhookTemplate,
  CERT_MANAGER_TEMPLATE,
} from "../../hack/manifests/chart-cert-manager";
import { finishChartValues, finishChartWebhookTemplate } from "../../hack/manifests/finish-chart";

const fixture = (name: string) => readFileSync(join(__dirname, "fixtures", "chart", name), "utf8");

// ---- a Go-template subset ------------------------------------------------------------------
type Node = string | { expr: string } | { kind: "if" | "range"; expr: string; then: Node[]; else: Node[] };

function tokens(tpl: string): Array<string | { action: string }> {
  const out: Array<string | { action: string }> = [];
  let last = 0;
  let trimNext = false;
  for (const m of tpl.matchAll(/\{\{(-?)\s*(.*?)\s*(-?)\}\}/gs)) {
    let text = tpl.slice(last, m.index);
    if (trimNext) text = text.replace(/^\s+/, "");
    if (m[1]) text = text.replace(/\s+$/, "");
    out.push(text, { action: m[2] });
    trimNext = m[3] === "-";
    last = m.index! + m[0].length;
  }
  out.push(trimNext ? tpl.slice(last).replace(/^\s+/, "") : tpl.slice(last));
  return out;
}

function tree(toks: Array<string | { action: string }>): Node[] {
  const root: Node[] = [];
  const stack: Array<{ nodes: Node[]; block?: Extract<Node, { kind: string }> }> = [{ nodes: root }];
  for (const t of toks) {
    const top = stack[stack.length - 1];
    if (typeof t === "string") top.nodes.push(t);
    else if (/^(if|range) /.test(t.action)) {
      const [kind, ...rest] = t.action.split(" ");
      const block = { kind: kind as "if" | "range", expr: rest.join(" "), then: [], else: [] };
      top.nodes.push(block);
      stack.push({ nodes: block.then, block });
    } else if (t.action === "else") top.nodes = top.block!.else;
    else if (t.action === "end") stack.pop();
    else if (t.action.startsWith("/*")) continue;
    else top.nodes.push({ expr: t.action });
  }
  if (stack.length !== 1) throw new Error("unbalanced template");
  return root;
}

const truthy = (v: unknown) =>
  !(v === undefined || v === null || v === false || v === 0 || v === "") &&
  !(Array.isArray(v) && v.length === 0) &&
  !(typeof v === "object" && !Array.isArray(v) && Object.keys(v as object).length === 0);

function evaluate(expr: string, values: unknown, dot: unknown): unknown {
  const pipe = expr.match(/^(.*?) \| default "([^"]*)"$/);
  if (pipe) {
    const v = evaluate(pipe[1], values, dot);
    return truthy(v) ? v : pipe[2];
  }
  if (expr.startsWith("not ")) return !truthy(evaluate(expr.slice(4), values, dot));
  if (expr === ".") return dot;
  if (expr.startsWith(".Values.") || expr === ".Values")
    return expr
      .split(".")
      .slice(2)
      .reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], values);
  throw new Error(`template action not in the test's subset: {{ ${expr} }}`);
}

function run(nodes: Node[], values: unknown, dot: unknown): string {
  return nodes
    .map((n) => {
      if (typeof n === "string") return n;
      if (!("kind" in n)) return String(evaluate(n.expr, values, dot) ?? "");
      const v = evaluate(n.expr, values, dot);
      if (n.kind === "if") return run(truthy(v) ? n.then : n.else, values, dot);
      return ((v as unknown[]) ?? []).map((item) => run(n.then, values, item)).join("");
    })
    .join("");
}

const render = (tpl: string, values: unknown) => run(tree(tokens(tpl)), values, undefined);
const objects = (text: string) =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as Record<string, unknown> | null)
    .filter((o): o is Record<string, unknown> => o !== null);

// ---- the chart, finished as finish-cli.ts finishes it ---------------------------------------
const baseValues = finishChartValues(fixture("values.yaml"), "pepr-metallb-pepr");
const files: Record<string, string> = {
  "values.yaml": baseValues,
  "values.schema.json": fixture("values.schema.json"),
  "templates/tls-secret.yaml": fixture("tls-secret.yaml"),
  "templates/validation-webhook.yaml": finishChartWebhookTemplate(fixture("validation-webhook.yaml")),
};
const finished = { ...files, ...addCertManagerOption((p) => files[p]) };
const defaults = parse(finished["values.yaml"]) as Record<string, unknown> & { uuid: string };
const withCertManager = (certManager: Record<string, unknown>) => ({
  ...defaults,
  certManager: { ...(defaults.certManager as object), ...certManager },
});

interface Webhook {
  name: string;
  clientConfig: { caBundle?: string; service: { name: string; namespace: string } };
}
interface K8sObject {
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  spec?: Record<string, unknown> & {
    secretName?: string;
    dnsNames?: string[];
    issuerRef?: Record<string, string>;
    ca?: { secretName: string };
  };
  webhooks?: Webhook[];
}

function renderChart(values: unknown) {
  const one = (path: string) => objects(render(finished[path], values)) as unknown as K8sObject[];
  return {
    secret: one("templates/tls-secret.yaml"),
    webhook: one("templates/validation-webhook.yaml"),
    certManager: one("templates/cert-manager.yaml"),
  };
}

/** The Secret the pods mount at /etc/certs, from the generated Deployments. */
const mountedSecret = (deployment: string) => {
  const m = fixture(deployment).match(/- name: tls-certs\n\s+secret:\n\s+secretName: (.+)\n/);
  return render(m![1], defaults);
};
const serviceName = (file: string) => (parse(render(fixture(file), defaults)) as K8sObject).metadata.name;

describe("the chart's certManager option", () => {
  it("values.yaml: certManager off by default, nothing else changed", () => {
    const before = parse(baseValues) as Record<string, unknown>;
    const { certManager, ...rest } = defaults;
    expect(certManager).toEqual({ enabled: false, issuerRef: {}, duration: "2160h", renewBefore: "720h" });
    expect(rest).toEqual(before);
  });

  it("values.schema.json: Pepr's strict schema would refuse certManager; the finished one accepts it and checks it", () => {
    const validate = (schema: string) => {
      const ajv = new Ajv({ strict: false });
      ajv.addMetaSchema(draft6);
      return ajv.compile(JSON.parse(schema));
    };
    const pepr = validate(fixture("values.schema.json"));
    const ours = validate(finished["values.schema.json"]);
    const enabled = withCertManager({ enabled: true, issuerRef: { name: "corp-ca", kind: "ClusterIssuer" } });
    expect(pepr(enabled)).toBe(false);
    expect(ours(defaults)).toBe(true);
    expect(ours(enabled)).toBe(true);
    expect(ours(withCertManager({ enabled: "yes" }))).toBe(false);
    expect(ours(withCertManager({ issuerRef: { nmae: "typo" } }))).toBe(false);
  });

  it("disabled (the default): renders exactly Pepr's objects and no cert-manager object", () => {
    const plain = (path: string) => objects(render(files[path], defaults));
    const out = renderChart(defaults);
    expect(out.secret).toEqual(plain("templates/tls-secret.yaml"));
    expect(out.secret).toHaveLength(1);
    expect(out.webhook).toEqual(plain("templates/validation-webhook.yaml"));
    expect(out.webhook[0].webhooks!.map((w) => w.clientConfig.caBundle)).toEqual(["UkVEQUNURUQ=", "UkVEQUNURUQ="]);
    expect(out.certManager).toEqual([]);
  });

  it("enabled: a Certificate for both Services writes the Secret the pods mount, and cainjector owns the caBundle", () => {
    const out = renderChart(withCertManager({ enabled: true }));
    const pepr = renderChart(defaults);
    expect(out.secret).toEqual([]); // Pepr's static pair would fight cert-manager over the Secret

    const [config] = out.webhook;
    const injectFrom = config.metadata.annotations?.["cert-manager.io/inject-ca-from"];
    expect(injectFrom).toBe("pepr-system/pepr-metallb-pepr-webhook");
    expect(config.webhooks!.map((w) => "caBundle" in w.clientConfig)).toEqual([false, false]);
    // Otherwise the very same webhooks.
    const withoutBundles = structuredClone(pepr.webhook[0]);
    for (const w of withoutBundles.webhooks!) delete w.clientConfig.caBundle;
    expect({ ...config, metadata: { name: config.metadata.name } }).toEqual(withoutBundles);

    const cert = out.certManager.find((o) => `${o.metadata.namespace}/${o.metadata.name}` === injectFrom)!;
    expect(cert.kind).toBe("Certificate");
    expect(cert.spec!.secretName).toBe(mountedSecret("admission-deployment.yaml"));
    expect(cert.spec!.secretName).toBe(mountedSecret("watcher-deployment.yaml"));
    expect(cert.spec!.secretName).toBe(pepr.secret[0].metadata.name);
    const service = config.webhooks![0].clientConfig.service;
    expect(cert.spec!.dnsNames).toEqual([
      `${service.name}.${service.namespace}.svc`, // what the API server dials and verifies
      `${serviceName("watcher-service.yaml")}.pepr-system.svc`,
    ]);
    expect(serviceName("admission-service.yaml")).toBe(service.name);
    expect(cert.spec!.renewBefore).toBe("720h");

    // The chart's own CA: self-signed Issuer -> CA Certificate -> CA Issuer -> the Certificate.
    const byName = (kind: string, name: string) =>
      out.certManager.find(
        (o) => o.kind === kind && o.metadata.name === name && o.metadata.namespace === "pepr-system",
      );
    const caIssuer = byName("Issuer", cert.spec!.issuerRef!.name)!;
    const caCert = out.certManager.find(
      (o) => o.kind === "Certificate" && o.spec!.secretName === caIssuer.spec!.ca!.secretName,
    )!;
    expect(caCert.spec!.isCA).toBe(true);
    expect(byName("Issuer", caCert.spec!.issuerRef!.name)!.spec).toEqual({ selfSigned: {} });
    expect(out.certManager.map((o) => o.kind).sort()).toEqual(["Certificate", "Certificate", "Issuer", "Issuer"]);
  });

  it("enabled with an issuerRef: only the Certificate, issued by that issuer", () => {
    const out = renderChart(withCertManager({ enabled: true, issuerRef: { name: "corp-ca", kind: "ClusterIssuer" } }));
    expect(out.certManager.map((o) => [o.kind, o.metadata.name])).toEqual([
      ["Certificate", "pepr-metallb-pepr-webhook"],
    ]);
    expect(out.certManager[0].spec!.issuerRef).toEqual({
      name: "corp-ca",
      kind: "ClusterIssuer",
      group: "cert-manager.io",
    });
  });

  it("drops a caBundle that Pepr's build filled with template actions (its timeout replaced inside the base64)", () => {
    // As in a real build: Pepr 1.1.4 replaces every "10" of the YAML with the timeout's action.
    const bundle = "UkVE{{ .Values.admission.webhookTimeout }}QUNURUQ=";
    const template = files["templates/validation-webhook.yaml"].replaceAll("UkVEQUNURUQ=", bundle);
    const out = certManagerWebhookTemplate("validation-webhook.yaml", template);
    const webhooks = (values: unknown) => (objects(render(out, values))[0] as unknown as K8sObject).webhooks!;
    expect(webhooks(withCertManager({ enabled: true })).map((w) => w.clientConfig.caBundle)).toEqual([
      undefined,
      undefined,
    ]);
    expect(webhooks(defaults).map((w) => w.clientConfig.caBundle)).toEqual(["UkVE10QUNURUQ=", "UkVE10QUNURUQ="]);
  });

  it("is idempotent, and fails loudly on a layout it does not know", () => {
    expect(addCertManagerOption((p) => finished[p])).toEqual({});
    expect(Object.keys(addCertManagerOption((p) => files[p])).sort()).toEqual([
      "templates/cert-manager.yaml",
      "templates/tls-secret.yaml",
      "templates/validation-webhook.yaml",
      "values.schema.json",
      "values.yaml",
    ]);
    expect(finished["templates/cert-manager.yaml"]).toBe(CERT_MANAGER_TEMPLATE);
    for (const [f, text] of [
      [certManagerValues, finished["values.yaml"]],
      [certManagerSchema, finished["values.schema.json"]],
      [certManagerTlsSecret, finished["templates/tls-secret.yaml"]],
    ] as const)
      expect(f(text)).toBe(text);
    expect(() =>
      certManagerWebhookTemplate("w.yaml", files["templates/validation-webhook.yaml"].replace(/caBundle/g, "x")),
    ).toThrow(/layout changed/);
    expect(() => addCertManagerOption((p) => (p === "templates/tls-secret.yaml" ? undefined : files[p]))).toThrow(
      /tls-secret.yaml: missing/,
    );
  });
});
