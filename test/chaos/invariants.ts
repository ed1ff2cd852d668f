/**
 * The invariants checked over every Service after each chaos round. Pure: it gets
 * what the round observed and the model's configuration states, and returns the
 * violations, each naming the invariant and the Services.
 *
 *   1. No address on two Services, unless they all share one non-empty
 *      allow-shared-ip key and are compatible (same backends, no port twice).
 *   2. Every published address lies in the pool its ip-allocated-from-pool
 *      annotation names, that pool exists and is valid, and the address fits the
 *      Service (its families, its requested address, its address-pool annotation).
 *   3. A published address changes or vanishes only when the user's edits in this
 *      round stopped allowing it (pool shrunk past it or deleted, namespace
 *      selector changed, request annotation changed), and then an Event on the
 *      Service says why.
 *   4. Nothing is dropped: a Service that held an address still holds it unless
 *      (3) allowed the loss; a Service of a foreign loadBalancerClass never has an
 *      address from us.
 *   5. A Service the model can serve (free, or shareable, addresses in a pool open
 *      to it) has an address once the round settled.
 */
import {
  type ConfigModel,
  type ServiceView,
  canShareWith,
  entitled,
  holdersByIP,
  servableBy,
  validPools,
} from "./model";
import { parseAddr, blockContains } from "./ip";

export type Invariant = 1 | 2 | 3 | 4 | 5;

export interface Violation {
  invariant: Invariant;
  services: string[];
  message: string;
}

/** What a Service showed at one moment: its addresses (canonical) and pool annotation. */
export interface Held {
  ips: string[];
  pool?: string;
}

/** An Event the suite saw created or updated during the round. */
export interface SeenEvent {
  reason: string;
  type: string;
  message: string;
}

export interface RoundObservation {
  /** Every Service at the end of the round (an authoritative list). */
  final: ServiceView[];
  /** What each Service showed when the round began (Services that existed then). */
  start: ReadonlyMap<string, Held>;
  /** Every state each Service was seen in during the round, in order. */
  timeline: ReadonlyMap<string, readonly Held[]>;
  /** Configuration states the round went through, the starting one first. */
  configs: readonly ConfigModel[];
  /**
   * States of the rounds just before. A watcher in back-off after a fault may act on an
   * edit a round late: an address held since before this round may go for their reasons too.
   */
  earlierConfigs: readonly ConfigModel[];
  /** Services whose request annotations (loadBalancerIPs, address-pool) the user changed this round. */
  requestChanged: ReadonlySet<string>;
  /** Events on each Service during the round. */
  events: ReadonlyMap<string, readonly SeenEvent[]>;
}

/** Reasons that tell the user why an address was taken away. */
export const RELEASE_REASONS: readonly string[] = ["ClearAssignment", "AllocationFailed"];

const finalConfig = (o: RoundObservation): ConfigModel => o.configs[o.configs.length - 1];

function checkSharing(o: RoundObservation): Violation[] {
  const out: Violation[] = [];
  for (const [ip, holders] of holdersByIP(o.final)) {
    if (holders.length < 2) continue;
    const ok = holders.every((h, i) => canShareWith(h, holders.slice(0, i)));
    if (!ok)
      out.push({
        invariant: 1,
        services: holders.map((h) => h.key),
        message: `${ip} is on ${holders.length} Services: ${holders
          .map((h) => `${h.key} (key ${JSON.stringify(h.shareKey)}, ports ${h.ports.join(" ")})`)
          .join(", ")}`,
      });
  }
  return out;
}

function checkPools(o: RoundObservation): Violation[] {
  const out: Violation[] = [];
  const config = finalConfig(o);
  const valid = validPools(config);
  for (const s of o.final) {
    if (s.foreign || s.ips.length === 0) continue;
    const problems: string[] = [];
    const pool = config.pools.find((p) => p.name === s.allocatedFrom);
    if (!s.allocatedFrom) problems.push("no metallb.io/ip-allocated-from-pool annotation");
    else if (!pool) problems.push(`its pool ${s.allocatedFrom} does not exist`);
    else if (!valid.includes(pool)) problems.push(`its pool ${s.allocatedFrom} is invalid (it overlaps an older pool)`);
    for (const ip of s.ips) {
      const a = parseAddr(ip);
      if (!a) {
        problems.push(`${ip} is not an address`);
        continue;
      }
      if (pool && !pool.blocks.some((b) => blockContains(b, a))) problems.push(`${ip} is outside pool ${pool.name}`);
      if (!s.families.includes(a.family))
        problems.push(`${ip} is IPv${a.family}, the Service has ${s.families.map((f) => `IPv${f}`).join(",")}`);
      if (s.requested && !s.requested.some((r) => r.family === a.family && r.value === a.value))
        problems.push(`${ip} is not the requested address`);
    }
    if (s.pool !== undefined && s.allocatedFrom !== undefined && s.pool !== s.allocatedFrom)
      problems.push(`it asked for pool ${s.pool}`);
    const families = new Set(s.ips.map((ip) => parseAddr(ip)?.family));
    if (families.size !== s.ips.length) problems.push("two addresses of one family");
    if (s.policy === "RequireDualStack" && s.ips.length !== 2) problems.push("RequireDualStack with one family");
    if (s.policy === "SingleStack" && s.ips.length !== 1) problems.push("SingleStack with two addresses");
    if (problems.length)
      out.push({
        invariant: 2,
        services: [s.key],
        message: `${s.key} shows ${s.ips.join(",")}: ${problems.join("; ")}`,
      });
  }
  return out;
}

