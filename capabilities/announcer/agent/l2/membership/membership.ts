/**
 * L2 membership among agents, decided without the API server: who is in quorum, and whom
 * a majority has stopped hearing. Pure: the transport feeds in heartbeats and the clock
 * (a monotonic one), the agent reads the verdict. docs/l2.md gives the proof that two nodes
 * never answer for one address; the rules it rests on:
 *
 * - Every time is a SEND time on the clock of whoever judges: a voter's heartbeat echoes the
 *   newest sequence number it accepted from us, and we look up when we sent that one. So a
 *   packet that waited in a socket buffer (a paused process) never looks fresher than it is.
 * - A voter SUPPORTS us while its newest heartbeat echoes one of ours sent less than F ago
 *   (fenceMs) AND states that our newest heartbeat it accepted echoed one of its own sent less
 *   than F before it wrote that heartbeat: each side heard the other within F (mutual).
 * - A voter's SILENCE about X, stated in every heartbeat, is how long ago it sent the newest
 *   heartbeat of its own that X echoed back: one-way loss in either direction makes it grow.
 * - We are IN QUORUM while supporters (ourselves included) are a majority of the voters.
 *   The API server votes too when the roster says so: it supports whoever holds the
 *   tie-breaker Lease and the holder's supporters see its flag.
 * - We SERVE (answer ARP/NDP) only after holding quorum without a break for J (settleMs >= F).
 * - Voter X is DOWN when a majority of voters each state, in a heartbeat echoing one of ours
 *   sent less than F ago, a silence about X of at least D (downMs >= 3F). Our own statement
 *   is our own silence; the API server's is the tie-breaker holder's, counted only for as
 *   long as it has held the Lease. X never speaks about itself.
 *
 * With D >= 3F and J >= F, X cannot be serving while a standby sees it DOWN: the two
 * majorities share a voter that exchanged heartbeats with X within 2F of some moment and
 * stated no exchange for D around that same moment (docs/l2.md has the inequalities).
 */
import { FLAG_TIEBREAKER, SILENCE_UNKNOWN, type Heartbeat, type HeartbeatEntry } from "./heartbeat";
import { ReplayWindow } from "./replay-window";
import { EMPTY_ROSTER, majority, type Roster } from "./roster";

export interface MembershipTiming {
  /** F: a voter's support lapses this long after the heartbeat of ours it echoes was sent. */
  readonly fenceMs: number;
  /** D: a voter is down once a majority has not heard it for this long. */
  readonly downMs: number;
  /** J: serve only after holding quorum this long without a break. */
  readonly settleMs: number;
}

/** Checks the inequalities the safety argument needs; returns what is wrong, if anything. */
export function timingProblem(t: MembershipTiming): string | undefined {
  if (!(t.fenceMs > 0)) return "the fence window must be positive";
  if (t.downMs < 3 * t.fenceMs)
    return `the down time (${t.downMs} ms) must be at least three times the fence window (${t.fenceMs} ms)`;
  if (t.settleMs < t.fenceMs)
    return `the settle time (${t.settleMs} ms) must be at least the fence window (${t.fenceMs} ms)`;
  return undefined;
}

/** What the agent acts on. Times are on the membership clock. */
export interface Verdict {
  readonly inQuorum: boolean;
  /** In quorum for at least J: may answer. */
  readonly serving: boolean;
  readonly votes: number;
  readonly needed: number;
  /** Voters a majority has not heard for D. */
  readonly down: ReadonlySet<string>;
  /** Voters whose supporting echo is fresh (excluding ourselves). */
  readonly supporters: ReadonlySet<string>;
  /** Evaluate again by then at the latest: some input of this verdict expires or matures. */
  readonly recheckAt: number;
}

export type ReceiveOutcome = "accepted" | "own" | "not-a-voter" | "replay" | "other-roster";

interface Peer {
  readonly window: ReplayWindow;
  /** When we last accepted a heartbeat from it (our clock; for the failover figure only). */
  heardAt: number;
  /** Send time of the newest of our heartbeats it echoed: our silence about it runs from here. */
  ackAt: number;
  /** Its silence about us, as stated in its newest heartbeat. */
  silenceOfMe: number;
  /** The statements of its newest heartbeat: voter -> silence ms at sending. */
  silence: Map<string, number>;
  /** Send time of the heartbeat of ours echoed by that same newest heartbeat. */
  statementsAckAt: number;
  statementsSeq: number;
  /** Tie-breaker held for this long when that heartbeat was sent (0: not held). */
  tiebreakerHeldMs: number;
  /** Its newest heartbeat named our roster. */
  sameRoster: boolean;
}

/** How many of our own send times are kept to time echoes (more than F at any rate). */
const SENT_KEPT = 1024;

