/**
 * Controller start-up: make the cluster ready for the reconcilers. Idempotent
 * (server-side apply), so every controller start installs or upgrades the CRDs.
 * In-cluster the module is a single bundle, so the CRDs come from the generated
 * JSON embedded at build time (crds/generated/crds.json), not from crds/*.yaml.
 */
import { K8s, kind } from "kubernetes-fluent-client";
import type { V1CustomResourceDefinition } from "@kubernetes/client-node";
import crdBundle from "../../../crds/generated/crds.json";

const establishTimeoutMs = 60_000;

/** The configuration namespace, labelled so the privileged agent DaemonSet is admitted. */
export async function ensureNamespace(name: string): Promise<void> {
  await K8s(kind.Namespace).Apply(
    {
      metadata: {
        name,
        labels: {
          "pod-security.kubernetes.io/enforce": "privileged",
          "pod-security.kubernetes.io/audit": "privileged",
          "pod-security.kubernetes.io/warn": "privileged",
        },
      },
    },
    { force: true },
  );
}

export async function ensureCRDs(): Promise<void> {
  const crds = crdBundle as unknown as V1CustomResourceDefinition[];
  for (const crd of crds) await K8s(kind.CustomResourceDefinition).Apply(crd, { force: true });
  await Promise.all(crds.map((crd) => waitEstablished(crd.metadata!.name!)));
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
