/**
 * L2 membership as the agent runs it: the pure Membership fed by the heartbeat socket, a
 * heartbeat every interval to every other voter, the tie-breaker Lease when the roster has
 * one, and one question for the rest of the agent: the verdict now. `verdict()` re-evaluates
 * whenever the last verdict's `recheckAt` has passed, so a caller that asks right before
 * answering an ARP request (after the process was paused, say) never acts on a stale one.
 * "changed" fires when what the agent answers for may have changed: serving or the down set.
 */
import { EventEmitter } from "node:events";
import { performance } from "node:perf_hooks";
import type { AgentKube } from "../../kube";
import { agentMetrics } from "../../metrics";
import { decodeHeartbeat, encodeHeartbeat, FLAG_DRAINING, FLAG_SERVING } from "./heartbeat";
import { Membership, type MembershipTiming, type Verdict } from "./membership";
import { EMPTY_ROSTER, type Roster } from "./roster";
import { TiebreakerLease } from "./tiebreaker";
import { HeartbeatSocket } from "./transport";

export interface AgentMembershipOptions {
  node: string;
  namespace: string;
  port: number;
  heartbeatAddress: string;
  intervalMs: number;
  timing: MembershipTiming;
  tiebreakerDurationMs: number;
  tiebreakerRenewMs: number;
  log: (msg: string, extra?: Record<string, unknown>) => void;
}

export interface AgentMembershipEvents {
  changed: [];
}

/** Heartbeats received within this long are judged together. */
export const EVALUATE_MS = 10;

/** Monotonic milliseconds: immune to wall-clock steps (NTP, a wrong date). */
const monotonic = (): number => performance.now();

export class AgentMembership extends EventEmitter<AgentMembershipEvents> {
  readonly membership: Membership;
  private key?: Buffer;
  private draining = false;
  private last: Verdict;
  private timer?: NodeJS.Timeout;
  private recheck?: NodeJS.Timeout;
  private evaluationQueued = false;
  /** Voters we stated silent for D at the last evaluation (Membership.suspects). */
  private suspects = new Set<string>();
  private readonly socket: HeartbeatSocket;
  private readonly tiebreaker: TiebreakerLease;

  constructor(
    kube: AgentKube,
    private readonly opts: AgentMembershipOptions,
  ) {
    super();
    this.membership = new Membership(opts.node, opts.timing, monotonic, Date.now() * 1000);
    this.last = this.membership.evaluate();
    this.socket = new HeartbeatSocket(
      opts.port,
      HeartbeatSocket.familyOf(opts.heartbeatAddress || "0.0.0.0"),
      (p) => this.onPacket(p),
      (m) => opts.log(m),
    );
    this.tiebreaker = new TiebreakerLease(
      kube,
      {
        namespace: opts.namespace,
        node: opts.node,
        durationMs: opts.tiebreakerDurationMs,
        renewMs: opts.tiebreakerRenewMs,
        marginMs: 500,
      },
      (held) => {
        agentMetrics.tiebreakerHeld.set(held ? 1 : 0);
        this.membership.setTiebreaker(held);
        this.reevaluate();
      },
      monotonic,
      Date.now,
      (m) => opts.log(m),
    );
  }

  async start(): Promise<void> {
    await this.socket.start();
    this.timer = setInterval(() => this.beat(), this.opts.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.recheck);
    this.tiebreaker.stop();
    this.socket.close();
  }

  setKey(key: Buffer | undefined): void {
    this.key = key;
    this.reevaluate();
  }

  setRoster(roster: Roster | undefined): void {
    const r = roster ?? EMPTY_ROSTER;
    if (r.digest.equals(this.membership.currentRoster.digest) && sameAddresses(r, this.membership.currentRoster))
      return;
    this.membership.setRoster(r);
    agentMetrics.membershipVoters.set(r.voters.length + (r.tiebreaker ? 1 : 0));
    this.tiebreaker.setEnabled(r.tiebreaker && r.voters.includes(this.opts.node));
    this.opts.log("L2 membership roster", { voters: r.voters, tiebreaker: r.tiebreaker });
    this.reevaluate();
  }