export class Membership {
  private roster: Roster = EMPTY_ROSTER;
  private readonly peers = new Map<string, Peer>();
  /** seq -> when we sent it. */
  private readonly sent = new Map<number, number>();
  private seq: number;
  private readonly startedAt: number;
  private quorumSince?: number;
  private quorumUntil = -Infinity;
  /** Votes held at the last quorum update (evaluate() reports it without counting again). */
  private voteCount = 0;
  private tiebreaker?: { since: number; until: number };

  /**
   * @param firstSeq the first sequence number minus one: the start time in microseconds,
   *   so numbers keep growing across restarts (replay-window.ts).
   */
  constructor(
    readonly self: string,
    readonly timing: MembershipTiming,
    private readonly now: () => number,
    firstSeq: number,
  ) {
    const problem = timingProblem(timing);
    if (problem) throw new Error(problem);
    this.seq = firstSeq;
    this.startedAt = now();
  }

  get currentRoster(): Roster {
    return this.roster;
  }

  setRoster(roster: Roster): void {
    this.roster = roster;
    for (const name of this.peers.keys()) if (!roster.voters.includes(name)) this.peers.delete(name);
    this.updateQuorum(this.now());
  }

  /** We hold the tie-breaker Lease since `since` and may count its vote until `until`; undefined: not held. */
  setTiebreaker(held: { since: number; until: number } | undefined): void {
    this.tiebreaker = held;
    this.updateQuorum(this.now());
  }

  holdsTiebreaker(now = this.now()): boolean {
    return !!this.tiebreaker && this.tiebreaker.until > now;
  }

  /** Milliseconds since we last heard `node` (or since we started); undefined for a non-voter. */
  /**
   * The voters whose silence, as we would state it now, is at least D. When one joins this
   * set the agent says so at once (an extra heartbeat) rather than at its next beat: the
   * other voters' down verdicts wait for our statement, so this takes up to one heartbeat
   * interval off a failover.
   */
  suspects(): Set<string> {
    const now = this.now();
    const out = new Set<string>();
    for (const x of this.roster.voters)
      if (x !== this.self && now - this.exchangedAt(this.peers.get(x)) >= this.timing.downMs) out.add(x);
    return out;
  }

  silenceOf(node: string): number | undefined {
    if (!this.roster.voters.includes(node)) return undefined;
    return this.now() - (this.peers.get(node)?.heardAt ?? this.startedAt);
  }

  /** The next heartbeat to send (recorded as sent now). */
  heartbeat(flags: number): Heartbeat {
    const now = this.now();
    this.seq += 1;
    this.sent.set(this.seq, now);
    if (this.sent.size > SENT_KEPT) this.sent.delete(this.sent.keys().next().value as number);
    const entries: HeartbeatEntry[] = [];
    this.roster.voters.forEach((name, voter) => {
      if (name === this.self) return;
      const p = this.peers.get(name);
      entries.push({
        voter,
        ackSeq: p?.window.latest ?? 0,
        silenceMs: Math.min(SILENCE_UNKNOWN, now - this.exchangedAt(p)),
      });
    });
    const held = this.holdsTiebreaker(now);
    return {
      sender: this.self,
      flags: (flags & ~FLAG_TIEBREAKER) | (held ? FLAG_TIEBREAKER : 0),
      rosterDigest: this.roster.digest,
      seq: this.seq,
      tiebreakerHeldMs: held ? now - this.tiebreaker!.since : 0,
      entries,
    };
  }

  receive(hb: Heartbeat): ReceiveOutcome {
    if (hb.sender === this.self) return "own";
    if (!this.roster.voters.includes(hb.sender)) return "not-a-voter";
    const now = this.now();
    let p = this.peers.get(hb.sender);
    if (!p) {
      p = {
        window: new ReplayWindow(),
        heardAt: this.startedAt,
        ackAt: -Infinity,
        silenceOfMe: Infinity,
        silence: new Map(),
        statementsAckAt: -Infinity,
        statementsSeq: 0,
        tiebreakerHeldMs: 0,
        sameRoster: false,
      };
      this.peers.set(hb.sender, p);
    }
    if (!p.window.accept(hb.seq)) return "replay";
    this.lapse(now);
    p.heardAt = now;
    p.sameRoster = hb.rosterDigest.equals(this.roster.digest);
    if (!p.sameRoster) {
      this.updateQuorum(now);
      return "other-roster";
    }
    const me = this.roster.voters.indexOf(this.self);
    const echo = hb.entries.find((e) => e.voter === me);
    const echoedAt = echo ? (this.sent.get(echo.ackSeq) ?? -Infinity) : -Infinity;
    p.ackAt = Math.max(p.ackAt, echoedAt);
    if (hb.seq > p.statementsSeq) {
      p.statementsSeq = hb.seq;
      p.statementsAckAt = echoedAt;
      p.silenceOfMe = echo ? echo.silenceMs : Infinity;
      p.silence = new Map();
      for (const e of hb.entries) {
        const name = this.roster.voters[e.voter];
        if (name !== undefined && name !== hb.sender) p.silence.set(name, e.silenceMs);
      }
      p.tiebreakerHeldMs = hb.flags & FLAG_TIEBREAKER ? hb.tiebreakerHeldMs : 0;
    }
    this.updateQuorum(now);
    return "accepted";
  }

