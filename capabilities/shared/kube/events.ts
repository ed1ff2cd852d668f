/** Kubernetes Events on the objects users look at (`kubectl describe service`). */
import { randomBytes } from "node:crypto";
import { kubeHttp } from "./http";

export interface EventTarget {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export type EventType = "Normal" | "Warning";

/** Best effort: an Event that cannot be written must never fail the reconcile that emits it. */
export async function recordEvent(
  target: EventTarget,
  type: EventType,
  reason: string,
  message: string,
  component: string,
): Promise<void> {
  const name = target.metadata?.name ?? "unknown";
  const namespace = target.metadata?.namespace ?? "default";
  const now = new Date().toISOString();
  try {
    await kubeHttp().send("POST", `/api/v1/namespaces/${namespace}/events`, {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: `${name}.${randomBytes(8).toString("hex")}`, namespace },
      involvedObject: {
        apiVersion: target.apiVersion ?? "v1",
        kind: target.kind ?? "Service",
        name,
        namespace,
        uid: target.metadata?.uid,
        resourceVersion: target.metadata?.resourceVersion,
      },
      type,
      reason,
      message,
      source: { component },
      reportingComponent: component,
      reportingInstance: process.env.HOSTNAME ?? component,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    });
  } catch {
    // Events are advisory; status and metrics carry the truth.
  }
}

/** MetalLB's "nodeAssigned" Event: which node announces a Service, and how. */
export function recordNodeAssigned(svc: EventTarget, node: string, protocol: "layer2" | "bgp"): Promise<void> {
  return recordEvent(
    { ...svc, apiVersion: "v1", kind: "Service" },
    "Normal",
    "nodeAssigned",
    `announcing from node ${JSON.stringify(node)} with protocol ${JSON.stringify(protocol)}`,
    "metallb-speaker",
  );
}
