/**
 * The chart's `certManager` option: cert-manager issues and renews the webhook serving
 * certificate instead of the one-year pair `pepr build` baked into the chart.
 *
 * With certManager.enabled the chart renders a cert-manager Certificate for the admission and
 * watcher Services that writes the Secret the pods already mount (<uuid>-tls), skips Pepr's
 * static copy of that Secret, and lets cert-manager's cainjector fill the webhooks' caBundle
 * (annotation cert-manager.io/inject-ca-from) instead of the build's CA. The module's server
 * reloads the renewed Secret by itself (capabilities/shared/kube/serving-cert.ts). Without an
 * issuerRef, the chart brings its own chain: a self-signed Issuer, a CA Certificate and an
 * Issuer of that CA. Disabled (the default), the chart renders exactly what Pepr generated.
 *
 * Every function is text in, text out, and idempotent (finishing a finished chart changes
 * nothing). Pepr's templates are Go templates, not YAML, so they are edited by their fixed
 * generated layout, and an unknown layout fails loudly rather than be guessed at.
 */
import { parseDocument } from "yaml";

/** Pepr 1.1.4 puts every object in this namespace (not a value). */
const NAMESPACE = "pepr-system";
export const CERTIFICATE_NAME = "{{ .Values.uuid }}-webhook";
export const INJECT_CA_ANNOTATION = "cert-manager.io/inject-ca-from";
const ENABLED = ".Values.certManager.enabled";

function layoutError(file: string, what: string): never {
  throw new Error(`${file}: ${what}; Pepr's chart layout changed, update hack/manifests/chart-cert-manager.ts`);
}

/** templates/cert-manager.yaml: the Certificate and, without an issuerRef, its Issuer chain. */
export const CERT_MANAGER_TEMPLATE = `{{- if ${ENABLED} }}
{{- if not .Values.certManager.issuerRef.name }}
# No issuerRef: a CA of the chart's own, issued by a self-signed Issuer. The webhooks trust it
# through cainjector, so it never needs to be trusted anywhere else.
apiVersion: cert-manager.io/v1
kind: Issuer
metadata:
  name: {{ .Values.uuid }}-selfsigned
  namespace: ${NAMESPACE}
spec:
  selfSigned: {}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: {{ .Values.uuid }}-ca
  namespace: ${NAMESPACE}
spec:
  isCA: true
  commonName: {{ .Values.uuid }}-ca
  secretName: {{ .Values.uuid }}-ca
  duration: 87600h
  privateKey:
    algorithm: ECDSA
    size: 256
  issuerRef:
    name: {{ .Values.uuid }}-selfsigned
    kind: Issuer
    group: cert-manager.io
---
apiVersion: cert-manager.io/v1
kind: Issuer
metadata:
  name: {{ .Values.uuid }}-ca
  namespace: ${NAMESPACE}
spec:
  ca:
    secretName: {{ .Values.uuid }}-ca
---
{{- end }}
# Writes the Secret the admission and watcher pods mount at /etc/certs; the server reloads it.
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: ${CERTIFICATE_NAME}
  namespace: ${NAMESPACE}
spec:
  secretName: {{ .Values.uuid }}-tls
  duration: {{ .Values.certManager.duration }}
  renewBefore: {{ .Values.certManager.renewBefore }}
  privateKey:
    rotationPolicy: Always
  dnsNames:
    - {{ .Values.uuid }}.${NAMESPACE}.svc
    - {{ .Values.uuid }}-watcher.${NAMESPACE}.svc
  issuerRef:
    {{- if .Values.certManager.issuerRef.name }}
    name: {{ .Values.certManager.issuerRef.name }}
    kind: {{ .Values.certManager.issuerRef.kind | default "Issuer" }}
    group: {{ .Values.certManager.issuerRef.group | default "cert-manager.io" }}
    {{- else }}
    name: {{ .Values.uuid }}-ca
    kind: Issuer
    group: cert-manager.io
    {{- end }}
{{- end }}
`;

const VALUES_BLOCK = `# Webhook serving certificate from cert-manager instead of the one-year pair \`pepr build\`
# generated (docs/install.md, "Webhook certificates"). Needs cert-manager with its cainjector.
certManager:
  enabled: false
  # Empty: the chart renders its own self-signed CA. Otherwise an Issuer (in pepr-system) or a
  # ClusterIssuer whose Secrets carry ca.crt (CA, Vault, ...), e.g. {name: my-ca, kind: ClusterIssuer}.
  issuerRef: {}
  duration: 2160h
  # Longer than the 14 days of the MetalLBPeprWebhookCertificateExpiresSoon alert.
  renewBefore: 720h
`;

