/**
 * Turns Kubernetes-shaped objects (as read from a watch or a list) into the
 * planner's inputs. Structural types only, so the agent and the controller can
 * pass their own client's objects without a conversion layer.
 */
import { SERVICE_COMMUNITIES_ANNOTATION } from "../config/service-communities";
import { endpointServes } from "./eligibility";
import type { PlanNode, PlanService, ServiceEndpoints } from "./types";

interface Meta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface NodeLike {
  metadata?: Meta;
  status?: { conditions?: { type: string; status: string }[] };
}

export interface ServiceLike {
  metadata?: Meta;
  spec?: { type?: string; externalTrafficPolicy?: string; loadBalancerClass?: string };
  status?: { loadBalancer?: { ingress?: { ip?: string }[] } };
}

export interface EndpointSliceLike {
  metadata?: Meta;
  /** IPv4, IPv6 or FQDN. */
  addressType?: string;
  endpoints?: { nodeName?: string; conditions?: { ready?: boolean | null; serving?: boolean | null } }[] | null;
}

/** The label that ties an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

export const serviceKeyOf = (namespace: string, name: string): string => `${namespace}/${name}`;

export function toPlanNode(node: NodeLike): PlanNode {
  return {
    name: node.metadata?.name ?? "",
    labels: node.metadata?.labels ?? {},
    conditions: node.status?.conditions ?? [],
  };
}

/**
 * A LoadBalancer Service this module handles (same class filter as the allocator:
 * no class unless one is configured), or undefined.
 */
export function toPlanService(svc: ServiceLike, loadBalancerClass?: string): PlanService | undefined {
  if (svc.spec?.type !== "LoadBalancer") return undefined;
  if ((svc.spec.loadBalancerClass ?? undefined) !== loadBalancerClass) return undefined;
  const communities = svc.metadata?.annotations?.[SERVICE_COMMUNITIES_ANNOTATION];
  return {
    namespace: svc.metadata?.namespace ?? "",
    name: svc.metadata?.name ?? "",
    labels: svc.metadata?.labels ?? {},
    ips: (svc.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip ? [i.ip] : [])),
    externalTrafficPolicy: svc.spec.externalTrafficPolicy,
    ...(communities !== undefined ? { communities } : {}),
  };
}

/**
 * Serving endpoints per Service key, merged over all of a Service's slices. The count per
 * node is taken per address type and the larger kept: a dual-stack Service lists each pod
 * once in its IPv4 slices and once in its IPv6 ones.
 */
export function endpointsByService(slices: Iterable<EndpointSliceLike>): Map<string, ServiceEndpoints> {
  const out = new Map<
    string,
    { anyServing: boolean; servingNodes: Set<string>; servingPerNode: Map<string, number> }
  >();
  const perType = new Map<string, Map<string, number>>();
  for (const slice of slices) {
    const svcName = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (!svcName) continue;
    const key = serviceKeyOf(slice.metadata?.namespace ?? "", svcName);
    let entry = out.get(key);
    if (!entry) out.set(key, (entry = { anyServing: false, servingNodes: new Set(), servingPerNode: new Map() }));
    const typeKey = `${key}|${slice.addressType ?? ""}`;
    let counts = perType.get(typeKey);
    if (!counts) perType.set(typeKey, (counts = new Map()));
    for (const ep of slice.endpoints ?? []) {
      if (!endpointServes(ep.conditions)) continue;
      entry.anyServing = true;
      if (!ep.nodeName) continue;
      entry.servingNodes.add(ep.nodeName);
      counts.set(ep.nodeName, (counts.get(ep.nodeName) ?? 0) + 1);
      entry.servingPerNode.set(
        ep.nodeName,
        Math.max(entry.servingPerNode.get(ep.nodeName) ?? 0, counts.get(ep.nodeName)!),
      );
    }
  }
  return out;
}
