/**
 * Installs or upgrades the node agent (ServiceAccount, RBAC, DaemonSet) with
 * server-side apply: idempotent, so every controller start converges it.
 * The objects themselves come from the pure builder in agent-manifests.ts.
 */
import { K8s, kind } from "kubernetes-fluent-client";
import type { KubernetesObject } from "@kubernetes/client-node";
import type { Settings } from "../settings";
import { agentManifests, agentOptions } from "./agent-manifests";

export { agentOptions };

const models = {
  ServiceAccount: kind.ServiceAccount,
  ClusterRole: kind.ClusterRole,
  ClusterRoleBinding: kind.ClusterRoleBinding,
  Role: kind.Role,
  RoleBinding: kind.RoleBinding,
  DaemonSet: kind.DaemonSet,
} as const;

export async function ensureAgent(settings: Settings, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  for (const obj of agentManifests(agentOptions(settings, env))) {
    const model = models[obj.kind as keyof typeof models];
    if (!model) throw new Error(`ensureAgent: no model for kind ${obj.kind}`);
    // The builder's objects are structurally the kind; KFC's Apply is typed per model.
    await K8s(model as typeof kind.ServiceAccount).Apply(obj as KubernetesObject as kind.ServiceAccount, {
      force: true,
    });
  }
}
