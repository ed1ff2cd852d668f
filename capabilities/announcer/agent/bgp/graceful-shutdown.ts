/**
 * Drain choreography (RFC 8326, Graceful BGP Session Shutdown) as pure functions: what a
 * route carries while this node is going away, which routes an excluded node keeps for the
 * wait, and how long a stopping agent still waits before its NOTIFICATION Cease.
 *
 * Why (RFC 8326 §3): a router whose best path is withdrawn drops traffic until it has chosen
 * another path and reprogrammed its forwarding. Re-advertising first with GRACEFUL_SHUTDOWN
 * (65535:0, §5) makes the routers lower the path's preference (§4.1: LOCAL_PREF 0 on import)
 * and move traffic to the other nodes while this one still forwards; the withdraw that
 * follows removes a path nobody uses any more (§4.2: tag, wait for convergence, shut down).
 *
 * Choices beyond the RFC:
 * - iBGP sessions also get LOCAL_PREF 0 from us: the import policy of §4.1 is usually
 *   configured on eBGP sessions only, and on iBGP the LOCAL_PREF we send is the one the
 *   router compares (RFC 4271 §5.1.5), so we lower it ourselves. eBGP never carries it.
 * - A cordoned node keeps its routes, tagged, for as long as it is cordoned: it still
 *   forwards (kube-proxy), so it stays a path of last resort (a one-node cluster keeps its
 *   Services) while traffic moves to other nodes. Uncordoning removes the tag.
 * - A node given the exclusion label keeps, tagged, the routes it announced when the label
 *   appeared (never new ones) for the wait, then withdraws them.
 * - A stopping agent tags, waits, then stops. Time its routes already spent tagged (a cordon,
 *   `kubectl drain`) counts toward the wait; with nothing advertised there is nothing to wait for.
 */
import { formatCIDR, type CIDR } from "../../../shared/net/ip";
import type { RouteAttributes } from "./adj-rib-out";

/** RFC 8326 §5: the well-known community GRACEFUL_SHUTDOWN, 65535:0 (0xFFFF0000). */
export const GRACEFUL_SHUTDOWN = 0xffff0000;

/** RFC 8326 §4.1's recommended value for a path about to go. */
export const SHUTDOWN_LOCAL_PREF = 0;

/**
 * The attributes of a route while it drains: GRACEFUL_SHUTDOWN added to its communities
 * (its own communities kept, RFC 8326 §4.2), and on iBGP LOCAL_PREF 0.
 */
export function shutdownAttributes(a: RouteAttributes, ibgp: boolean): RouteAttributes {
  const communities = a.communities?.includes(GRACEFUL_SHUTDOWN)
    ? a.communities
    : [...(a.communities ?? []), GRACEFUL_SHUTDOWN];
  const { localPref: _dropped, ...rest } = a;
  // RFC 4271 §5.1.5: LOCAL_PREF is never sent to an external peer.
  return { ...rest, communities, ...(ibgp ? { localPref: SHUTDOWN_LOCAL_PREF } : {}) };
}

/** Why this node's routes are tagged (for the log and the metric). */
export type DrainReason = "stopping" | "cordoned" | "excluded";

/** What the route source remembers between two looks at the Node. */
export interface NodeDrainState {
  /** When the exclusion label was first seen on a node that was announcing. */
  readonly excludedAt?: number;
  /** Per peer, the prefixes announced just before the label appeared. */
  readonly held?: ReadonlyMap<string, ReadonlySet<string>>;
  /** Since when routes are tagged (cordon or exclusion), for the stop's wait. */
  readonly taggedSince?: number;
}

export interface NodeFacts {
  /** spec.unschedulable. */
  readonly cordoned: boolean;
  /** The plan withdraws everything for the exclusion label (METALLB_IGNORE_EXCLUDE_LB honoured). */
  readonly excluded: boolean;
  /** Per peer, the prefixes announced now (before this look). */
  readonly announced: ReadonlyMap<string, ReadonlySet<string>>;
}

export interface NodeDrain {
  readonly state: NodeDrainState;
  /** Tag every route (GRACEFUL_SHUTDOWN). */
  readonly tag: boolean;
  readonly reason?: Exclude<DrainReason, "stopping">;
  /** While excluded: keep these prefixes per peer (planned as if the node were not excluded). */
  readonly hold?: ReadonlyMap<string, ReadonlySet<string>>;
  /** Look again at this time (the end of the exclusion's wait). */
  readonly recheckAt?: number;
}

/** Decides, from the Node as it is now, whether routes are tagged and which an excluded node keeps. */
export function nodeDrain(prev: NodeDrainState, facts: NodeFacts, now: number, waitMs: number): NodeDrain {
  let excludedAt: number | undefined;
  let held: ReadonlyMap<string, ReadonlySet<string>> | undefined;
  if (facts.excluded) {
    if (prev.excludedAt !== undefined) ({ excludedAt, held } = prev);
    else {
      // Only what was on the wire when the label appeared; an agent that starts on an excluded
      // node announced nothing, so it holds nothing.
      excludedAt = now;
      held = facts.announced;
    }
  }
  const holding =
    excludedAt !== undefined &&
    held !== undefined &&
    now < excludedAt + waitMs &&
    [...held.values()].some((s) => s.size > 0);
  const tag = facts.cordoned || holding;
  const reason = facts.cordoned ? "cordoned" : holding ? "excluded" : undefined;
  const state: NodeDrainState = {
    ...(excludedAt !== undefined ? { excludedAt, held } : {}),
    ...(tag ? { taggedSince: prev.taggedSince ?? now } : {}),
  };
  return {
    state,
    tag,
    ...(reason ? { reason } : {}),
    ...(holding ? { hold: held, recheckAt: excludedAt! + waitMs } : {}),
  };
}

/**
 * How long a stopping agent still waits after tagging its routes: the configured wait less
 * the time they were already tagged, and none when no session has a route to move away from.
 */
export function remainingWait(waitMs: number, now: number, advertising: boolean, taggedSince?: number): number {
  if (!advertising || waitMs <= 0) return 0;
  const already = taggedSince === undefined ? 0 : Math.max(0, now - taggedSince);
  return Math.max(0, waitMs - already);
}

/**
 * The routes to hand one peer's session: all marked for graceful shutdown when `tag`, and,
 * when `keep` is given (an excluded node's wait), only the prefixes in it.
 */
export function drainRoutes<R extends { readonly prefix: CIDR }>(
  routes: readonly R[],
  tag: boolean,
  keep?: ReadonlySet<string>,
): (R & { readonly gracefulShutdown?: boolean })[] {
  const kept = keep ? routes.filter((r) => keep.has(formatCIDR(r.prefix))) : [...routes];
  return tag ? kept.map((r) => ({ ...r, gracefulShutdown: true })) : kept;
}
