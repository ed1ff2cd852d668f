/**
 * Which nodes may announce at all, and where a Service's traffic can land:
 * the node exclusions and the externalTrafficPolicy endpoint rules MetalLB's
 * speaker applies before looking at advertisements (reference §2, §5.1).
 */
import type { PlanNode, PlanSettings, ServiceEndpoints, PlanService, WithdrawReason } from "./types";

export const EXCLUDE_LB_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers";

/** Why this node must not announce anything, or undefined when it may. */
export function nodeExclusion(node: PlanNode, settings: PlanSettings): WithdrawReason | undefined {
  if ((node.conditions ?? []).some((c) => c.type === "NetworkUnavailable" && c.status === "True")) {
    return "nodeNetworkUnavailable";
  }
  // Present with any value counts, as in Kubernetes' service controller.
  if (!settings.ignoreExcludeLBLabel && Object.prototype.hasOwnProperty.call(node.labels, EXCLUDE_LB_LABEL)) {
    return "nodeExcluded";
  }
  return undefined;
}

/**
 * Cluster: any serving endpoint anywhere lets every eligible node announce.
 * Local: only nodes hosting a serving endpoint announce, so no traffic is
 * attracted to a node that would drop it.
 */
export function endpointReason(
  svc: PlanService,
  endpoints: ServiceEndpoints | undefined,
  nodeName: string,
): WithdrawReason | undefined {
  if (svc.externalTrafficPolicy === "Local") {
    return endpoints?.servingNodes.has(nodeName) ? undefined : "noLocalEndpoints";
  }
  return endpoints?.anyServing ? undefined : "noEndpoints";
}

/** EndpointSlice endpoint readiness as MetalLB reads it: ready nil or true, or serving true. */
export function endpointServes(conditions: { ready?: boolean | null; serving?: boolean | null } | undefined): boolean {
  const ready = conditions?.ready;
  if (ready === undefined || ready === null || ready === true) return true;
  return conditions?.serving === true;
}
