/**
 * Pure translation of a Service into what the allocation engine needs, plus the
 * questions the reconciler asks of a Service (is it ours? what does it hold?).
 * No Kubernetes client here: the input is the plain object from the API.
 */
import type { V1Service } from "@kubernetes/client-node";
import { backendKeyFor } from "../shared/allocator/sharing";
import { ALLOCATED_FROM_POOL_ANNOTATION } from "../shared/config/pool-holders";
import { parseRequestedIPs } from "../shared/allocator/requested";
import type { IPFamilyPolicy, Result, ServiceRequest } from "../shared/allocator/types";
import { parseIP, type Family, type IP } from "../shared/net/ip";

export const ANNOTATION = {
  loadBalancerIPs: "metallb.io/loadBalancerIPs",
  addressPool: "metallb.io/address-pool",
  allowSharedIP: "metallb.io/allow-shared-ip",
  allocatedFromPool: ALLOCATED_FROM_POOL_ANNOTATION,
} as const;

const LEGACY_PREFIX = "metallb.universe.tf/";

export const serviceKey = (svc: V1Service): string =>
  `${svc.metadata?.namespace ?? "default"}/${svc.metadata?.name ?? ""}`;

/** A user annotation, preferring metallb.io/ over its deprecated metallb.universe.tf/ twin. */
export function annotation(svc: V1Service, key: string): string | undefined {
  const a = svc.metadata?.annotations ?? {};
  return a[key] ?? a[LEGACY_PREFIX + key.slice(key.indexOf("/") + 1)];
}

/** The deprecated annotation keys a Service uses (each gets a Warning Event). */
export function legacyAnnotations(svc: V1Service): string[] {
  const a = svc.metadata?.annotations ?? {};
  return [ANNOTATION.loadBalancerIPs, ANNOTATION.addressPool, ANNOTATION.allowSharedIP]
    .map((k) => LEGACY_PREFIX + k.slice(k.indexOf("/") + 1))
    .filter((k) => k in a);
}

/** Ours: type LoadBalancer and the class we were told to serve (none by default). */
export function isHandled(svc: V1Service, loadBalancerClass: string | undefined): boolean {
  return svc.spec?.type === "LoadBalancer" && (svc.spec.loadBalancerClass ?? undefined) === loadBalancerClass;
}

/** The addresses the Service currently shows in status.loadBalancer.ingress. */
export function ingressIPs(svc: V1Service): IP[] {
  return (svc.status?.loadBalancer?.ingress ?? []).flatMap((i) => {
    const ip = i.ip ? parseIP(i.ip) : undefined;
    return ip ? [ip] : [];
  });
}

function clusterFamilies(svc: V1Service): Family[] {
  const fromSpec = (svc.spec?.ipFamilies ?? []).map((f) => (f === "IPv6" ? 6 : 4) as Family);
  if (fromSpec.length) return fromSpec;
  return (svc.spec?.clusterIPs ?? [svc.spec?.clusterIP ?? ""]).flatMap((c) => {
    const ip = parseIP(c);
    return ip ? [ip.family] : [];
  });
}

/** Builds the engine request; an error when the metallb annotations cannot be read. */
export function toServiceRequest(
  svc: V1Service,
  namespaceLabels: Record<string, string> | undefined,
): Result<ServiceRequest> {
  const requested = parseRequestedIPs(
    annotation(svc, ANNOTATION.loadBalancerIPs),
    svc.spec?.loadBalancerIP || undefined,
  );
  if (!requested.ok) return requested;
  const policy = (svc.spec?.ipFamilyPolicy ?? "SingleStack") as IPFamilyPolicy;
  return {
    ok: true,
    value: {
      serviceKey: serviceKey(svc),
      namespace: svc.metadata?.namespace ?? "default",
      labels: svc.metadata?.labels ?? {},
      namespaceLabels: namespaceLabels ?? {},
      ipFamilyPolicy: policy,
      ipFamilies: clusterFamilies(svc),
      requestedIPs: requested.value.length ? requested.value : undefined,
      pool: annotation(svc, ANNOTATION.addressPool) || undefined,
      ports: (svc.spec?.ports ?? []).map((p) => ({ protocol: p.protocol ?? "TCP", port: p.port })),
      sharingKey: annotation(svc, ANNOTATION.allowSharedIP) ?? "",
      backendKey: backendKeyFor(svc.spec?.externalTrafficPolicy, svc.spec?.selector),
    },
  };
}
