/**
 * Label selector *validation* (syntax, duplicates) and the canonical text used in
 * messages. Matching lives in ../labels.ts.
 */
import type { LabelSelector, LabelSelectorRequirement } from "../../../crds/types";
import { anySelectorMatches, selectorMatches, selectorProblem } from "../labels";
import { q, type ObjectDiagnostics } from "./diagnostics";
import type { NamedLabels } from "./types";

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why a label key is invalid (Kubernetes rules), or undefined. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return `invalid label key ${q(key)}: the prefix must be a DNS subdomain`;
  }
  if (name.length === 0 || name.length > 63 || !NAME.test(name)) {
    return `invalid label key ${q(key)}: the name must be 1-63 characters of letters, digits, "-", "_" or ".", starting and ending with a letter or digit`;
  }
  return undefined;
}

/** Why a label value is invalid, or undefined. */
export function labelValueProblem(value: string): string | undefined {
  if (value === "") return undefined;
  if (value.length > 63 || !NAME.test(value)) {
    return `invalid label value ${q(value)}: must be at most 63 characters of letters, digits, "-", "_" or ".", starting and ending with a letter or digit`;
  }
  return undefined;
}

function requirementText(r: LabelSelectorRequirement): string {
  const values = [...(r.values ?? [])].sort().join(",");
  switch (r.operator) {
    case "In":
      return `${r.key} in (${values})`;
    case "NotIn":
      return `${r.key} notin (${values})`;
    case "Exists":
      return r.key;
    case "DoesNotExist":
      return `!${r.key}`;
    default:
      return `${r.key} ${String(r.operator)} (${values})`;
  }
}

/** Canonical text, as kubectl prints selectors: "a=b,c in (d,e),f,!g". */
export function formatSelector(s: LabelSelector): string {
  const labels = Object.keys(s.matchLabels ?? {})
    .sort()
    .map((k) => `${k}=${s.matchLabels![k]}`);
  const exprs = (s.matchExpressions ?? []).map(requirementText).sort();
  return [...labels, ...exprs].join(",");
}

/** Why one selector is malformed, or undefined. */
export function selectorSyntaxProblem(s: LabelSelector): string | undefined {
  for (const [k, v] of Object.entries(s.matchLabels ?? {})) {
    const p = labelKeyProblem(k) ?? labelValueProblem(String(v));
    if (p) return p;
  }
  const seen = new Set<string>();
  for (const r of s.matchExpressions ?? []) {
    const p = labelKeyProblem(String(r.key ?? ""));
    if (p) return p;
    const text = requirementText(r);
    if (seen.has(text)) return `duplicate definition of matchExpressions ${q(text)}`;
    seen.add(text);
    const values = new Set<string>();
    for (const v of r.values ?? []) {
      if (values.has(v)) return `duplicate definition of values ${q(v)} in ${q(r.key)}`;
      values.add(v);
      const vp = labelValueProblem(v);
      if (vp) return vp;
    }
  }
  return selectorProblem(s);
}

export interface SelectorListRules {
  /** JSON path of the list, e.g. "spec.nodeSelectors". */
  field: string;
  /** How a bad selector is reported, e.g. "failed to parse node selector". */
  parseError: string;
  /** The list's name in duplicate messages, e.g. "nodeSelectors". */
  listName: string;
}

/** Reports malformed and duplicate selectors in one list; returns the well-formed ones. */
export function checkSelectorList(
  list: readonly LabelSelector[] | undefined,
  rules: SelectorListRules,
  d: ObjectDiagnostics,
): LabelSelector[] {
  const seen = new Set<string>();
  const good: LabelSelector[] = [];
  (list ?? []).forEach((s, i) => {
    const field = `${rules.field}[${i}]`;
    const problem = selectorSyntaxProblem(s ?? {});
    if (problem) {
      d.error(field, `${field}: ${rules.parseError}: ${problem}`);
      return;
    }
    const text = formatSelector(s);
    if (seen.has(text)) {
      d.error(field, `${field}: duplicate definition of ${rules.listName} ${q(text)}; remove the repeated selector`);
      return;
    }
    seen.add(text);
    good.push(s);
  });
  return good;
}

/** Reports repeated strings in a list (pool names, peers, communities...). */
export function checkDuplicateStrings(
  list: readonly string[] | undefined,
  field: string,
  listName: string,
  d: ObjectDiagnostics,
): string[] {
  const seen = new Set<string>();
  (list ?? []).forEach((v, i) => {
    if (seen.has(v))
      d.error(`${field}[${i}]`, `${field}[${i}]: duplicate definition of ${listName} ${q(v)}; list each value once`);
    seen.add(v);
  });
  return [...seen];
}

/** Names of the objects any selector picks; an empty list picks all of them. */
export function selectNames(selectors: readonly LabelSelector[], objects: readonly NamedLabels[]): string[] {
  const picked =
    selectors.length === 0 ? objects : objects.filter((o) => anySelectorMatches(selectors, o.labels ?? {}));
  return picked.map((o) => o.name).sort();
}

/**
 * Whether two selector lists may pick a common node. With nodes known this is exact
 * (MetalLB's webhook decides against the Nodes that exist too). Without, it is
 * conservative: they overlap unless no node could match both, whatever its labels (so
 * `rack: a` and `zone: z1` overlap, `rack: a` and `rack: b` do not). MetalLB, not
 * knowing the nodes, treats every pair as overlapping.
 */
export function selectionsOverlap(
  a: readonly LabelSelector[],
  b: readonly LabelSelector[],
  nodes: readonly NamedLabels[] | undefined,
): boolean {
  if (nodes) {
    const picked = new Set(selectNames(a, nodes));
    return selectNames(b, nodes).some((n) => picked.has(n));
  }
  if (a.length === 0 || b.length === 0) return true;
  return a.some((x) => b.some((y) => !provablyDisjoint(x, y)));
}

/**
 * No label set matches both selectors. Keys are independent, so that is so exactly when
 * one key's requirements (from both) admit no state: absent, one of the values they
 * name, or any other value (which every requirement treats alike).
 */
export function provablyDisjoint(a: LabelSelector, b: LabelSelector): boolean {
  const byKey = new Map<string, LabelSelector[]>();
  for (const s of [a, b]) {
    for (const [key, value] of Object.entries(s.matchLabels ?? {}))
      keyed(byKey, key).push({ matchLabels: { [key]: value } });
    for (const r of s.matchExpressions ?? []) keyed(byKey, String(r.key)).push({ matchExpressions: [r] });
  }
  for (const [key, requirements] of byKey) {
    const named = requirements.flatMap((r) => [
      ...Object.values(r.matchLabels ?? {}),
      ...(r.matchExpressions ?? []).flatMap((e) => e.values ?? []),
    ]);
    const other = `${named.join("")}-other`; // differs from every named value
    const states: Array<Record<string, string>> = [{}, ...[...named, other].map((v) => ({ [key]: String(v) }))];
    if (!states.some((labels) => requirements.every((r) => selectorMatches(r, labels)))) return true;
  }
  return false;
}

function keyed(map: Map<string, LabelSelector[]>, key: string): LabelSelector[] {
  let list = map.get(key);
  if (!list) map.set(key, (list = []));
  return list;
}
