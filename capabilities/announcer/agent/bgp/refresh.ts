/**
 * When to answer a ROUTE-REFRESH (RFC 2918 §4), per address family, as a pure
 * reducer: the caller passes the time and runs the answers and timers.
 *
 * RFC 2918 §4 asks for the Adj-RIB-Out of the family to be re-advertised and sets no
 * pace; RFC 7313 (enhanced route refresh, which we do not negotiate) neither. Choices:
 * - Coalescing: a request for a family whose answer is running or already queued adds
 *   nothing. The queued answer starts after the request and sends the Adj-RIB-Out as it
 *   is then, which is all any of the requests asked for.
 * - Rate: answers for one family start at least `minIntervalMs` apart; a request inside
 *   the interval is answered when it ends. A peer sending 10,000 requests in a second
 *   gets two answers, and the cost of a flood no longer grows with its size.
 * - Families are independent: an IPv6 request is not held up by IPv4 answers.
 */
import type { AfiSafi } from "./messages";

export interface FamilyRefresh {
  /** An answer is being sent now. */
  readonly running: boolean;
  /** A request is waiting for the running answer or the interval to end. */
  readonly queued: boolean;
  /** When the last answer started (ms). */
  readonly lastStart?: number;
}

export interface RefreshState {
  readonly minIntervalMs: number;
  readonly families: Readonly<Record<string, FamilyRefresh>>;
}

export type RefreshAction =
  | { readonly type: "start" }
  /** Call `refreshDue` at `atMs` (the rate interval ends then). */
  | { readonly type: "wait"; readonly atMs: number }
  | { readonly type: "none" };

export interface RefreshStep {
  readonly state: RefreshState;
  readonly action: RefreshAction;
}

export const refreshState = (minIntervalMs: number): RefreshState => ({ minIntervalMs, families: {} });

const keyOf = (f: AfiSafi): string => `${f.afi}/${f.safi}`;
const IDLE: FamilyRefresh = { running: false, queued: false };

function put(s: RefreshState, f: AfiSafi, fr: FamilyRefresh, action: RefreshAction): RefreshStep {
  return { state: { ...s, families: { ...s.families, [keyOf(f)]: fr } }, action };
}

/** Starts an answer now if the interval allows, else queues one for when it ends. */
function startOrWait(s: RefreshState, f: AfiSafi, fr: FamilyRefresh, now: number): RefreshStep {
  const due = fr.lastStart === undefined ? now : fr.lastStart + s.minIntervalMs;
  if (due <= now) return put(s, f, { running: true, queued: false, lastStart: now }, { type: "start" });
  return put(s, f, { ...fr, queued: true }, { type: "wait", atMs: due });
}

/** A ROUTE-REFRESH for a negotiated family arrived. */
export function refreshRequested(s: RefreshState, f: AfiSafi, now: number): RefreshStep {
  const fr = s.families[keyOf(f)] ?? IDLE;
  if (fr.running || fr.queued) return put(s, f, { ...fr, queued: true }, { type: "none" });
  return startOrWait(s, f, fr, now);
}

/** The answer for a family has been handed to the socket in full. */
export function refreshDone(s: RefreshState, f: AfiSafi, now: number): RefreshStep {
  const fr = { ...(s.families[keyOf(f)] ?? IDLE), running: false };
  if (!fr.queued) return put(s, f, fr, { type: "none" });
  return startOrWait(s, f, { ...fr, queued: false }, now);
}

/** The wait announced by a "wait" action is over. */
export function refreshDue(s: RefreshState, f: AfiSafi, now: number): RefreshStep {
  const fr = s.families[keyOf(f)] ?? IDLE;
  if (fr.running || !fr.queued) return { state: s, action: { type: "none" } };
  return startOrWait(s, f, { ...fr, queued: false }, now);
}
