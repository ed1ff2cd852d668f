/**
 * The same finish as finish.ts, for the Helm chart `pepr build` writes (dist/<uuid>-chart/).
 * Its templates are text with Go template actions, not YAML, so the webhook template is
 * split by its (fixed, Pepr-generated) layout: the entry's head up to `rules:`, one rule
 * item per `      - apiGroups:`, then the tail. Rule items hold no template actions and
 * are read as YAML to tell the Service rules from the rest. Fails loudly on any other
 * layout (a Pepr upgrade) rather than guess.
 */
import { parse, parseDocument, stringify } from "yaml";
import type { V1PolicyRule, V1RuleWithOperations } from "@kubernetes/client-node";
import pkg from "../../package.json";
import { LOADBALANCER_ONLY, restrictCRDRules, SERVICE_WEBHOOK_TIMEOUT_SECONDS } from "./finish";

const ENTRY = "  - admissionReviewVersions:";
const RULES = "    rules:";
const RULE_ITEM = "      - ";

function layoutError(what: string): never {
  throw new Error(
    `validation-webhook.yaml: ${what}; Pepr's chart layout changed, update hack/manifests/finish-chart.ts`,
  );
}

const isServiceRule = (item: string[]): boolean => {
  const [rule] = parse(item.join("\n").replace(/^ {6}/gm, "")) as V1RuleWithOperations[];
  return (rule.apiGroups ?? []).includes("") && (rule.resources ?? []).includes("services");
};

const TIMEOUT_ACTION = "{{ .Values.admission.webhookTimeout }}";
const FAILURE_ACTION = "{{ .Values.admission.failurePolicy }}";

/**
 * Pepr 1.1.4 makes the template by replacing every occurrence of the timeout ("10") and of
 * the failure policy ("Fail") in the generated YAML with their value actions, not just the
 * two fields: a "10" inside the base64 caBundle or the random webhook path becomes an
 * action too, and renders back only while the value stays the default. Any other
 * `admission.webhookTimeout` corrupts the CA or the path, and every metallb.io write then
 * fails. This puts the literal back everywhere but on the field's own line. Idempotent.
 */
export function repairOverReplacedActions(text: string, timeoutSeconds: number, failWord: string): string {
  return text
    .split("\n")
    .map((line) => {
      let out = line;
      if (!line.startsWith("    timeoutSeconds: ")) out = out.replaceAll(TIMEOUT_ACTION, String(timeoutSeconds));
      if (!line.startsWith("    failurePolicy: ")) out = out.replaceAll(FAILURE_ACTION, failWord);
      return out;
    })
    .join("\n");
}

/** The chart's ValidatingWebhookConfiguration template, split as finish.ts splits the manifest. */
export function finishChartWebhookTemplate(
  generated: string,
  timeoutSeconds = pkg.pepr.webhookTimeout,
  failWord = pkg.pepr.onError === "reject" ? "Fail" : "Ignore",
): string {
  const text = repairOverReplacedActions(generated, timeoutSeconds, failWord);
  if (text.includes(LOADBALANCER_ONLY.name)) return text; // finished already
  const lines = text.split("\n");
  const start = lines.indexOf(ENTRY);
  const rulesAt = lines.indexOf(RULES);
  if (start < 0 || rulesAt < start) layoutError("no webhook entry with rules");
  if (lines.indexOf(ENTRY, start + 1) >= 0) layoutError("more than one webhook entry");
  const rulesEnd = lines.findIndex((l, i) => i > rulesAt && /^ {4}\S/.test(l));
  if (rulesEnd < 0) layoutError("nothing after the rules");

  const items: string[][] = [];
  for (const line of lines.slice(rulesAt + 1, rulesEnd)) {
    if (line.startsWith(RULE_ITEM)) items.push([line]);
    else if (items.length) items[items.length - 1].push(line);
    else layoutError(`unexpected line under rules: ${line}`);
  }
  const serviceRules = items.filter(isServiceRule).flat();
  const otherRules = items.filter((i) => !isServiceRule(i)).flat();

  const head = lines.slice(start, rulesAt + 1);
  const tail = lines.slice(rulesEnd).filter((l) => l.trim() !== "");
  if (!head.some((l) => l.startsWith("    failurePolicy: "))) layoutError("no failurePolicy");
  if (!head.some((l) => /^ {4}name: .*\.pepr\.dev$/.test(l))) layoutError("no webhook name");
  const withPolicy = (policy: string) =>
    head.map((l) => (l.startsWith("    failurePolicy: ") ? `    failurePolicy: ${policy}` : l));

  const metallb = [...withPolicy("Fail"), ...otherRules, ...tail];
  const services = [
    ...withPolicy("Ignore").map((l) => (/^ {4}name: /.test(l) ? l.replace(/\.pepr\.dev$/, "-services.pepr.dev") : l)),
    ...serviceRules,
    ...tail.map((l) =>
      l.startsWith("    timeoutSeconds: ") ? `    timeoutSeconds: ${SERVICE_WEBHOOK_TIMEOUT_SECONDS}` : l,
    ),
    "    matchConditions:",
    `      - name: ${LOADBALANCER_ONLY.name}`,
    `        expression: ${JSON.stringify(LOADBALANCER_ONLY.expression)}`,
  ];
  const out = [
    ...lines.slice(0, start),
    ...(otherRules.length ? metallb : []),
    ...(serviceRules.length ? services : []),
  ];
  return out.join("\n") + "\n";
}

/** templates/admission-pdb.yaml: the budget of finish.ts, for the chart's admission Deployment. */
export const CHART_BUDGET_TEMPLATE = `{{- if .Values.admission.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .Values.uuid }}
  namespace: pepr-system
  labels:
    {{- toYaml .Values.admission.labels | nindent 4 }}
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app: {{ .Values.uuid }}
      pepr.dev/controller: admission
  unhealthyPodEvictionPolicy: AlwaysAllow
{{- end }}
`;

/**
 * values.yaml: admission.affinity defaults to finish.ts's preferred anti-affinity (comments
 * and everything else kept). A user's own affinity value replaces it, as Helm values do.
 */
export function finishChartValues(text: string, uuidName: string): string {
  const doc = parseDocument(text);
  const current = doc.getIn(["admission", "affinity"]);
  const empty = current === undefined || (typeof current === "object" && stringify(current).trim() === "{}");
  if (!empty) return text;
  doc.setIn(["admission", "affinity"], {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        {
          weight: 100,
          podAffinityTerm: {
            labelSelector: { matchLabels: { app: uuidName, "pepr.dev/controller": "admission" } },
            topologyKey: "kubernetes.io/hostname",
          },
        },
      ],
    },
  });
  return doc.toString({ lineWidth: 0 });
}

/** values.yaml `rbac` (the chart's ClusterRole): CRD rights as finish.ts leaves them in the manifest. */
export function finishChartRbac(text: string): string {
  const doc = parseDocument(text);
  const rules = doc.get("rbac") === undefined ? undefined : (doc.toJS() as { rbac?: V1PolicyRule[] }).rbac;
  if (!Array.isArray(rules)) return text;
  const restricted = restrictCRDRules(rules);
  if (JSON.stringify(restricted) === JSON.stringify(rules)) return text;
  doc.set("rbac", restricted);
  return doc.toString({ lineWidth: 0 });
}