  /** Clean stop: heartbeats say so (for operators); the verdict is unchanged. */
  setDraining(): void {
    this.draining = true;
  }

  /** The verdict now (re-evaluated if any of its inputs expired or matured). */
  verdict(): Verdict {
    if (monotonic() >= this.last.recheckAt) this.reevaluate();
    return this.last;
  }

  /** How long since we last heard `node` (ms, our clock), for the failover histogram. */
  silenceOf(node: string): number | undefined {
    return this.membership.silenceOf(node);
  }

  /** Sends a heartbeat to every other voter; `evaluate` false when called from an evaluation. */
  private beat(evaluate = true): void {
    if (!this.key) return;
    const roster = this.membership.currentRoster;
    if (!roster.voters.includes(this.opts.node)) return;
    const flags = (this.last.serving ? FLAG_SERVING : 0) | (this.draining ? FLAG_DRAINING : 0);
    const packet = encodeHeartbeat(this.membership.heartbeat(flags), this.key);
    const peers = roster.voters
      .filter((v) => v !== this.opts.node)
      .map((v) => roster.addresses.get(v))
      .filter((a): a is string => !!a);
    this.socket.send(packet, peers);
    agentMetrics.heartbeatsSent.inc(peers.length);
    if (evaluate) this.verdict();
  }

  private onPacket(packet: Buffer): void {
    if (!this.key) return void agentMetrics.heartbeatsRejected.inc({ reason: "no-key" });
    const hb = decodeHeartbeat(packet, this.key);
    if (typeof hb === "string") return void agentMetrics.heartbeatsRejected.inc({ reason: hb });
    const outcome = this.membership.receive(hb);
    if (outcome === "accepted") agentMetrics.heartbeatsReceived.inc();
    else agentMetrics.heartbeatsRejected.inc({ reason: outcome });
    // At most one evaluation per EVALUATE_MS (it is quadratic in the voters: with 50 voters,
    // evaluating per datagram cost a fifth of a core). Waiting is safe: until then the
    // previous verdict's evidence still holds on its own terms, and verdict() re-evaluates
    // anyway once its recheckAt has passed.
    if (!this.evaluationQueued) {
      this.evaluationQueued = true;
      setTimeout(() => {
        this.evaluationQueued = false;
        this.reevaluate();
      }, EVALUATE_MS);
    }
  }

  private reevaluate(): void {
    const before = this.last;
    const v = this.key
      ? this.membership.evaluate()
      : { ...this.membership.evaluate(), inQuorum: false, serving: false };
    this.last = v;
    const suspects = this.membership.suspects();
    const newSuspect = [...suspects].some((x) => !this.suspects.has(x));
    this.suspects = suspects;
    // Our silence about a voter just reached D: tell the others now, not at the next beat.
    if (newSuspect) this.beat(false);
    agentMetrics.membershipVotes.set(v.votes);
    agentMetrics.membershipDown.set(v.down.size);
    clearTimeout(this.recheck);
    if (Number.isFinite(v.recheckAt))
      this.recheck = setTimeout(() => this.reevaluate(), Math.max(0, v.recheckAt - monotonic()) + 1);
    if (before.serving !== v.serving || before.inQuorum !== v.inQuorum || !sameSet(before.down, v.down)) {
      this.opts.log("L2 membership", {
        inQuorum: v.inQuorum,
        serving: v.serving,
        votes: v.votes,
        needed: v.needed,
        down: [...v.down].sort(),
      });
      this.emit("changed");
    }
  }
}

const sameSet = (a: ReadonlySet<string>, b: ReadonlySet<string>): boolean =>
  a.size === b.size && [...a].every((x) => b.has(x));
const sameAddresses = (a: Roster, b: Roster): boolean =>
  a.addresses.size === b.addresses.size && [...a.addresses].every(([k, v]) => b.addresses.get(k) === v);
