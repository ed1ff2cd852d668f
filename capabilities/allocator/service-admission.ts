/**
 * Service admission. Malformed metallb annotations are refused (they could never
 * be honoured); a well-formed request that would leave the Service pending is
 * admitted with a warning, which kubectl prints, saying why.
 *
 * Every Service write in the cluster passes here, so this check must never be the
 * reason nobody can deploy: when the configuration cannot be read (API server busy,
 * RBAC broken) the Service is admitted with a warning saying what was not checked.
 * Nothing is lost: the controller checks the same request and reports it as an Event.
 */
import type { V1Service } from "@kubernetes/client-node";
import type { PeprValidateRequest } from "pepr";
import { checkServiceRequest, type Config } from "../shared/config";
import { resolvePools } from "../shared/config/resolve";
import { readConfig } from "../shared/kube/config-source";
import { settings } from "../shared/settings";
import { isHandled } from "./service-request";

/** Admission runs on every Service write: the configuration is re-read at most this often. */
const configTtlMs = 2000;

/**
 * The pools, re-read at most every `ttlMs`. A failed re-read answers with the last
 * configuration read (the annotations are still checked against something real); only
 * with none yet does the failure reach the caller.
 */
export function cachedPoolsReader(
  read: () => Promise<Config | undefined>,
  ttlMs = configTtlMs,
  now: () => number = Date.now,
): () => Promise<Config | undefined> {
  let cached: { at: number; config?: Config } | undefined;
  return async () => {
    if (cached && now() - cached.at <= ttlMs) return cached.config;
    try {
      cached = { at: now(), config: await read() };
    } catch (err) {
      if (!cached) throw err;
    }
    return cached.config;
  };
}

// A bad L2 or BGP object cannot change what a Service is told, and an invalid pool is
// there, marked disabled.
const livePools = cachedPoolsReader(
  async () => resolvePools(await readConfig(settings.namespace, { nodes: false })).config,
);

const asksForSomething = (svc: V1Service): boolean =>
  Boolean(svc.spec?.loadBalancerIP) ||
  Object.keys(svc.metadata?.annotations ?? {}).some(
    (k) => k.startsWith("metallb.io/") || k.startsWith("metallb.universe.tf/"),
  );

export type Verdict = { allowed: true; warnings: string[] } | { allowed: false; message: string; warnings: string[] };

/** The decision alone (tests drive it with a reader that fails). */
export async function judgeService(
  svc: V1Service,
  pools: () => Promise<Config | undefined>,
  loadBalancerClass = settings.loadBalancerClass,
): Promise<Verdict> {
  if (!isHandled(svc, loadBalancerClass) || !asksForSomething(svc)) return { allowed: true, warnings: [] };
  let config: Config | undefined;
  try {
    config = await pools();
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return {
      allowed: true,
      warnings: [
        `metallb-pepr could not read its configuration to check this Service's address request (${why}); ` +
          "admitted unchecked: if the request cannot be met, the Service gets an Event saying why",
      ],
    };
  }
  const verdict = checkServiceRequest(svc, config);
  if (verdict.errors.length) return { allowed: false, message: verdict.errors.join("; "), warnings: verdict.warnings };
  return { allowed: true, warnings: verdict.warnings };
}

export async function admitService(req: PeprValidateRequest<V1Service>) {
  const verdict = await judgeService(req.Raw, livePools);
  return verdict.allowed ? req.Approve(verdict.warnings) : req.Deny(verdict.message, 400, verdict.warnings);
}
