/**
 * Admission for metallb.io configuration objects: the would-be configuration
 * (what exists now, with this object in place) goes through the same parser the
 * reconcilers use, so what passes here cannot fail to parse later. Deletes and
 * updates that take away something in use are refused (config/removal-guard.ts).
 */
import type { PeprValidateRequest } from "pepr";
import type { GenericKind } from "kubernetes-fluent-client";
import type { ConfigKind } from "../config";
import type { HolderService } from "../config/pool-holders";
import { servicesNeeded, validateChange, type ConfigChange } from "../config/validate-change";
import { settings } from "../settings";
import { readConfig } from "./config-source";
import { kubeHttp } from "./http";

/** Whether the configuration namespace is going away (its objects are then deleted whatever uses them). */
async function namespaceDeleting(namespace: string): Promise<boolean> {
  const ns = await kubeHttp().send<{ metadata?: { deletionTimestamp?: string } }>(
    "GET",
    `/api/v1/namespaces/${encodeURIComponent(namespace)}`,
  );
  return Boolean(ns.metadata?.deletionTimestamp);
}

/**
 * Every Service in the cluster: only for a pool delete or shrink (the admission process
 * keeps no cache), so the cost of a full list is paid only when addresses may be lost.
 */
async function listServices(): Promise<HolderService[]> {
  return (await kubeHttp().send<{ items: HolderService[] }>("GET", "/api/v1/services")).items;
}

export function admitConfigObject(configKind: ConfigKind) {
  return async (req: PeprValidateRequest<GenericKind>) => {
    const operation = req.Request.operation as "CREATE" | "UPDATE" | "DELETE";
    const object = operation === "DELETE" ? req.OldResource : req.Raw;
    try {
      const [existing, deleting] = await Promise.all([
        readConfig(settings.namespace),
        operation === "DELETE" ? namespaceDeleting(settings.namespace) : false,
      ]);
      const change: ConfigChange = {
        kind: configKind,
        object,
        operation,
        loadBalancerClass: settings.loadBalancerClass,
        namespaceDeleting: deleting,
      };
      if (servicesNeeded(existing, change)) change.services = await listServices();
      const verdict = validateChange(existing, change);
      return verdict.allowed ? req.Approve(verdict.warnings) : req.Deny(verdict.message, 400, verdict.warnings);
    } catch (err) {
      // Pepr would answer "Action failed with error: {}"; say what could not be checked.
      const name = object?.metadata?.name ?? "";
      const why = err instanceof Error ? err.message : String(err);
      return req.Deny(
        `${configKind} "${name}": could not check this change against the cluster (${why}); retry in a moment`,
        500,
      );
    }
  };
}
