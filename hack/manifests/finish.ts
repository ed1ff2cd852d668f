/**
 * Finishes the manifests `pepr build` writes, so that admission can never be the reason
 * nobody in the cluster can write a Service.
 *
 * Pepr 1.1.4 puts every Validate binding in one webhook entry: one failurePolicy (from
 * `onError`), one timeout, rules by kind and operation only, no matchConditions. Ours then
 * sends every Service write in the cluster to a fail-closed webhook. Pepr cannot say
 * otherwise, so this step rewrites the generated objects (pure: objects in, objects out):
 *
 * - the Service rules move to an entry of their own that fails open (Ignore), times out
 *   after 5 s and only sees LoadBalancer Services (matchConditions): the reconciler checks
 *   every Service again and reports through Events, so nothing is lost when it is skipped;
 * - the metallb.io rules stay in Pepr's entry, fail-closed (Fail): a bad configuration
 *   object must never get in while admission is down;
 * - the admission Deployment gets preferred anti-affinity by hostname and a
 *   PodDisruptionBudget, so a drain or a node loss takes at most one replica at a time;
 * - the install-time objects (the configuration namespace, the metallb.io CRDs and Pepr's
 *   PeprStore CRD, the node agent and its Lease policy: install-manifests.ts) go first, so
 *   one `kubectl apply` installs everything and one `kubectl delete` removes it;
 * - Pepr's ClusterRole keeps, of CustomResourceDefinitions, only `patch` of the PeprStore
 *   CRD: Pepr's controller applies that CRD at every start and exits if it cannot, but the
 *   install now creates it, so create (and any other CRD) is not needed.
 *
 * Idempotent: finishing finished manifests changes nothing.
 */
import type {
  V1Deployment,
  V1LabelSelector,
  V1MatchCondition,
  V1PodDisruptionBudget,
  V1PolicyRule,
  V1RuleWithOperations,
  V1ValidatingWebhook,
} from "@kubernetes/client-node";

/** One object of a multi-document manifest, as parsed from YAML. */
export interface ManifestObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** The admission webhook for Services gives up (and admits) after this long. */
export const SERVICE_WEBHOOK_TIMEOUT_SECONDS = 5;

/**
 * Only LoadBalancer Services reach the webhook. A Service changed from LoadBalancer to
 * another type is not sent (admission has nothing to refuse there: the reconciler just
 * releases its address); one changed to LoadBalancer is. `object` is null only on DELETE,
 * which the Service rules do not include; the guard keeps the expression total anyway.
 */
export const LOADBALANCER_ONLY: V1MatchCondition = {
  name: "loadbalancer-services-only",
  expression: "object != null && has(object.spec.type) && object.spec.type == 'LoadBalancer'",
};

const SERVICE_SUFFIX = "-services";

const isServiceRule = (r: V1RuleWithOperations): boolean =>
  (r.apiGroups ?? []).includes("") && (r.resources ?? []).includes("services");

/** "pepr-x.pepr.dev" -> "pepr-x-services.pepr.dev" (unchanged if already so). */
export function serviceWebhookName(name: string): string {
  const dot = name.indexOf(".");
  const head = dot < 0 ? name : name.slice(0, dot);
  const tail = dot < 0 ? "" : name.slice(dot);
  return head.endsWith(SERVICE_SUFFIX) ? name : `${head}${SERVICE_SUFFIX}${tail}`;
}

/** Splits one generated webhook entry into a fail-open Service entry and a fail-closed rest. */
export function splitWebhook(hook: V1ValidatingWebhook): V1ValidatingWebhook[] {
  const rules = hook.rules ?? [];
  const serviceRules = rules.filter(isServiceRule);
  const otherRules = rules.filter((r) => !isServiceRule(r));
  const out: V1ValidatingWebhook[] = [];
  if (otherRules.length) out.push({ ...hook, rules: otherRules, failurePolicy: "Fail" });
  if (serviceRules.length) {
    const others = (hook.matchConditions ?? []).filter((c) => c.name !== LOADBALANCER_ONLY.name);
    out.push({
      ...hook,
      name: serviceWebhookName(hook.name),
      rules: serviceRules,
      failurePolicy: "Ignore",
      timeoutSeconds: Math.min(hook.timeoutSeconds ?? 10, SERVICE_WEBHOOK_TIMEOUT_SECONDS),
      matchConditions: [...others, LOADBALANCER_ONLY],
    });
  }
  return out;
}

