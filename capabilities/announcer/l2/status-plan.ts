/**
 * What to write to a Service's ServiceL2Status objects, given the election's answer and
 * what exists. Pure.
 *
 * A changed owner is recorded IN PLACE (status first: node, standbys, interfaces; then the
 * metallb.io/node label), not by delete + create: with agent-to-agent failover the standby
 * answers before the controller writes anything (issue 12), and its record must not vanish
 * under it. Unchanged objects are never written: a pass over 10,000 Services whose owners
 * and standbys hold still costs no API call.
 */
import type { Assignment } from "./election";

export interface StatusRef {
  readonly name: string;
  readonly node: string;
  readonly standbys: readonly string[];
  readonly interfaces: readonly string[];
}

export interface StatusFields {
  readonly node: string;
  readonly standbys: readonly string[];
  readonly interfaces: readonly string[];
}

export interface StatusPlan {
  /** Objects to delete first (no owner any more, or duplicates). */
  readonly remove: readonly StatusRef[];
  /** A new object for a Service that has none. */
  readonly create?: StatusFields;
  /** Rewrite this object's status; `move`: its node changes (then the label follows). */
  readonly update?: { readonly ref: StatusRef; readonly status: StatusFields; readonly move: boolean };
}

const sameList = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** undefined = nothing to write. */
export function planStatus(want: Assignment | undefined, have: readonly StatusRef[]): StatusPlan | undefined {
  if (want?.node === undefined) return have.length > 0 ? { remove: have } : undefined;
  const status: StatusFields = { node: want.node, standbys: want.standbys, interfaces: want.interfaces };
  if (have.length === 0) return { remove: [], create: status };
  const keep = have.find((r) => r.node === want.node) ?? have[0];
  const remove = have.filter((r) => r !== keep);
  const move = keep.node !== want.node;
  const changed = move || !sameList(keep.standbys, want.standbys) || !sameList(keep.interfaces, want.interfaces);
  if (!changed) return remove.length > 0 ? { remove } : undefined;
  return { remove, update: { ref: keep, status, move } };
}
