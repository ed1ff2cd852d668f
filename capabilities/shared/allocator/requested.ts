/**
 * Explicitly requested addresses: parsing the two ways a Service can ask for them, and
 * checking that they suit the Service's IP families.
 */
import { parseIP, type Family, type IP } from "../net/ip";
import { errors, ok, quoteIPs } from "./errors";
import type { Result, ServiceRequest } from "./types";

/**
 * Reads metallb.io/loadBalancerIPs (comma-separated, spaces trimmed) or
 * spec.loadBalancerIP; both at once is an error, as in MetalLB. No request gives [].
 */
export function parseRequestedIPs(
  annotation: string | undefined,
  specLoadBalancerIP: string | undefined,
): Result<IP[]> {
  const fromAnnotation = annotation?.trim() ?? "";
  const fromSpec = specLoadBalancerIP?.trim() ?? "";
  if (fromAnnotation !== "" && fromSpec !== "") {
    return errors.invalid("service can not have both metallb.io/loadBalancerIPs and svc.Spec.LoadBalancerIP");
  }
  const texts = (fromAnnotation || fromSpec)
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const ips: IP[] = [];
  for (const text of texts) {
    const ip = parseIP(text);
    if (!ip) return errors.invalid(`invalid requested loadbalancer IPs: "${text}" is not an IP address`);
    ips.push(ip);
  }
  return ok(ips);
}

/** Shape rules for any set of addresses given to one Service: one or two, one per family. */
export function checkAddressSet(ips: readonly IP[]): Result<void> {
  if (ips.length === 0) return errors.invalid("no IP addresses given");
  if (ips.length > 2) return errors.invalid(`more than two addresses ${quoteIPs(ips)}`);
  if (ips.length === 2 && ips[0].family === ips[1].family) {
    return errors.invalid(`${quoteIPs([ips[0]])} and ${quoteIPs([ips[1]])} have the same family`);
  }
  return ok(undefined);
}

/**
 * Whether addresses suit the Service's ipFamilyPolicy: SingleStack wants exactly one, of
 * the cluster IP's family; RequireDualStack one of each; PreferDualStack one or two
 * (allocation itself may fall back to either family, so either is accepted).
 */
export function checkFamiliesFit(ips: readonly IP[], request: ServiceRequest): Result<void> {
  const shape = checkAddressSet(ips);
  if (!shape.ok) return shape;
  const fits = (() => {
    switch (request.ipFamilyPolicy ?? "SingleStack") {
      case "SingleStack":
        return ips.length === 1 && ips[0].family === request.ipFamilies[0];
      case "RequireDualStack":
        return ips.length === 2;
      case "PreferDualStack":
        return true;
    }
  })();
  return fits
    ? ok(undefined)
    : errors.invalid(`requested loadBalancer IP(s) ${quoteIPs(ips)} does not match the ipFamily of the service`);
}

/** A Service needs a cluster IP, and two (one per family) to require dual stack. */
export function checkClusterFamilies(request: ServiceRequest): Result<void> {
  const families = request.ipFamilies;
  if (families.length === 0) return errors.invalid(`service "${request.serviceKey}" has no cluster IPs`);
  if (
    (request.ipFamilyPolicy ?? "SingleStack") === "RequireDualStack" &&
    !(families.includes(4) && families.includes(6))
  ) {
    return errors.invalid(`not enough cluster IPs for RequireDualStack on service "${request.serviceKey}"`);
  }
  return ok(undefined);
}

/** Primary family first: the order Service status lists ingress addresses in. */
export function orderByFamily(ips: readonly IP[], primary: Family): IP[] {
  return [...ips].sort((a, b) => Number(b.family === primary) - Number(a.family === primary));
}
