/** Shorthands shared by the allocator tests (not part of the engine). */
import { formatIP, parseCIDR, parseIP, type CIDR, type IP } from "../net/ip";
import type { AllocationResult, Pool, ServiceRequest } from "./types";

export function ip(text: string): IP {
  const v = parseIP(text);
  if (!v) throw new Error(`bad test IP ${text}`);
  return v;
}

export function cidr(text: string): CIDR {
  const v = parseCIDR(text);
  if (!v) throw new Error(`bad test CIDR ${text}`);
  return v;
}

export function pool(name: string, cidrs: string[], extra: Partial<Pool> = {}): Pool {
  return { name, cidrs: cidrs.map(cidr), autoAssign: true, avoidBuggyIPs: false, ...extra };
}

/** A single-stack IPv4 Service in namespace "default" unless told otherwise. */
export function svc(name: string, extra: Partial<ServiceRequest> = {}): ServiceRequest {
  const [namespace, short] = name.includes("/") ? name.split("/") : ["default", name];
  return {
    serviceKey: `${namespace}/${short}`,
    namespace,
    ipFamilies: [4],
    ports: [{ protocol: "TCP", port: 80 }],
    ...extra,
  };
}

/** The assigned addresses as text, or the error message (so expectations read naturally). */
export function ips(result: AllocationResult): string[] | string {
  return result.ok ? result.value.ips.map(formatIP) : result.error.message;
}
