/**
 * Whether this node answers for a Service's addresses, from the controller's record (owner
 * and ranked standbys, ServiceL2Status) and the membership verdict. Pure.
 *
 * The owner answers while it serves. A standby answers while it serves and every node ranked
 * before it (the owner included) is down by the verdict: the first live standby takes over at
 * once, without waiting for the controller, which records the change afterwards. Two nodes
 * never both answer: a later-ranked node needs every earlier one down, and a node that is
 * down does not serve (membership.ts).
 */
export interface OwnerRecord {
  readonly owner: string;
  readonly standbys: readonly string[];
}

export interface ServingVerdict {
  readonly serving: boolean;
  readonly down: ReadonlySet<string>;
}

export type Role = "owner" | "takeover" | "none";

export function roleFor(node: string, record: OwnerRecord, verdict: ServingVerdict): Role {
  if (!verdict.serving) return "none";
  if (record.owner === node) return "owner";
  const rank = record.standbys.indexOf(node);
  if (rank < 0) return "none";
  if (!verdict.down.has(record.owner)) return "none";
  for (let i = 0; i < rank; i++) if (!verdict.down.has(record.standbys[i])) return "none";
  return "takeover";
}
