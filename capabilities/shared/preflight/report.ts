/**
 * `metallb-pepr preflight`, the pure part: a cluster's existing metallb.io objects in,
 * one verdict per object out. It runs the parser the controller runs (resolveConfig,
 * which blames each error on one object and sets it aside), so "refused" here means
 * what admission and the reconcilers would refuse, in the same words.
 */
import type { ConfigError, ConfigInput, ConfigKind } from "../config";
import { analyzeConfig } from "../config/parse";
import { LIST_OF, objectId, resolveConfig } from "../config/resolve";
import { withObject } from "../config/object-lists";

export type Verdict = "ok" | "warning" | "refused";

export interface ObjectVerdict {
  kind: ConfigKind;
  name: string;
  verdict: Verdict;
  /** The parser's messages, without the leading `Kind "name": ` (the report line names the object). */
  reasons: string[];
}

export interface PreflightReport {
  namespace: string;
  objects: ObjectVerdict[];
  counts: Record<Verdict, number>;
}

const nameOf = (o: unknown): string => (o as { metadata?: { name?: string } } | undefined)?.metadata?.name ?? "";

/** The parser starts each message with the object; the report says it once per line. */
const reason = (e: ConfigError): string => {
  const prefix = `${e.kind} ${JSON.stringify(e.name)}: `;
  return e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
};

export function preflight(input: ConfigInput): PreflightReport {
  const resolution = resolveConfig(input);
  const refused = new Map(resolution.disabled.map((d) => [objectId(d.kind, d.name), d.errors]));
  // Warnings as they stand once the refused objects are gone: an advertisement naming
  // a refused peer is warned that the peer does not exist, as it would be after migrating.
  let kept = input;
  for (const d of resolution.disabled) kept = withObject(kept, d.kind, d.name);
  const warnings = new Map<string, ConfigError[]>();
  for (const w of analyzeConfig(kept).warnings) {
    const id = objectId(w.kind, w.name);
    warnings.set(id, [...(warnings.get(id) ?? []), w]);
  }

  const objects: ObjectVerdict[] = [];
  for (const kind of Object.keys(LIST_OF) as ConfigKind[]) {
    const names = ((input[LIST_OF[kind]] ?? []) as unknown[]).map(nameOf).sort();
    for (const name of new Set(names)) {
      const id = objectId(kind, name);
      const errors = refused.get(id);
      if (errors) objects.push({ kind, name, verdict: "refused", reasons: errors.map(reason) });
      else if (warnings.has(id))
        objects.push({ kind, name, verdict: "warning", reasons: warnings.get(id)!.map(reason) });
      else objects.push({ kind, name, verdict: "ok", reasons: [] });
    }
  }
  const counts: Record<Verdict, number> = { ok: 0, warning: 0, refused: 0 };
  for (const o of objects) counts[o.verdict]++;
  return { namespace: input.namespace, objects, counts };
}

const LABEL: Record<Verdict, string> = { ok: "ok", warning: "works, with a warning", refused: "REFUSED" };

/** What a person reads: one line per object, its reasons indented under it, then the totals. */
export function formatReport(report: PreflightReport): string {
  if (report.objects.length === 0) {
    return `no metallb.io configuration objects in namespace ${report.namespace}: nothing to check\n`;
  }
  const lines: string[] = [];
  for (const o of report.objects) {
    lines.push(`${o.kind}/${o.name}: ${LABEL[o.verdict]}`);
    for (const r of o.reasons) lines.push(`    ${r}`);
  }
  const { ok, warning, refused } = report.counts;
  lines.push(
    "",
    `${report.objects.length} objects in ${report.namespace}: ${ok} ok, ${warning} with warnings, ${refused} refused`,
  );
  if (refused > 0) {
    lines.push("Refused objects would be denied at admission; fix them as each reason says before migrating.");
  }
  return `${lines.join("\n")}\n`;
}
