/**
 * Admission for metallb.io objects: the would-be configuration (the existing objects
 * with this one added, replaced or removed) goes through the parser. Only problems
 * that involve the changed object deny it; anything else already broken is a warning.
 * A delete or update that takes away something in use is refused (removal-guard.ts).
 */
import { q } from "./diagnostics";
import { namespaceMessage } from "./objects";
import { withObject } from "./object-lists";
import { analyzeConfig } from "./parse";
import type { HolderService } from "./pool-holders";
import { guardRemoval, servicesNeeded as removalNeedsServices, type Removal } from "./removal-guard";
import type { ConfigError, ConfigInput, ConfigKind } from "./types";

export { FORCE_ANNOTATION } from "./removal-guard";

export interface ChangedObject {
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> };
  spec?: unknown;
}

export interface ConfigChange {
  kind: ConfigKind;
  /** The new object (CREATE/UPDATE) or the one being deleted. */
  object?: ChangedObject;
  operation: "CREATE" | "UPDATE" | "DELETE";
  /** LoadBalancer Services, when servicesNeeded says so; addresses held are not checked without them. */
  services?: readonly HolderService[];
  /** The class of Services this controller serves (settings.loadBalancerClass). */
  loadBalancerClass?: string;
  /** The configuration namespace is being deleted (its objects go, used or not). */
  namespaceDeleting?: boolean;
}

export interface ChangeVerdict {
  allowed: boolean;
  message?: string;
  warnings: string[];
}

/** The would-be configuration of an UPDATE or DELETE, as the removal guard sees it. */
function removalOf(existing: ConfigInput, change: ConfigChange): Omit<Removal, "services"> | undefined {
  const { kind, object, operation } = change;
  if (operation === "CREATE") return undefined;
  const name = object?.metadata?.name ?? "";
  return {
    kind,
    name,
    operation,
    before: existing,
    after: withObject(existing, kind, name, operation === "UPDATE" ? (object ?? {}) : undefined),
    annotations: object?.metadata?.annotations,
    loadBalancerClass: change.loadBalancerClass,
    namespaceDeleting: change.namespaceDeleting,
  };
}

/** Whether validateChange needs the cluster's Services for this change (a pool that may shrink). */
export function servicesNeeded(existing: ConfigInput, change: ConfigChange): boolean {
  const removal = removalOf(existing, change);
  return removal !== undefined && removalNeedsServices(removal);
}

export function validateChange(existing: ConfigInput, change: ConfigChange): ChangeVerdict {
  const { kind, object, operation } = change;
  const name = object?.metadata?.name ?? "";
  const opts = { deferReferences: true };
  const removal = removalOf(existing, change);
  const guard = removal ? guardRemoval({ ...removal, services: change.services }) : { warnings: [] };

  if (operation === "DELETE") {
    if (guard.refused) return { allowed: false, message: guard.refused, warnings: [] };
    // Say which references the delete leaves dangling (when forced, or when nothing resolved them).
    const before = new Set(analyzeConfig(existing, opts).warnings.map((w) => w.message));
    const after = analyzeConfig(removal!.after, opts);
    const dangling = after.warnings.map((w) => w.message).filter((m) => !before.has(m));
    return { allowed: true, warnings: [...guard.warnings, ...dangling] };
  }

  const ns = object?.metadata?.namespace;
  if (ns && ns !== existing.namespace) {
    return { allowed: false, message: `${kind} ${q(name)}: ${namespaceMessage(existing.namespace, ns)}`, warnings: [] };
  }
  const result = analyzeConfig(withObject(existing, kind, name, object ?? {}), opts);
  const involves = (e: ConfigError): boolean =>
    (e.kind === kind && e.name === name) || (e.related ?? []).some((r) => r.kind === kind && r.name === name);
  const blocking = result.errors.filter(involves);
  const warnings = [
    ...result.warnings.filter(involves).map((w) => w.message),
    ...result.errors
      .filter((e) => !involves(e))
      .map((e) => `existing configuration is invalid (unrelated to this change): ${e.message}`),
  ];
  if (blocking.length > 0) return { allowed: false, message: blocking.map((e) => e.message).join("\n"), warnings };
  if (guard.refused) return { allowed: false, message: guard.refused, warnings };
  return { allowed: true, warnings: [...guard.warnings, ...warnings] };
}
