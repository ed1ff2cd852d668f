/**
 * `pepr dev` only (`npm start`, the tests' control plane): applies the install-time objects
 * (install-manifests.ts) at start-up, because a dev session has no install step. A deployed
 * controller never runs this; the manifest or the Helm chart carries those objects, and its
 * RBAC could not create them. The Lease policy is left out: the lab's agents run outside
 * Pods, with tokens the policy refuses.
 *
 * Server-side apply, so every start installs or upgrades them; start-up waits until the
 * CRDs are Established, so the watches that follow do not fail on a missing kind.
 */
import { K8s, kind } from "kubernetes-fluent-client";
import type { KubernetesObject } from "@kubernetes/client-node";
import type { Settings } from "../settings";
import { agentOptions } from "./agent-manifests";
import { crdManifests, installManifests } from "./install-manifests";

const establishTimeoutMs = 60_000;

const models = {
  Namespace: kind.Namespace,
  CustomResourceDefinition: kind.CustomResourceDefinition,
  ServiceAccount: kind.ServiceAccount,
  ClusterRole: kind.ClusterRole,
  ClusterRoleBinding: kind.ClusterRoleBinding,
  Role: kind.Role,
  RoleBinding: kind.RoleBinding,
  DaemonSet: kind.DaemonSet,
} as const;

export async function applyInstallManifests(settings: Settings, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  for (const obj of installManifests({ ...agentOptions(settings, env), leasePolicy: false })) {
    const model = models[obj.kind as keyof typeof models];
    if (!model) throw new Error(`applyInstallManifests: no model for kind ${obj.kind}`);
    // The builders' objects are structurally the kind; KFC's Apply is typed per model.
    await K8s(model as typeof kind.ServiceAccount).Apply(obj as KubernetesObject as kind.ServiceAccount, {
      force: true,
    });
  }
  await Promise.all(crdManifests().map((crd) => waitEstablished(crd.metadata!.name!)));
}

async function waitEstablished(name: string): Promise<void> {
  const deadline = Date.now() + establishTimeoutMs;
  for (;;) {
    const crd = await K8s(kind.CustomResourceDefinition).Get(name);
    if (crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) return;
    if (Date.now() > deadline) throw new Error(`CRD ${name} was not Established within ${establishTimeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
