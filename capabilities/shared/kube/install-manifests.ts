/**
 * Everything a cluster needs besides Pepr's own objects, as plain data: the configuration
 * namespace, the metallb.io CRDs, the controller's rights in that namespace
 * (controller-rbac.ts), the node agent (ServiceAccount, RBAC, DaemonSet) and the admission
 * policy that ties each agent to its own node's Lease.
 *
 * These are install-time objects. They go into the manifest `npm run build` writes, the
 * Helm chart and `metallb-pepr manifests`, so GitOps tools can see, diff and customise them
 * and uninstalling the manifest removes them. The deployed controller never applies them,
 * which is why its RBAC holds no create on CRDs, DaemonSets or RBAC objects. Only `pepr dev`
 * (`npm start`, the tests' control plane, which has no install step) applies the same
 * objects at start-up: see dev-install.ts.
 *
 * Pure: no client, no environment reads.
 */
import type { KubernetesObject } from "@kubernetes/client-node";
import crdBundle from "../../../crds/generated/crds.json";
import { agentLeasePolicyManifests, agentManifests, type AgentOptions } from "./agent-manifests";
import { controllerRole, controllerRoleBinding } from "./controller-rbac";

export interface InstallOptions extends AgentOptions {
  /**
   * The Lease admission policy (agent-manifests.ts). Off only where agents run with tokens
   * not bound to a Pod (the lab's agents in network namespaces), which the policy refuses.
   */
  leasePolicy: boolean;
}

/**
 * The configuration namespace. The agent needs hostNetwork and NET_RAW, which Pod
 * Security's baseline level refuses, so the namespace enforces `privileged`.
 */
export function configNamespace(name: string): KubernetesObject {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name,
      labels: {
        "pod-security.kubernetes.io/enforce": "privileged",
        "pod-security.kubernetes.io/audit": "privileged",
        "pod-security.kubernetes.io/warn": "privileged",
      },
    },
  } as KubernetesObject;
}

/** The metallb.io CRDs, generated from crds/*.yaml at build time (a bundle has no crds/ directory). */
export function crdManifests(): KubernetesObject[] {
  return crdBundle as unknown as KubernetesObject[];
}

/**
 * Pepr's PeprStore CRD (group pepr.dev, kind PeprStore, a string map under `data`), which
 * Pepr's controller applies at every start. Installing it here lets the controller's RBAC
 * hold only `patch` of this one CRD instead of creating CRDs (hack/manifests/finish.ts).
 */
export function peprStoreCRD(): KubernetesObject {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: "peprstores.pepr.dev" },
    spec: {
      group: "pepr.dev",
      scope: "Namespaced",
      names: { plural: "peprstores", singular: "peprstore", kind: "PeprStore" },
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: "object",
              properties: { data: { type: "object", additionalProperties: { type: "string" } } },
            },
          },
        },
      ],
    },
  } as KubernetesObject;
}

/** Everything, in apply order: the namespace and CRDs before what lives in or refers to them. */
export function installManifests(o: InstallOptions): KubernetesObject[] {
  return [
    configNamespace(o.namespace),
    ...crdManifests(),
    peprStoreCRD(),
    controllerRole(o.namespace),
    controllerRoleBinding(o.namespace),
    ...agentManifests(o),
    ...(o.leasePolicy ? agentLeasePolicyManifests(o) : []),
  ];
}
