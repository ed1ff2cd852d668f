/**
 * Adj-RIB-Out planning (RFC 4271 §3.2, §9.2): from what a peer already has
 * and what it should have, the fewest UPDATEs that get it there. Routes with
 * identical attributes share UPDATEs, packed up to the 4096-octet limit;
 * IPv4 rides in the classic NLRI / Withdrawn Routes fields, IPv6 in
 * MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760). An IPv4 route with an IPv6 next hop (BGP
 * unnumbered, RFC 8950 §3) goes in MP_REACH_NLRI with AFI 1; its withdrawal stays in the
 * classic field, which carries IPv4 unicast whatever the next hop was.
 * Pure: returns messages, sends nothing.
 */
import { formatCIDR, type CIDR, type IP } from "../../../shared/net/ip";
import { encodeAttribute, prefixWireLength, type CodecOptions } from "./encode";
import {
  AFI,
  HEADER_LENGTH,
  IPV4_UNICAST,
  IPV6_UNICAST,
  MAX_MESSAGE_LENGTH,
  Origin,
  SAFI,
  sameAfiSafi,
  type AfiSafi,
  type AsPathSegment,
  type LargeCommunity,
  type PathAttribute,
  type UpdateMessage,
} from "./messages";

export interface RouteAttributes {
  /** Default IGP. */
  readonly origin?: number;
  readonly asPath: readonly AsPathSegment[];
  readonly med?: number;
  readonly localPref?: number;
  readonly communities?: readonly number[];
  readonly extendedCommunities?: readonly bigint[];
  readonly largeCommunities?: readonly LargeCommunity[];
}

export interface Route {
  readonly prefix: CIDR;
  /**
   * IPv4 for an IPv4 prefix, the global IPv6 address for an IPv6 prefix; an IPv6 address for
   * an IPv4 prefix where extended next hops were negotiated (RFC 8950).
   */
  readonly nextHop: IP;
  /** With an IPv6 next hop only: sent as the second next hop (RFC 2545 §3). */
  readonly linkLocalNextHop?: IP;
  readonly attributes: RouteAttributes;
}

export interface PlanOptions extends CodecOptions {
  /** Negotiated families; routes of other families are not sent. */
  readonly families: readonly AfiSafi[];
  /** Families negotiated to take IPv6 next hops (RFC 8950 §4); none by default. */
  readonly extendedNextHop?: readonly AfiSafi[];
  /** Default 4096 (RFC 4271 §4.1). */
  readonly maxMessageLength?: number;
}

export interface Plan {
  /** Withdrawals first, then announcements. */
  readonly updates: UpdateMessage[];
  /** What the peer will have once the updates are sent (keyed by prefix text). */
  readonly sent: ReadonlyMap<string, Route>;
  /** Routes that could not be sent, with the reason. */
  readonly rejected: readonly { readonly prefix: CIDR; readonly reason: string }[];
}

/** Update message fixed part: header, withdrawn length, total attribute length (RFC 4271 §4.3). */
const UPDATE_FIXED = HEADER_LENGTH + 2 + 2;
/** An MP attribute header with Extended Length (4) plus AFI and SAFI (3). */
const MP_FIXED = 4 + 3;

const familyOf = (prefix: CIDR): AfiSafi => (prefix.family === 4 ? IPV4_UNICAST : IPV6_UNICAST);

function compareCIDR(a: CIDR, b: CIDR): number {
  if (a.base !== b.base) return a.base < b.base ? -1 : 1;
  return a.prefixLength - b.prefixLength;
}