/** values.yaml: the certManager block, appended unless present (a user's edits are kept). */
export function certManagerValues(text: string): string {
  if (parseDocument(text).has("certManager")) return text;
  return `${text.trimEnd()}\n${VALUES_BLOCK}`;
}

/** values.schema.json: Pepr's schema forbids unknown top-level values, so Helm would refuse certManager. */
export function certManagerSchema(text: string): string {
  const schema = JSON.parse(text) as {
    definitions?: { Values?: { properties?: Record<string, unknown> } } & Record<string, unknown>;
  };
  const values = schema.definitions?.Values?.properties;
  if (!values) layoutError("values.schema.json", "no definitions.Values.properties");
  if (values.certManager) return text;
  values.certManager = { $ref: "#/definitions/CertManager" };
  schema.definitions!.CertManager = {
    type: "object",
    additionalProperties: false,
    properties: {
      enabled: { type: "boolean" },
      issuerRef: {
        type: "object",
        additionalProperties: false,
        properties: { name: { type: "string" }, kind: { type: "string" }, group: { type: "string" } },
      },
      duration: { type: "string" },
      renewBefore: { type: "string" },
    },
    required: ["enabled"],
    title: "CertManager",
  };
  return JSON.stringify(schema, null, 2) + (text.endsWith("\n") ? "\n" : "");
}

/** templates/tls-secret.yaml: Pepr's static pair, rendered only while cert-manager does not own the Secret. */
export function certManagerTlsSecret(text: string): string {
  if (text.includes(ENABLED)) return text;
  if (!/^kind: Secret$/m.test(text)) layoutError("tls-secret.yaml", "not a Secret");
  return `{{- if not ${ENABLED} }}\n${text.trimEnd()}\n{{- end }}\n`;
}

/**
 * The base64 line can hold template actions: Pepr 1.1.4 replaces every occurrence of the timeout
 * ("10") in the generated YAML with {{ .Values.admission.webhookTimeout }}, base64 included.
 */
const CA_BUNDLE = /^( {6})caBundle: >-\n {8}[^\n]+\n/gm;

/**
 * A webhook configuration template: the inject-ca-from annotation, and no static caBundle, when
 * enabled (cainjector fills every webhook's caBundle from the Certificate's Secret).
 */
export function certManagerWebhookTemplate(file: string, text: string): string {
  if (text.includes(ENABLED)) return text;
  const name = "metadata:\n  name: {{ .Values.uuid }}\n";
  if (!text.includes(name)) layoutError(file, "no metadata.name {{ .Values.uuid }}");
  if (/^ {2}annotations:/m.test(text)) layoutError(file, "metadata.annotations already present");
  const bundles = text.match(CA_BUNDLE)?.length ?? 0;
  if (bundles !== (text.match(/^ {4}clientConfig:$/gm)?.length ?? -1) || bundles === 0)
    layoutError(file, "not one `caBundle: >-` block per webhook clientConfig");
  return text
    .replace(
      name,
      `${name}  {{- if ${ENABLED} }}\n  annotations:\n    ${INJECT_CA_ANNOTATION}: ${NAMESPACE}/${CERTIFICATE_NAME}\n  {{- end }}\n`,
    )
    .replace(CA_BUNDLE, (block, indent: string) => `${indent}{{- if not ${ENABLED} }}\n${block}${indent}{{- end }}\n`);
}

const WEBHOOK_TEMPLATES = ["templates/validation-webhook.yaml", "templates/mutation-webhook.yaml"];

/**
 * The option applied to a chart directory's files: `read` returns a file's text (path relative
 * to the chart) or undefined if absent; the result is every file to write.
 */
export function addCertManagerOption(read: (path: string) => string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const edit = (path: string, f: (text: string) => string, required = true) => {
    const text = read(path);
    if (text === undefined) {
      if (required) throw new Error(`${path}: missing from the chart`);
      return;
    }
    const next = f(text);
    if (next !== text) out[path] = next;
  };
  edit("values.yaml", certManagerValues);
  edit("values.schema.json", certManagerSchema);
  edit("templates/tls-secret.yaml", certManagerTlsSecret);
  for (const path of WEBHOOK_TEMPLATES) edit(path, (t) => certManagerWebhookTemplate(path, t), false);
  if (read("templates/cert-manager.yaml") !== CERT_MANAGER_TEMPLATE)
    out["templates/cert-manager.yaml"] = CERT_MANAGER_TEMPLATE;
  return out;
}
