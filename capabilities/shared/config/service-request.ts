/**
 * Service annotation checks for admission: malformed metallb annotations are errors
 * (they can never be honoured); well-formed requests that would leave the Service
 * pending are warnings. The caller decides which Services we handle (type, class).
 */
import { poolAdmits } from "../allocator/pool-order";
import { cidrContains, formatIP, parseIP, type IP } from "../net/ip";
import { q } from "./diagnostics";
import { checkServiceCommunities, SERVICE_COMMUNITIES_ANNOTATION } from "./service-communities";
import type { Config, Pool } from "./types";

export interface ServiceLike {
  metadata?: {
    name?: string;
    namespace?: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
  };
  spec?: { loadBalancerIP?: string };
}

export interface ServiceCheckOptions {
  /** Labels of the Service's namespace, for serviceAllocation.namespaceSelectors. */
  namespaceLabels?: Record<string, string>;
}

export interface ServiceCheck {
  errors: string[];
  warnings: string[];
}

const KEYS = ["loadBalancerIPs", "address-pool", "allow-shared-ip"] as const;
const current = (k: string) => `metallb.io/${k}`;
const legacy = (k: string) => `metallb.universe.tf/${k}`;

/** An address the pool hands out (avoidBuggyIPs excludes IPv4 .0 and .255). */
function poolHas(pool: Pool, ip: IP): boolean {
  if (pool.avoidBuggyIPs && ip.family === 4 && (ip.value % 256n === 0n || ip.value % 256n === 255n)) return false;
  return pool.cidrs.some((c) => cidrContains(c, ip));
}

/** Parses the requested addresses; reports malformed ones. */
function requestedIPs(text: string, field: string, errors: string[]): IP[] | undefined {
  const parts = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const ips: IP[] = [];
  for (const part of parts) {
    const ip = parseIP(part);
    if (!ip) {
      errors.push(
        `${field}: invalid requested loadbalancer IPs: ${q(part)} is not an IP address; list one or two addresses separated by a comma, such as "192.0.2.10,2001:db8::10"`,
      );
      return undefined;
    }
    ips.push(ip);
  }
  if (ips.length > 2) {
    errors.push(`${field}: more than two addresses ${q(text)}; request at most one IPv4 and one IPv6 address`);
    return undefined;
  }
  if (ips.length === 2 && ips[0].family === ips[1].family) {
    errors.push(
      `${field}: ${q(parts[0])} and ${q(parts[1])} have the same family; request at most one address per IP family`,
    );
    return undefined;
  }
  return ips;
}

export function checkServiceRequest(
  service: ServiceLike,
  config?: Config,
  options: ServiceCheckOptions = {},
): ServiceCheck {
  const errors: string[] = [];
  const warnings: string[] = [];
  const ns = service.metadata?.namespace ?? "default";
  const prefix = `Service ${q(`${ns}/${service.metadata?.name ?? ""}`)}: `;
  const annotations = service.metadata?.annotations ?? {};

  // The metallb.io/ key wins; the legacy one still works but is deprecated.
  const value = (k: string): { key: string; text: string } | undefined => {
    if (annotations[current(k)] !== undefined) return { key: current(k), text: annotations[current(k)] };
    if (annotations[legacy(k)] !== undefined) return { key: legacy(k), text: annotations[legacy(k)] };
    return undefined;
  };
  for (const k of KEYS) {
    if (annotations[legacy(k)] === undefined) continue;
    const ignored = annotations[current(k)] !== undefined ? ` (it is ignored: ${current(k)} is also set)` : "";
    warnings.push(`${prefix}uses deprecated annotation ${legacy(k)}${ignored}; use ${current(k)} instead`);
  }

  const ipsAnnotation = value("loadBalancerIPs");
  const specIP = service.spec?.loadBalancerIP?.trim() ?? "";
  let ips: IP[] | undefined;
  if (ipsAnnotation && ipsAnnotation.text.trim() !== "" && specIP !== "") {
    errors.push(
      `service can not have both ${ipsAnnotation.key} and svc.Spec.LoadBalancerIP; remove spec.loadBalancerIP`,
    );
  } else if (ipsAnnotation && ipsAnnotation.text.trim() !== "") {
    ips = requestedIPs(ipsAnnotation.text, `annotation ${ipsAnnotation.key}`, errors);
  } else if (specIP !== "") {
    ips = requestedIPs(specIP, "spec.loadBalancerIP", errors);
  }

  const communities = checkServiceCommunities(
    annotations[SERVICE_COMMUNITIES_ANNOTATION],
    config?.communities,
    config?.bgpAdvertisements.some((a) => a.serviceCommunities),
  );
  errors.push(...communities.errors);
  warnings.push(...communities.warnings.map((w) => prefix + w));

  const poolName = value("address-pool")?.text.trim();
  if (config) {
    for (const reason of pendingReasons(service, config, ips ?? [], poolName || undefined, options))
      warnings.push(prefix + reason);
  }
  return { errors: errors.map((e) => prefix + e), warnings };
}

/** Why a well-formed request would leave the Service pending. */
function pendingReasons(
  service: ServiceLike,
  config: Config,
  ips: IP[],
  poolName: string | undefined,
  options: ServiceCheckOptions,
): string[] {
  const out: string[] = [];
  const pools = new Map(config.pools.map((p) => [p.name, p]));
  const targets = new Set<Pool>();
  if (poolName !== undefined) {
    const pool = pools.get(poolName);
    if (!pool) {
      out.push(
        `unknown pool ${q(poolName)}; the Service stays pending until an IPAddressPool named ${q(poolName)} exists`,
      );
      return out;
    }
    targets.add(pool);
    for (const ip of ips) {
      if (!poolHas(pool, ip)) {
        out.push(
          `requested loadBalancer IP(s) ${q(formatIP(ip))} is not compatible with requested address pool ${q(poolName)}; request an address of that pool or drop one of the two annotations`,
        );
      }
    }
  } else {
    const owners = ips.map((ip) => config.pools.find((p) => poolHas(p, ip)));
    ips.forEach((ip, i) => {
      if (!owners[i])
        out.push(
          `${q(formatIP(ip))} is not allowed in config: no IPAddressPool contains it; the Service stays pending until one does`,
        );
    });
    const found = owners.filter((p): p is Pool => p !== undefined);
    if (found.length === 2 && found[0] !== found[1]) {
      out.push(
        `requested IPs ${q(formatIP(ips[0]))} and ${q(formatIP(ips[1]))} are in different pools (${q(found[0].name)}, ${q(found[1].name)}); both addresses must come from one IPAddressPool`,
      );
    }
    for (const p of found) targets.add(p);
  }
  for (const pool of targets) {
    if (pool.disabled !== undefined)
      out.push(
        `pool ${q(pool.name)} is invalid and hands out no new address until it is fixed (see kubectl get configurationstates -n metallb-system)`,
      );
    const admitted = poolAdmits(pool, {
      serviceKey: `${service.metadata?.namespace ?? "default"}/${service.metadata?.name ?? ""}`,
      namespace: service.metadata?.namespace ?? "default",
      labels: service.metadata?.labels ?? {},
      namespaceLabels: options.namespaceLabels,
      ipFamilies: [],
    });
    if (!admitted) {
      out.push(
        `pool ${q(pool.name)} not compatible for ip assignment: its serviceAllocation does not admit this Service's namespace or labels`,
      );
    }
  }
  return out;
}
