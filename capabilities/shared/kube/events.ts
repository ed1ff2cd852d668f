/**
 * Kubernetes Events on the objects users look at (`kubectl describe service`), aggregated
 * and rate-limited (event-aggregator.ts) and written in the background (event-recorder.ts).
 */
import { EventAggregator, type EventType } from "./event-aggregator";
import { EventRecorder } from "./event-recorder";
import { kubeHttp } from "./http";

export type { EventType } from "./event-aggregator";

export interface EventTarget {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

let shared: EventRecorder | undefined;
/** One recorder per process: the aggregation and the rate limits are per process, as the queue is. */
export const eventRecorder = (): EventRecorder =>
  (shared ??= new EventRecorder(kubeHttp, new EventAggregator({ instance: process.env.HOSTNAME ?? "" })));

/**
 * Best effort and non-blocking: the returned promise is already settled when the Event
 * is handed over; an Event that cannot be written never fails the reconcile that emits it.
 */
export function recordEvent(
  target: EventTarget,
  type: EventType,
  reason: string,
  message: string,
  component: string,
): Promise<void> {
  try {
    eventRecorder().record({
      object: {
        apiVersion: target.apiVersion ?? "v1",
        kind: target.kind ?? "Service",
        name: target.metadata?.name ?? "unknown",
        namespace: target.metadata?.namespace ?? "default",
        uid: target.metadata?.uid,
        resourceVersion: target.metadata?.resourceVersion,
      },
      type,
      reason,
      message,
      component,
    });
  } catch {
    // Events are advisory; status and metrics carry the truth.
  }
  return Promise.resolve();
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