  /** The verdict now. */
  evaluate(): Verdict {
    const now = this.now();
    this.updateQuorum(now);
    const needed = majority(this.roster);
    const F = this.timing.fenceMs;
    const D = this.timing.downMs;
    let recheckAt = Infinity;
    const later = (t: number): void => {
      if (t > now && t < recheckAt) recheckAt = t;
    };
    later(this.quorumUntil);
    if (this.quorumSince !== undefined) later(this.quorumSince + this.timing.settleMs);
    const supporters = new Set<string>();
    for (const [name, p] of this.peers) if (this.supportUntil(p, now) > now) supporters.add(name);
    const down = new Set<string>();
    const heldMs = this.holdsTiebreaker(now) ? now - this.tiebreaker!.since : 0;
    for (const x of this.roster.voters) {
      if (x === this.self) continue;
      // Each statement "not heard x for D", with when it stops counting.
      const expiries: number[] = [];
      const ownSilence = now - this.exchangedAt(this.peers.get(x));
      if (ownSilence >= D) expiries.push(Infinity);
      else later(now + (D - ownSilence));
      if (this.roster.tiebreaker && heldMs > 0) {
        if (Math.min(heldMs, ownSilence) >= D) expiries.push(this.tiebreaker!.until);
        else later(now + D - Math.min(heldMs, ownSilence));
      }
      for (const [name, p] of this.peers) {
        if (name === x || !p.sameRoster || p.statementsAckAt + F <= now) continue;
        const silence = p.silence.get(x);
        if (silence === undefined || silence < D) continue;
        expiries.push(p.statementsAckAt + F);
        if (this.roster.tiebreaker && p.tiebreakerHeldMs >= D) expiries.push(p.statementsAckAt + F);
      }
      if (expiries.length < needed) continue;
      expiries.sort((a, b) => b - a);
      const until = expiries[needed - 1];
      if (until > now) {
        down.add(x);
        later(until);
      }
    }
    const inQuorum = this.quorumSince !== undefined;
    return {
      inQuorum,
      serving: inQuorum && now - this.quorumSince! >= this.timing.settleMs,
      votes: this.voteCount,
      needed,
      down,
      supporters,
      recheckAt,
    };
  }

  /** The expiry time of each vote we hold now (ourselves: never). */
  private votes(now: number): number[] {
    if (!this.roster.voters.includes(this.self)) return [];
    const out = [Infinity];
    let api = this.roster.tiebreaker && this.holdsTiebreaker(now) ? this.tiebreaker!.until : -Infinity;
    for (const p of this.peers.values()) {
      const until = this.supportUntil(p, now);
      if (until <= now) continue;
      out.push(until);
      if (this.roster.tiebreaker && p.tiebreakerHeldMs > 0) api = Math.max(api, until);
    }
    if (api > now) out.push(api);
    return out.filter((t) => t > now);
  }

  /** When the support of `p` lapses (or -Infinity: none): its newest heartbeat must show a fresh exchange both ways. */
  private supportUntil(p: Peer, now: number): number {
    const F = this.timing.fenceMs;
    if (!p.sameRoster || p.silenceOfMe > F || p.statementsAckAt + F <= now) return -Infinity;
    return p.statementsAckAt + F;
  }

  /** When our newest exchange with `p` began: the send time of ours it echoed (or our start). */
  private exchangedAt(p: Peer | undefined): number {
    return Math.max(p?.ackAt ?? -Infinity, this.startedAt);
  }

  /** Quorum that ran out before `now` is a break, even if nobody looked at that moment. */
  private lapse(now: number): void {
    if (this.quorumSince !== undefined && this.quorumUntil <= now) this.quorumSince = undefined;
  }

  private updateQuorum(now: number): void {
    this.lapse(now);
    const votes = this.votes(now).sort((a, b) => b - a);
    this.voteCount = votes.length;
    const needed = majority(this.roster);
    if (votes.length >= needed) {
      this.quorumUntil = votes[needed - 1];
      this.quorumSince ??= now;
    } else {
      this.quorumUntil = -Infinity;
      this.quorumSince = undefined;
    }
  }
}
