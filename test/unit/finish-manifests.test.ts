/**
 * The post-build step (hack/manifests/finish.ts) on the manifest a real `npx pepr build`
 * of this module wrote (test/unit/fixtures), checked by structure: which webhook sees
 * what and how it fails, the admission Deployment's spreading and its budget.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import type { V1Deployment, V1PodDisruptionBudget, V1ValidatingWebhook } from "@kubernetes/client-node";
import {
  finishManifests,
  LOADBALANCER_ONLY,
  PEPR_STORE_CRD_RULE,
  restrictCRDRules,
  SERVICE_WEBHOOK_TIMEOUT_SECONDS,
  serviceWebhookName,
  type ManifestObject,
} from "../../hack/manifests/finish";
import { installManifests } from "../../capabilities/shared/kube/install-manifests";

const generated = (): ManifestObject[] =>
  parseAllDocuments(readFileSync(join(__dirname, "fixtures", "pepr-module-metallb-pepr.yaml"), "utf8")).map(
    (d) => d.toJS() as ManifestObject,
  );
const one = (objects: ManifestObject[], kind: string, name?: string) => {
  const found = objects.filter((o) => o.kind === kind && (!name || o.metadata?.name === name));
  expect(found).toHaveLength(1);
  return found[0];
};
const hooks = (objects: ManifestObject[]) =>
  one(objects, "ValidatingWebhookConfiguration").webhooks as V1ValidatingWebhook[];
const resources = (h: V1ValidatingWebhook) => [...new Set(h.rules!.flatMap((r) => r.resources!))].sort();

describe("finishing the generated manifests", () => {
  it("the fixture is what Pepr generates: one fail-closed webhook for Services and metallb.io alike", () => {
    const [hook] = hooks(generated());
    expect(hooks(generated())).toHaveLength(1);
    expect(hook.failurePolicy).toBe("Fail");
    expect(resources(hook)).toContain("services");
    expect(hook.matchConditions).toBeUndefined();
  });

  it("Services get their own webhook: fail open, 5 s, LoadBalancer Services only", () => {
    const finished = hooks(finishManifests(generated()));
    const svc = finished.find((h) => resources(h).includes("services"))!;
    expect(svc.name).toBe("pepr-metallb-pepr-services.pepr.dev");
    expect(resources(svc)).toEqual(["services"]);
    expect(svc.rules!.every((r) => r.apiGroups!.join() === "")).toBe(true);
    expect(svc.rules!.flatMap((r) => r.operations!).sort()).toEqual(["CREATE", "UPDATE"]);
    expect(svc.failurePolicy).toBe("Ignore");
    expect(svc.timeoutSeconds).toBe(SERVICE_WEBHOOK_TIMEOUT_SECONDS);
    expect(svc.matchConditions).toEqual([LOADBALANCER_ONLY]);
  });

  it("the metallb.io webhook keeps Pepr's name, every metallb.io rule, and fails closed", () => {
    const before = hooks(generated())[0];
    const finished = hooks(finishManifests(generated()));
    expect(finished).toHaveLength(2);
    const config = finished.find((h) => h.name === before.name)!;
    expect(config.failurePolicy).toBe("Fail");
    expect(config.matchConditions).toBeUndefined();
    expect(config.timeoutSeconds).toBe(before.timeoutSeconds);
    expect(config.rules!.every((r) => r.apiGroups!.join() === "metallb.io")).toBe(true);
    expect(config.rules).toEqual(before.rules!.filter((r) => !r.resources!.includes("services")));
    // Both reach the same server and skip the same namespaces.
    for (const h of finished) {
      expect(h.clientConfig).toEqual(before.clientConfig);
      expect(h.namespaceSelector).toEqual(before.namespaceSelector);
      expect(h.sideEffects).toBe("None");
    }
  });

  it("a metallb.io webhook is fail-closed even if onError would make Pepr generate Ignore", () => {
    const objects = generated();
    for (const h of hooks(objects)) h.failurePolicy = "Ignore";
    const config = hooks(finishManifests(objects)).find((h) => !resources(h).includes("services"))!;
    expect(config.failurePolicy).toBe("Fail");
  });

  it("the admission Deployment prefers one replica per node; the watcher is left alone", () => {
    const before = generated();
    const finished = finishManifests(before);
    const admission = one(finished, "Deployment", "pepr-metallb-pepr") as V1Deployment;
    expect(admission.spec!.template.spec!.affinity).toEqual({
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 100,
            podAffinityTerm: {
              labelSelector: { matchLabels: admission.spec!.selector.matchLabels },
              topologyKey: "kubernetes.io/hostname",
            },
          },
        ],
      },
    });
    expect(admission.spec!.replicas).toBe(2);
    expect(one(finished, "Deployment", "pepr-metallb-pepr-watcher")).toEqual(
      one(before, "Deployment", "pepr-metallb-pepr-watcher"),
    );
  });

  it("a PodDisruptionBudget lets at most one admission replica go at a time, right after its Deployment", () => {
    const finished = finishManifests(generated());
    const pdb = one(finished, "PodDisruptionBudget") as V1PodDisruptionBudget;
    const admission = one(finished, "Deployment", "pepr-metallb-pepr") as V1Deployment;
    expect(pdb.apiVersion).toBe("policy/v1");
    expect(pdb.metadata).toMatchObject({ name: "pepr-metallb-pepr", namespace: "pepr-system" });
    expect(pdb.spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: admission.spec!.selector.matchLabels },
      unhealthyPodEvictionPolicy: "AlwaysAllow",
    });
    // It selects the admission pods and nothing else (not the watcher).
    const podLabels = admission.spec!.template.metadata!.labels!;
    for (const [k, v] of Object.entries(pdb.spec!.selector!.matchLabels!)) expect(podLabels[k]).toBe(v);
    expect(pdb.spec!.selector!.matchLabels!["pepr.dev/controller"]).toBe("admission");
    const at = (kind: string) => finished.findIndex((o) => o.kind === kind && o.metadata?.name === "pepr-metallb-pepr");
    expect(at("PodDisruptionBudget")).toBe(at("Deployment") + 1);
  });

  it("everything else passes through untouched, in order", () => {
    const before = generated();
    const untouched = (o: ManifestObject) =>
      !["ValidatingWebhookConfiguration", "PodDisruptionBudget"].includes(o.kind!) &&
      o.metadata?.name !== "pepr-metallb-pepr";
    expect(finishManifests(before).filter(untouched)).toEqual(before.filter(untouched));
  });

  it("finishing twice is finishing once", () => {
    const once = finishManifests(generated());
    expect(finishManifests(once)).toEqual(once);
  });

  it("the install objects go first, and a second finish replaces them rather than adding copies", () => {
    const install = installManifests({
      namespace: "metallb-system",
      image: "agent:test",
      leasePolicy: true,
    }) as ManifestObject[];
    const once = finishManifests(generated(), install);
    expect(once.slice(0, install.length)).toEqual(install);
    expect(
      once
        .slice(install.length)
        .some((o) =>
          install.some(
            (i) =>
              i.kind === o.kind &&
              i.metadata?.name === o.metadata?.name &&
              i.metadata?.namespace === o.metadata?.namespace,
          ),
        ),
    ).toBe(false);
    // A rebuild with another agent image: one DaemonSet, the new one.
    const again = finishManifests(
      once,
      installManifests({ namespace: "metallb-system", image: "agent:next", leasePolicy: true }) as ManifestObject[],
    );
    const daemonSets = again.filter((o) => o.kind === "DaemonSet");
    expect(daemonSets).toHaveLength(1);
    expect(JSON.stringify(daemonSets[0])).toContain("agent:next");
    expect(again).toHaveLength(once.length);
  });

  it("Pepr's ClusterRole keeps, of CRDs, only patch of its own store CRD, which the install creates", () => {
    const rules = (objs: ManifestObject[]) =>
      one(objs, "ClusterRole", "pepr-metallb-pepr").rules as Array<{ resources: string[]; verbs: string[] }>;
    expect(rules(generated()).some((r) => r.resources.includes("customresourcedefinitions"))).toBe(true);
    const finished = finishManifests(generated());
    const crdRules = rules(finished).filter((r) => r.resources.some((x) => x.startsWith("customresourcedefinitions")));
    expect(crdRules).toEqual([PEPR_STORE_CRD_RULE]);
    expect(finishManifests(finished)).toEqual(finished);
    expect(restrictCRDRules([{ apiGroups: [""], resources: ["services"], verbs: ["get"] }])).toEqual([
      { apiGroups: [""], resources: ["services"], verbs: ["get"] },
    ]);
  });

  it("names the Service webhook after Pepr's", () => {
    expect(serviceWebhookName("pepr-x.pepr.dev")).toBe("pepr-x-services.pepr.dev");
    expect(serviceWebhookName("pepr-x-services.pepr.dev")).toBe("pepr-x-services.pepr.dev");
  });
});
