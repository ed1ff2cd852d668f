/**
 * Kubernetes label selectors (metav1.LabelSelector), evaluated without a client.
 * Pools, advertisements and node filters all select by labels; this is the one
 * place that knows how. Pure: no I/O.
 */

export type Labels = Readonly<Record<string, string>>;

export type SelectorOperator = "In" | "NotIn" | "Exists" | "DoesNotExist";

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: SelectorOperator | string;
  readonly values?: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels?: Labels;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

const hasLabel = (labels: Labels, key: string): boolean => Object.prototype.hasOwnProperty.call(labels, key);

/**
 * Why a selector is malformed (the API server's rules for In/NotIn/Exists/DoesNotExist),
 * or undefined when it is well formed.
 */
export function selectorProblem(selector: LabelSelector): string | undefined {
  for (const req of selector.matchExpressions ?? []) {
    const count = req.values?.length ?? 0;
    switch (req.operator) {
      case "In":
      case "NotIn":
        if (count === 0) return `values must be non-empty for operator "${req.operator}" on key "${req.key}"`;
        break;
      case "Exists":
      case "DoesNotExist":
        if (count > 0) return `values must be empty for operator "${req.operator}" on key "${req.key}"`;
        break;
      default:
        return `unknown operator "${req.operator}" on key "${req.key}"`;
    }
  }
  return undefined;
}

/**
 * Kubernetes semantics: every matchLabels pair and every expression must hold; an empty
 * selector matches everything. A malformed selector matches nothing, so a bad
 * configuration can only narrow a choice, never widen it.
 */
export function selectorMatches(selector: LabelSelector, labels: Labels): boolean {
  if (selectorProblem(selector) !== undefined) return false;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (!hasLabel(labels, key) || labels[key] !== value) return false;
  }
  return (selector.matchExpressions ?? []).every((req) => requirementMatches(req, labels));
}

function requirementMatches(req: LabelSelectorRequirement, labels: Labels): boolean {
  const present = hasLabel(labels, req.key);
  switch (req.operator) {
    case "In":
      return present && (req.values ?? []).includes(labels[req.key]);
    case "NotIn":
      // An absent key satisfies NotIn, as in Kubernetes.
      return !present || !(req.values ?? []).includes(labels[req.key]);
    case "Exists":
      return present;
    case "DoesNotExist":
      return !present;
    default:
      return false;
  }
}

/** True when any selector in the list matches (lists of selectors are ORed across the metallb.io API). */
export const anySelectorMatches = (selectors: readonly LabelSelector[], labels: Labels): boolean =>
  selectors.some((s) => selectorMatches(s, labels));

/** Canonical text of a label set: keys sorted, "k=v" joined by commas (the form kubectl prints). */
export function formatLabels(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((key) => `${key}=${labels[key]}`)
    .join(",");
}
