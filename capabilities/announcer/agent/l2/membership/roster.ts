/**
 * The voters of L2 membership, as the controller publishes them (ConfigMap
 * `metallb-l2-membership`, key `roster.json`): the L2-eligible nodes running an agent, the
 * address each listens on, and whether the API server votes too (through the tie-breaker
 * Lease; the controller adds that vote when the node count is even, so there are no ties).
 *
 * Two agents count each other's votes only when their rosters have the same digest: a
 * heartbeat's entries are indexed by position in the sender's roster. The controller changes
 * the roster one voter at a time, so a majority of the old roster and one of the new always
 * share a voter (the single-server change argument of Raft, §4.1 of Ongaro's thesis).
 */
import { createHash } from "node:crypto";
import { DIGEST_LENGTH } from "./heartbeat";

export interface Roster {
  /** Sorted node names. */
  readonly voters: readonly string[];
  /** The API server votes through the tie-breaker Lease. */
  readonly tiebreaker: boolean;
  /** Heartbeat address of each voter. */
  readonly addresses: ReadonlyMap<string, string>;
  readonly digest: Buffer;
}

export const EMPTY_ROSTER: Roster = makeRoster([], false, new Map());

export function makeRoster(
  voters: readonly string[],
  tiebreaker: boolean,
  addresses: ReadonlyMap<string, string>,
): Roster {
  const sorted = [...new Set(voters)].sort();
  const digest = createHash("sha256")
    .update(JSON.stringify({ voters: sorted, tiebreaker }))
    .digest()
    .subarray(0, DIGEST_LENGTH);
  return { voters: sorted, tiebreaker, addresses, digest: Buffer.from(digest) };
}

/** Votes a majority needs: more than half of the voters (the API server included when it votes). */
export const majority = (r: Roster): number => Math.floor((r.voters.length + (r.tiebreaker ? 1 : 0)) / 2) + 1;

/** Parses `roster.json`; throws with a message naming what is wrong. */
export function parseRoster(text: string): Roster {
  const raw = JSON.parse(text) as { voters?: unknown; tiebreaker?: unknown; addresses?: unknown };
  if (!Array.isArray(raw.voters) || !raw.voters.every((v) => typeof v === "string" && v.length > 0))
    throw new Error("roster.json: voters must be a list of node names");
  if (typeof raw.tiebreaker !== "boolean") throw new Error("roster.json: tiebreaker must be true or false");
  const addresses = new Map<string, string>();
  const given = (raw.addresses ?? {}) as Record<string, unknown>;
  for (const v of raw.voters as string[]) {
    const a = given[v];
    if (typeof a === "string" && a.length > 0) addresses.set(v, a);
  }
  return makeRoster(raw.voters as string[], raw.tiebreaker, addresses);
}
