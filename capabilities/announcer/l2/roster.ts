/**
 * The L2 membership roster the controller publishes for the agents (issue 12): who votes
 * in the agents' quorum, whether the API server's tie-breaker Lease casts an extra vote,
 * and where to send each voter its heartbeats. Pure: the shell (membership.ts) reads the
 * published roster, feeds in what the API server says, and writes out what this decides.
 *
 * Who votes: nodes whose agent Lease names a heartbeat address, whose Node exists, and that
 * some L2Advertisement could pick (its nodeSelectors, no node exclusion). Liveness does not
 * matter: a dead node stays a voter (a silent vote), so a dying node never shrinks the
 * majority that must agree it is dead. The tie-breaker votes when the voters are even in
 * number, so a two-node cluster survives either death and an even split has a winner.
 *
 * Why one step at a time: two agents that read different rosters must never both see a
 * majority. Treat the tie-breaker as a pseudo-voter "@api"; a majority of a set and a
 * majority of that set plus or minus one member always intersect, so each published roster
 * differs from the one before by exactly one pseudo-voter, with a pause between steps
 * (`stepMs`) long enough for every agent to have read the previous one. An address change
 * alone is safe to publish at once: it moves no vote.
 */
import type { L2AdvertisementModel } from "../../shared/config";
import { adSelectsNode, nodeExclusion, type ElectionNode } from "./election";

export const API_VOTER = "@api";

export interface Roster {
  /** Node names, ascending. */
  readonly voters: readonly string[];
  readonly tiebreaker: boolean;
  /** Heartbeat address of every voter. */
  readonly addresses: Readonly<Record<string, string>>;
}

export interface RosterInput {
  /** Node -> the address its agent Lease announces (metallb.io/heartbeat-address). */
  readonly heartbeatAddresses: ReadonlyMap<string, string>;
  /** The Node objects that exist. */
  readonly nodes: readonly ElectionNode[];
  readonly l2Advertisements: readonly L2AdvertisementModel[];
  readonly ignoreExcludeLBLabel: boolean;
}

/** Could this node ever announce over L2 (some advertisement picks it and nothing excludes it)? */
export const l2Eligible = (
  node: ElectionNode,
  ads: readonly L2AdvertisementModel[],
  ignoreExcludeLBLabel: boolean,
): boolean => nodeExclusion(node, ignoreExcludeLBLabel) === undefined && ads.some((ad) => adSelectsNode(ad, node));

/** The roster the cluster should have now; reached one step at a time by `stepToward`. */
export function targetRoster(input: RosterInput): Roster {
  const voters = input.nodes
    .filter((n) => input.heartbeatAddresses.has(n.name))
    .filter((n) => l2Eligible(n, input.l2Advertisements, input.ignoreExcludeLBLabel))
    .map((n) => n.name)
    .sort();
  const addresses: Record<string, string> = {};
  for (const v of voters) addresses[v] = input.heartbeatAddresses.get(v)!;
  return { voters, tiebreaker: voters.length > 0 && voters.length % 2 === 0, addresses };
}

/** Voters plus "@api" when the tie-breaker votes. */
export const pseudoVoters = (r: Roster): Set<string> => new Set([...r.voters, ...(r.tiebreaker ? [API_VOTER] : [])]);

/** Nodes in name order, "@api" last: real voters join first and leave first. */
const order = (a: string, b: string): number =>
  a === b ? 0 : a === API_VOTER ? 1 : b === API_VOTER ? -1 : a < b ? -1 : 1;

/**
 * One pseudo-voter toward `target`: add the first missing one if any, else remove the first
 * surplus one. Addresses follow the target (a leaving voter keeps the one it had).
 */
export function stepToward(current: Roster, target: Roster): Roster {
  const have = pseudoVoters(current);
  const want = pseudoVoters(target);
  const add = [...want].filter((v) => !have.has(v)).sort(order)[0];
  const next = new Set(have);
  if (add !== undefined) next.add(add);
  else {
    const drop = [...have].filter((v) => !want.has(v)).sort(order)[0];
    if (drop !== undefined) next.delete(drop);
  }
  return withAddresses(next, current, target);
}

function withAddresses(pseudo: ReadonlySet<string>, current: Roster, target: Roster): Roster {
  const voters = [...pseudo].filter((v) => v !== API_VOTER).sort();
  const addresses: Record<string, string> = {};
  for (const v of voters) {
    const a = target.addresses[v] ?? current.addresses[v];
    if (a !== undefined) addresses[v] = a;
  }
  return { voters, tiebreaker: pseudo.has(API_VOTER), addresses };
}

export const sameVoters = (a: Roster, b: Roster): boolean => {
  const pa = pseudoVoters(a);
  const pb = pseudoVoters(b);
  return pa.size === pb.size && [...pa].every((v) => pb.has(v));
};

export const sameRoster = (a: Roster, b: Roster): boolean => rosterText(a) === rosterText(b);

export interface RosterPlan {
  /** What to publish now; undefined = nothing to write. */
  readonly publish?: Roster;
  /** The write changes the voter set (it restarts the step pause). */
  readonly voterChange: boolean;
  /** The target is not reached yet: plan again after this long. */
  readonly againInMs?: number;
}

/**
 * What to publish, given what is published (undefined: nothing yet), when its voter set
 * last changed, and the target. The first publish is the target itself: no agent holds an
 * older roster whose majorities it could disagree with.
 */
export function planRoster(
  published: Roster | undefined,
  lastVoterChangeAt: number,
  target: Roster,
  now: number,
  stepMs: number,
): RosterPlan {
  if (!published) return { publish: target, voterChange: true };
  let next: Roster = withAddresses(pseudoVoters(published), published, target);
  let voterChange = false;
  let againInMs: number | undefined;
  if (!sameVoters(published, target)) {
    const wait = lastVoterChangeAt + stepMs - now;
    if (wait <= 0) {
      next = stepToward(published, target);
      voterChange = true;
      if (!sameVoters(next, target)) againInMs = stepMs;
    } else againInMs = wait;
  }
  return { publish: sameRoster(next, published) ? undefined : next, voterChange, againInMs };
}

/** The ConfigMap text: stable key order, so an unchanged roster is an unchanged string. */
export function rosterText(r: Roster): string {
  const addresses: Record<string, string> = {};
  for (const k of Object.keys(r.addresses).sort()) addresses[k] = r.addresses[k];
  return JSON.stringify({ voters: [...r.voters].sort(), tiebreaker: r.tiebreaker, addresses });
}

/** A published roster, or undefined when the text is not one (then it is replaced by the target). */
export function parseRoster(text: string | undefined): Roster | undefined {
  if (!text) return undefined;
  try {
    const o = JSON.parse(text) as { voters?: unknown; tiebreaker?: unknown; addresses?: unknown };
    if (!Array.isArray(o.voters) || !o.voters.every((v) => typeof v === "string")) return undefined;
    if (typeof o.tiebreaker !== "boolean") return undefined;
    const addresses: Record<string, string> = {};
    if (o.addresses && typeof o.addresses === "object")
      for (const [k, v] of Object.entries(o.addresses as Record<string, unknown>))
        if (typeof v === "string") addresses[k] = v;
    return { voters: [...(o.voters as string[])].sort(), tiebreaker: o.tiebreaker, addresses };
  } catch {
    return undefined;
  }
}