/**
 * Whether the user's edits allowed the Service to lose addresses it held together
 * (`held`, one assignment: a dual-stack pair comes from one pool and goes as one):
 * a request edit, or a configuration state of the round that stopped allowing one of
 * them. Addresses held since before the round may also go for the rounds just before.
 */
function lossAllowed(o: RoundObservation, s: ServiceView, held: readonly string[]): boolean {
  if (o.requestChanged.has(s.key)) return true;
  if (held.some((ip) => o.configs.some((c) => !entitled(c, s, ip)))) return true;
  const old = held.filter((ip) => o.start.get(s.key)?.ips.includes(ip));
  return old.some((ip) => o.earlierConfigs.some((c) => !entitled(c, s, ip)));
}

function explained(o: RoundObservation, s: ServiceView): boolean {
  const events = o.events.get(s.key) ?? [];
  return events.some(
    (e) => RELEASE_REASONS.includes(e.reason) || (o.requestChanged.has(s.key) && e.reason === "IPAllocated"),
  );
}

function checkLosses(o: RoundObservation): Violation[] {
  const out: Violation[] = [];
  for (const s of o.final) {
    if (s.foreign) continue;
    const states: Held[] = [
      ...(o.start.has(s.key) ? [o.start.get(s.key)!] : []),
      ...(o.timeline.get(s.key) ?? []),
      { ips: s.ips, pool: s.allocatedFrom },
    ];
    const lost = new Map<string, { how: string; held: string[] }>(); // ip -> how it went, and what was held with it
    for (let i = 1; i < states.length; i++) {
      for (const ip of states[i - 1].ips) {
        if (states[i].ips.includes(ip) || lost.has(ip)) continue;
        const how = s.ips.includes(ip)
          ? `${ip} vanished for a while and came back`
          : s.ips.length === 0
            ? `${ip} was dropped (the Service has no address now)`
            : `${ip} was replaced by ${s.ips.join(",")}`;
        lost.set(ip, { how, held: states[i - 1].ips });
      }
    }
    for (const [ip, { how, held }] of lost) {
      if (!lossAllowed(o, s, held)) {
        const replaced = !s.ips.includes(ip) && s.ips.length > 0;
        out.push({
          invariant: replaced ? 3 : 4,
          services: [s.key],
          message: `${s.key}: ${how}, though no edit this round required it`,
        });
      } else if (!explained(o, s)) {
        out.push({
          invariant: 3,
          services: [s.key],
          message: `${s.key}: ${how} (allowed by this round's edits) with no Event saying why (seen: ${
            (o.events.get(s.key) ?? []).map((e) => e.reason).join(",") || "none"
          })`,
        });
      }
    }
  }
  return out;
}

function checkForeign(o: RoundObservation): Violation[] {
  const out: Violation[] = [];
  for (const s of o.final) {
    if (!s.foreign) continue;
    const ever = [...(o.timeline.get(s.key) ?? []), { ips: s.ips, pool: s.allocatedFrom }].some(
      (h) => h.ips.length || h.pool,
    );
    if (ever)
      out.push({
        invariant: 4,
        services: [s.key],
        message: `${s.key} has a foreign loadBalancerClass but was given ${s.ips.join(",") || "a pool annotation"} by us`,
      });
  }
  return out;
}

function checkServed(o: RoundObservation): Violation[] {
  const config = finalConfig(o);
  const out: Violation[] = [];
  for (const s of o.final) {
    const witness = servableBy(config, s, o.final);
    if (witness === undefined) continue;
    const wants = `${s.policy} ${s.families.map((f) => `IPv${f}`).join(",")}${s.pool ? `, pool ${s.pool}` : ""}${
      s.requested ? ", requested" : ""
    }${s.shareKey ? `, key ${s.shareKey} ${s.ports.join(" ")}` : ""}`;
    out.push({
      invariant: 5,
      services: [s.key],
      message: `${s.key} (${wants}) has no address though ${witness} is open to it`,
    });
  }
  return out;
}

export function checkRound(o: RoundObservation): Violation[] {
  return [...checkSharing(o), ...checkPools(o), ...checkLosses(o), ...checkForeign(o), ...checkServed(o)];
}

/** The state-only invariants (1, 2, 5): what settling waits for. */
export function settledProblems(final: ServiceView[], config: ConfigModel): Violation[] {
  const o: RoundObservation = {
    final,
    start: new Map(),
    timeline: new Map(),
    configs: [config],
    earlierConfigs: [],
    requestChanged: new Set(),
    events: new Map(),
  };
  return [...checkSharing(o), ...checkPools(o), ...checkServed(o)];
}
