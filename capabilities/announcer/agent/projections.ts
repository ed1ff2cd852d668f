/**
 * Pure: what the agent keeps of each cached object. A node caches every Service and
 * EndpointSlice of the cluster; keeping only the fields its decisions read (see the
 * `*Like` interfaces of l2/desired.ts and shared/bgp/kube-input.ts) cuts the cache to a
 * fraction of the API objects: with 10,000 Services that is the difference between
 * fitting the DaemonSet's memory request and not.
 */
import { SERVICE_NAME_LABEL } from "../../shared/bgp";
import { SERVICE_COMMUNITIES_ANNOTATION } from "../../shared/config/service-communities";
import type { KubeObject } from "../../shared/kube/informer";

interface Raw {
  metadata?: KubeObject["metadata"];
  spec?: Record<string, unknown>;
  status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } };
  addressType?: string;
  endpoints?: Array<{ nodeName?: string; conditions?: { ready?: boolean | null; serving?: boolean | null } }> | null;
}

const meta = (m: Raw["metadata"], labels: Record<string, string> | undefined) => ({
  name: m?.name,
  namespace: m?.namespace,
  resourceVersion: m?.resourceVersion,
  ...(labels ? { labels } : {}),
});

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** Name, labels, the BGP communities annotation, type, class, traffic policy and the ingress IPs. */
export function projectService(o: KubeObject): KubeObject {
  const r = o as Raw;
  const ingress = (r.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip ? [{ ip: i.ip }] : []));
  const communities = r.metadata?.annotations?.[SERVICE_COMMUNITIES_ANNOTATION];
  return {
    metadata: {
      ...meta(r.metadata, r.metadata?.labels),
      ...(communities !== undefined ? { annotations: { [SERVICE_COMMUNITIES_ANNOTATION]: communities } } : {}),
    },
    spec: {
      type: str(r.spec?.type),
      loadBalancerClass: str(r.spec?.loadBalancerClass),
      externalTrafficPolicy: str(r.spec?.externalTrafficPolicy),
    },
    status: { loadBalancer: { ingress } },
  } as KubeObject;
}

/** The owning Service's name label and, per endpoint, its node and readiness. */
export function projectEndpointSlice(o: KubeObject): KubeObject {
  const r = o as Raw;
  const service = r.metadata?.labels?.[SERVICE_NAME_LABEL];
  return {
    metadata: meta(r.metadata, service !== undefined ? { [SERVICE_NAME_LABEL]: service } : undefined),
    ...(r.addressType !== undefined ? { addressType: r.addressType } : {}),
    endpoints: (r.endpoints ?? []).map((e) => ({
      ...(e.nodeName ? { nodeName: e.nodeName } : {}),
      conditions: { ready: e.conditions?.ready, serving: e.conditions?.serving },
    })),
  } as KubeObject;
}
