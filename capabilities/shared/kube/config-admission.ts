/**
 * Admission for metallb.io configuration objects: the would-be configuration
 * (what exists now, with this object in place) goes through the same parser the
 * reconcilers use, so what passes here cannot fail to parse later.
 */
import type { PeprValidateRequest } from "pepr";
import type { GenericKind } from "kubernetes-fluent-client";
import { validateChange, type ConfigKind } from "../config";
import { settings } from "../settings";
import { readConfig } from "./config-source";

export function admitConfigObject(configKind: ConfigKind) {
  return async (req: PeprValidateRequest<GenericKind>) => {
    const operation = req.Request.operation as "CREATE" | "UPDATE" | "DELETE";
    const object = operation === "DELETE" ? req.OldResource : req.Raw;
    const existing = await readConfig(settings.namespace);
    const verdict = validateChange(existing, { kind: configKind, object, operation });
    return verdict.allowed ? req.Approve(verdict.warnings) : req.Deny(verdict.message, 400, verdict.warnings);
  };
}