const isWebhookConfiguration = (o: ManifestObject): boolean =>
  o.apiVersion === "admissionregistration.k8s.io/v1" &&
  (o.kind === "ValidatingWebhookConfiguration" || o.kind === "MutatingWebhookConfiguration");

const isAdmissionDeployment = (o: ManifestObject): boolean =>
  o.kind === "Deployment" && o.metadata?.labels?.["pepr.dev/controller"] === "admission";

/** Preferred (never required: a one-node cluster must still run both replicas) spreading by node. */
export function withAntiAffinity(dep: V1Deployment): V1Deployment {
  const selector: V1LabelSelector = { matchLabels: { ...(dep.spec?.selector.matchLabels ?? {}) } };
  const podSpec = dep.spec!.template.spec!;
  return {
    ...dep,
    spec: {
      ...dep.spec!,
      template: {
        ...dep.spec!.template,
        spec: {
          ...podSpec,
          affinity: {
            ...podSpec.affinity,
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                { weight: 100, podAffinityTerm: { labelSelector: selector, topologyKey: "kubernetes.io/hostname" } },
              ],
            },
          },
        },
      },
    },
  };
}

/**
 * At most one admission replica evicted at a time (of Pepr's 2). A replica that is not
 * Ready may always be evicted, so a broken one never blocks a node drain.
 */
export function admissionBudget(dep: V1Deployment): V1PodDisruptionBudget {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: dep.metadata!.name, namespace: dep.metadata!.namespace, labels: { ...dep.metadata!.labels } },
    spec: {
      maxUnavailable: 1,
      selector: { matchLabels: { ...(dep.spec?.selector.matchLabels ?? {}) } },
      unhealthyPodEvictionPolicy: "AlwaysAllow",
    },
  };
}

export const PEPR_STORE_CRD = "peprstores.pepr.dev";

/** The one CRD right Pepr's controller needs once the install has created its store CRD. */
export const PEPR_STORE_CRD_RULE: V1PolicyRule = {
  apiGroups: ["apiextensions.k8s.io"],
  resources: ["customresourcedefinitions"],
  resourceNames: [PEPR_STORE_CRD],
  verbs: ["patch"],
};

const sameRule = (a: V1PolicyRule, b: V1PolicyRule): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Rules without CustomResourceDefinition rights, plus PEPR_STORE_CRD_RULE if there were any. */
export function restrictCRDRules(rules: V1PolicyRule[]): V1PolicyRule[] {
  let touched = false;
  const out: V1PolicyRule[] = [];
  for (const r of rules) {
    if (sameRule(r, PEPR_STORE_CRD_RULE)) {
      touched = true;
      continue;
    }
    if (!(r.apiGroups ?? []).includes("apiextensions.k8s.io")) {
      out.push(r);
      continue;
    }
    touched = true;
    const resources = (r.resources ?? []).filter((x) => !x.startsWith("customresourcedefinitions"));
    if (resources.length) out.push({ ...r, resources });
  }
  return touched ? [...out, PEPR_STORE_CRD_RULE] : out;
}

const sameObject = (a: ManifestObject, b: ManifestObject): boolean =>
  a.kind === b.kind && a.metadata?.name === b.metadata?.name && a.metadata?.namespace === b.metadata?.namespace;

/**
 * The finished manifest: the install objects first (replacing earlier copies), then Pepr's,
 * with the PodDisruptionBudget after the admission Deployment.
 */
export function finishManifests(objects: ManifestObject[], install: ManifestObject[] = []): ManifestObject[] {
  const budgets = objects
    .filter(isAdmissionDeployment)
    .map((d) => admissionBudget(d as V1Deployment) as unknown as ManifestObject);
  const out: ManifestObject[] = [...install];
  for (const o of objects) {
    if (budgets.some((b) => sameObject(b, o))) continue; // re-added below, freshly made
    if (install.some((i) => sameObject(i, o))) continue; // finished before: the fresh copy is first
    if (isWebhookConfiguration(o)) {
      const hooks = (o.webhooks ?? []) as V1ValidatingWebhook[];
      out.push({ ...o, webhooks: hooks.flatMap(splitWebhook) });
    } else if (o.kind === "ClusterRole" && Array.isArray(o.rules)) {
      out.push({ ...o, rules: restrictCRDRules(o.rules as V1PolicyRule[]) });
    } else if (isAdmissionDeployment(o)) {
      out.push(withAntiAffinity(o as V1Deployment) as unknown as ManifestObject);
      out.push(...budgets.filter((b) => b.metadata?.name === o.metadata?.name));
    } else {
      out.push(o);
    }
  }
  return out;
}