const uniqueSorted = (xs: readonly number[]): number[] => [...new Set(xs)].sort((a, b) => a - b);
const uniqueSortedBig = (xs: readonly bigint[]): bigint[] =>
  [...new Set(xs)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

function largeKey(c: LargeCommunity): string {
  return `${c.globalAdmin}:${c.localData1}:${c.localData2}`;
}

/** The attributes (other than next hop / MP_REACH) in ascending type order (RFC 4271 §5). */
function baseAttributes(a: RouteAttributes): PathAttribute[] {
  const out: PathAttribute[] = [
    { type: "origin", origin: a.origin ?? Origin.IGP },
    { type: "as-path", segments: a.asPath },
  ];
  if (a.med !== undefined) out.push({ type: "med", med: a.med });
  if (a.localPref !== undefined) out.push({ type: "local-pref", localPref: a.localPref });
  const communities = uniqueSorted(a.communities ?? []);
  if (communities.length > 0) out.push({ type: "communities", communities });
  const extended = uniqueSortedBig(a.extendedCommunities ?? []);
  if (extended.length > 0) out.push({ type: "extended-communities", communities: extended });
  const byKey = new Map((a.largeCommunities ?? []).map((c) => [largeKey(c), c] as const));
  if (byKey.size > 0) {
    const large = [...byKey.keys()].sort().map((k) => byKey.get(k)!);
    out.push({ type: "large-communities", communities: large });
  }
  return out;
}

/** Canonical text of everything but the prefix: routes with equal keys share an UPDATE. */
function attributeKey(r: Route): string {
  const a = r.attributes;
  return JSON.stringify([
    r.nextHop.family,
    r.nextHop.value.toString(),
    r.linkLocalNextHop?.value.toString() ?? "",
    a.origin ?? Origin.IGP,
    a.asPath,
    a.med ?? null,
    a.localPref ?? null,
    uniqueSorted(a.communities ?? []),
    uniqueSortedBig(a.extendedCommunities ?? []).map(String),
    (a.largeCommunities ?? []).map(largeKey).sort(),
  ]);
}

interface Group {
  readonly sample: Route;
  readonly prefixes: CIDR[];
}

/** Splits prefixes into runs whose encoded size fits `room` octets. */
function pack(prefixes: readonly CIDR[], room: number): CIDR[][] {
  const runs: CIDR[][] = [];
  let run: CIDR[] = [];
  let used = 0;
  for (const p of prefixes) {
    const cost = prefixWireLength(p);
    if (used + cost > room && run.length > 0) {
      runs.push(run);
      run = [];
      used = 0;
    }
    run.push(p);
    used += cost;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

function withdrawals(prefixes: CIDR[], max: number): UpdateMessage[] {
  const v4 = prefixes.filter((p) => p.family === 4).sort(compareCIDR);
  const v6 = prefixes.filter((p) => p.family === 6).sort(compareCIDR);
  return [
    ...pack(v4, max - UPDATE_FIXED).map(
      (run): UpdateMessage => ({ type: "update", withdrawn: run, attributes: [], nlri: [] }),
    ),
    ...pack(v6, max - UPDATE_FIXED - MP_FIXED).map(
      (run): UpdateMessage => ({
        type: "update",
        withdrawn: [],
        attributes: [{ type: "mp-unreach", afi: AFI.IPV6, safi: SAFI.UNICAST, withdrawn: run }],
        nlri: [],
      }),
    ),
  ];
}

function announcements(group: Group, opts: PlanOptions, max: number): UpdateMessage[] | string {
  const r = group.sample;
  const base = baseAttributes(r.attributes);
  const prefixes = group.prefixes.sort(compareCIDR);
  const baseSize = base.reduce((n, a) => n + encodeAttribute(a, opts).length, 0);
  if (r.prefix.family === 4 && r.nextHop.family === 4) {
    const nextHop: PathAttribute = { type: "next-hop", nextHop: r.nextHop };
    const attributes = [...base.slice(0, 2), nextHop, ...base.slice(2)];
    const room = max - UPDATE_FIXED - baseSize - encodeAttribute(nextHop, opts).length;
    if (room < 5) return "path attributes leave no room for NLRI";
    return pack(prefixes, room).map((run): UpdateMessage => ({ type: "update", withdrawn: [], attributes, nlri: run }));
  }
  const nextHops = r.linkLocalNextHop ? [r.nextHop, r.linkLocalNextHop] : [r.nextHop];
  // MP_REACH: header+AFI+SAFI, next-hop length octet, next hops, reserved octet.
  const room = max - UPDATE_FIXED - baseSize - (MP_FIXED + 1 + 16 * nextHops.length + 1);
  if (room < 17) return "path attributes leave no room for NLRI";
  const afi = r.prefix.family === 4 ? AFI.IPV4 : AFI.IPV6;
  // RFC 7606 §5.1: MP_REACH_NLRI goes first so a receiver can always find the NLRI.
  return pack(prefixes, room).map(
    (run): UpdateMessage => ({
      type: "update",
      withdrawn: [],
      attributes: [{ type: "mp-reach", afi, safi: SAFI.UNICAST, nextHops, nlri: run }, ...base],
      nlri: [],
    }),
  );
}

function unsendable(r: Route, opts: PlanOptions): string | undefined {
  const family = familyOf(r.prefix);
  if (!opts.families.some((f) => sameAfiSafi(f, family))) return `IPv${r.prefix.family} unicast was not negotiated`;
  if (r.nextHop.family !== r.prefix.family) {
    const extended = r.nextHop.family === 6 && (opts.extendedNextHop ?? []).some((f) => sameAfiSafi(f, family));
    if (!extended)
      return r.nextHop.family === 6
        ? "an IPv6 next hop for IPv4 routes was not negotiated (extended next hop, RFC 8950)"
        : "next hop family differs from the prefix family";
  }
  if (r.linkLocalNextHop && (r.nextHop.family !== 6 || r.linkLocalNextHop.family !== 6))
    return "a link-local next hop needs an IPv6 next hop";
  return undefined;
}

/**
 * Plans the UPDATEs that take a peer from `sent` to `desired`. One route per
 * prefix: a later route for the same prefix replaces an earlier one.
 */
export function planUpdates(sent: ReadonlyMap<string, Route>, desired: readonly Route[], opts: PlanOptions): Plan {
  const max = opts.maxMessageLength ?? MAX_MESSAGE_LENGTH;
  const rejected: { prefix: CIDR; reason: string }[] = [];
  const want = new Map<string, Route>();
  for (const r of desired) {
    const reason = unsendable(r, opts);
    if (reason) rejected.push({ prefix: r.prefix, reason });
    else want.set(formatCIDR(r.prefix), r);
  }

  const gone: CIDR[] = [];
  for (const [key, r] of sent) if (!want.has(key)) gone.push(r.prefix);

  const groups = new Map<string, Group>();
  const keyCache = new Map<Route, string>();
  const keyOf = (r: Route): string => {
    let k = keyCache.get(r);
    if (k === undefined) keyCache.set(r, (k = `${r.prefix.family}|${attributeKey(r)}`));
    return k;
  };
  for (const [key, r] of want) {
    const before = sent.get(key);
    if (before && keyOf(before) === keyOf(r)) continue; // the peer already has it
    const k = keyOf(r);
    const g = groups.get(k);
    if (g) g.prefixes.push(r.prefix);
    else groups.set(k, { sample: r, prefixes: [r.prefix] });
  }

  const updates = withdrawals(gone, max);
  const result = new Map(want);
  for (const g of [...groups.keys()].sort().map((k) => groups.get(k)!)) {
    const msgs = announcements(g, opts, max);
    if (typeof msgs === "string") {
      for (const p of g.prefixes) {
        rejected.push({ prefix: p, reason: msgs });
        const key = formatCIDR(p);
        const before = sent.get(key);
        // Not sent: the peer keeps what it had (or nothing).
        if (before) result.set(key, before);
        else result.delete(key);
      }
      continue;
    }
    updates.push(...msgs);
  }
  return { updates, sent: result, rejected };
}
