/**
 * Service admission. Malformed metallb annotations are refused (they could never
 * be honoured); a well-formed request that would leave the Service pending is
 * admitted with a warning, which kubectl prints, saying why.
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
let cached: { at: number; config?: Config } | undefined;

async function currentConfig(): Promise<Config | undefined> {
  if (!cached || Date.now() - cached.at > configTtlMs) {
    // The pools as the allocator resolves them: a bad L2 or BGP object cannot change
    // what a Service is told, and an invalid pool is there, marked disabled.
    cached = { at: Date.now(), config: resolvePools(await readConfig(settings.namespace, { nodes: false })).config };
  }
  return cached.config;
}

const asksForSomething = (svc: V1Service): boolean =>
  Boolean(svc.spec?.loadBalancerIP) ||
  Object.keys(svc.metadata?.annotations ?? {}).some(
    (k) => k.startsWith("metallb.io/") || k.startsWith("metallb.universe.tf/"),
  );

export async function admitService(req: PeprValidateRequest<V1Service>) {
  const svc = req.Raw;
  if (!isHandled(svc, settings.loadBalancerClass) || !asksForSomething(svc)) return req.Approve();
  const verdict = checkServiceRequest(svc, await currentConfig());
  if (verdict.errors.length) return req.Deny(verdict.errors.join("; "), 400, verdict.warnings);
  return req.Approve(verdict.warnings);
}
