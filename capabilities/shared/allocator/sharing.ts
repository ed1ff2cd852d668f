/**
 * IP sharing (metallb.io/allow-shared-ip): who holds an address, and whether one more
 * Service may join them.
 */
import { formatLabels, type Labels } from "../labels";
import type { IP } from "../net/ip";
import { errors, ok } from "./errors";
import type { Result, ServicePort, ServiceRequest } from "./types";

/**
 * Services sharing an IP must agree on where traffic lands. With externalTrafficPolicy
 * Local only nodes with local endpoints announce, so the selectors must be identical;
 * with Cluster any node works, so the key is empty.
 */
export function backendKeyFor(externalTrafficPolicy: string | undefined, selector: Labels | undefined): string {
  return externalTrafficPolicy === "Local" ? formatLabels(selector ?? {}) : "";
}

export interface Holder {
  readonly serviceKey: string;
  readonly pool: string;
  readonly ports: readonly ServicePort[];
}

/** One address in use: the sharing terms fixed by its holders, and the holders. */
export interface IPUsage {
  readonly ip: IP;
  readonly sharingKey: string;
  readonly backendKey: string;
  readonly holders: Holder[];
}

const samePort = (a: ServicePort, b: ServicePort): boolean => a.port === b.port && a.protocol === b.protocol;

/**
 * Whether the requesting Service may hold this address next to its current holders
 * (itself excluded, so re-assigning is always compatible with one's own use). An
 * address held by a Service that does not share is never given to anyone else.
 */
export function checkSharing(usage: IPUsage | undefined, request: ServiceRequest): Result<void> {
  if (!usage) return ok(undefined);
  const others = usage.holders.filter((h) => h.serviceKey !== request.serviceKey);
  if (others.length === 0) return ok(undefined);
  const sharingKey = request.sharingKey ?? "";
  const termsAgree =
    usage.sharingKey !== "" && sharingKey === usage.sharingKey && (request.backendKey ?? "") === usage.backendKey;
  if (!termsAgree) return errors.sharingConflict(request.serviceKey, others.map((h) => h.serviceKey).sort());
  for (const port of request.ports ?? []) {
    if (others.some((h) => h.ports.some((p) => samePort(p, port)))) return errors.portInUse(port, usage.ip);
  }
  return ok(undefined);
}
