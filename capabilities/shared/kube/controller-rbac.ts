/**
 * The controller's rights in the configuration namespace, as a Role. Pepr generates one
 * ClusterRole from package.json `pepr.rbac`, and a rule there holds in every namespace. What
 * the controller does only in the configuration namespace (every metallb.io read and write,
 * the L2 membership key and roster) is granted here instead, so it cannot, for example,
 * create a Secret anywhere else. What stays cluster-wide in package.json is what the
 * controller watches across namespaces: Services, EndpointSlices, Nodes, Namespaces,
 * Leases (Pepr's Watch binding lists them cluster-wide), Service status and Events.
 *
 * Pure; installed with the other install-time objects (install-manifests.ts).
 */
import type { KubernetesObject } from "@kubernetes/client-node";
import pkg from "../../../package.json";
import { ALL_KINDS } from "../../../crds/types/kinds";

/** The identity Pepr gives the module's admission and watcher pods. */
export const CONTROLLER_SERVICE_ACCOUNT = { name: `pepr-${pkg.pepr.uuid}`, namespace: "pepr-system" };
export const CONTROLLER_ROLE_NAME = "metallb-controller";

const METALLB_KINDS = ALL_KINDS.map((k) => k.plural);

const labels = { "app.kubernetes.io/component": "controller", "app.kubernetes.io/part-of": "metallb-pepr" };

const rule = (apiGroup: string, resources: string[], verbs: string[], resourceNames?: string[]) => ({
  apiGroups: [apiGroup],
  resources,
  verbs,
  ...(resourceNames ? { resourceNames } : {}),
});

export function controllerRole(namespace: string): KubernetesObject & { rules: ReturnType<typeof rule>[] } {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: { name: CONTROLLER_ROLE_NAME, namespace, labels },
    rules: [
      // config-store.ts and config-source.ts (the configuration), l2/controller.ts and bgp (status kinds).
      rule("metallb.io", METALLB_KINDS, ["get", "list", "watch"]),
      // config-report.ts (Valid conditions), allocator/kube-writer.ts (pool usage), the status kinds.
      rule(
        "metallb.io",
        METALLB_KINDS.map((k) => `${k}/status`),
        ["patch"],
      ),
      // ServiceL2Status, ServiceBGPStatus and BGPSession objects: one per Service or session.
      rule("metallb.io", ["servicel2statuses", "servicebgpstatuses", "bgpsessions"], ["create", "delete", "patch"]),
      // configuration-state.ts: the controller's ConfigurationState (server-side apply).
      rule("metallb.io", ["configurationstates"], ["create", "patch"]),
      // L2 membership (issue 12): the cluster key Secret, created once and never read back,
      // and the roster ConfigMap, created once, then read and replaced by name.
      rule("", ["configmaps", "secrets"], ["create"]),
      rule("", ["configmaps"], ["get", "update"], ["metallb-l2-membership"]),
    ],
  };
}

export function controllerRoleBinding(namespace: string): KubernetesObject {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name: CONTROLLER_ROLE_NAME, namespace, labels },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: CONTROLLER_ROLE_NAME },
    subjects: [{ kind: "ServiceAccount", ...CONTROLLER_SERVICE_ACCOUNT }],
  } as KubernetesObject;
}
