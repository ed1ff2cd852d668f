/**
 * The controller's half of L2 membership (issue 12): it keeps the cluster key the agents
 * sign heartbeats with, and publishes the roster (roster.ts) the agents vote by.
 *
 * - The key: a Secret of 32 random bytes, created once if absent and never rewritten (a
 *   rewrite would split the cluster into agents with the old and the new key). A 409 on
 *   create means it exists: fine. Creating is all the controller does with Secrets.
 * - The roster: a ConfigMap, written by compare-and-swap on its resourceVersion. At start
 *   the published roster is read back, so a restarted controller keeps stepping from what
 *   the agents hold, never jumping to a target whose majorities could miss theirs.
 *
 * I/O is injected (MembershipStore); the decisions are roster.ts's planRoster. Writes are
 * one at a time; a failed one is retried with jittered back-off; a conflict re-reads.
 */
import { randomBytes } from "node:crypto";
import { Backoff } from "../../shared/backoff";
import { parseRoster, planRoster, rosterText, sameRoster, type Roster } from "./roster";

export const ROSTER_CONFIGMAP = "metallb-l2-membership";
export const ROSTER_KEY = "roster.json";
export const KEY_SECRET = "metallb-l2-membership-key";
export const MEMBERSHIP_LABELS = {
  "app.kubernetes.io/name": "metallb-pepr",
  "app.kubernetes.io/component": "l2-membership",
};

export interface PublishedRoster {
  readonly roster?: Roster;
  readonly resourceVersion?: string;
}

/** What the publisher needs from the API server. */
export interface MembershipStore {
  /** The roster ConfigMap as it is now (both fields undefined when there is none). */
  readRoster(): Promise<PublishedRoster>;
  /**
   * Creates the ConfigMap (no resourceVersion) or replaces it if still at
   * `resourceVersion`; returns the new resourceVersion. Throws `{ status: 409 }` on a conflict.
   */
  writeRoster(text: string, resourceVersion: string | undefined): Promise<string>;
  /** Creates the key Secret with `key` unless one exists. */
  ensureKey(key: Buffer): Promise<void>;
}

export interface PublisherOptions {
  /** The pause between two voter-set changes. */
  stepMs: number;
  now?: () => number;
  log?: (level: "info" | "warn", msg: string, extra?: Record<string, unknown>) => void;
  /** After every roster write (metrics). */
  published?: (roster: Roster) => void;
}

export class MembershipPublisher {
  private current?: Roster;
  private resourceVersion?: string;
  /** The first publish is immediate: no voter change has happened yet. */
  private lastVoterChangeAt = -Infinity;
  private target?: Roster;
  private started = false;
  private running = false;
  private again = false;
  private timer?: NodeJS.Timeout;
  private readonly retry = new Backoff({ initialMs: 500, maxMs: 10_000 });
  private readonly now: () => number;

  constructor(
    private readonly store: MembershipStore,
    private readonly opts: PublisherOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Ensures the key, reads what is published, then publishes toward the target. */
  async start(): Promise<void> {
    await this.store.ensureKey(randomBytes(32));
    await this.reread();
    if (this.current) this.opts.published?.(this.current);
    this.started = true;
    this.kick();
  }

  stop(): void {
    this.started = false;
    clearTimeout(this.timer);
  }

  /** The roster the agents should converge on; published step by step. */
  setTarget(target: Roster): void {
    if (this.target && sameRoster(this.target, target)) return;
    this.target = target;
    this.kick();
  }

  /** What the agents were last told. */
  published(): Roster | undefined {
    return this.current;
  }

  private async reread(): Promise<void> {
    const p = await this.store.readRoster();
    this.current = p.roster;
    this.resourceVersion = p.resourceVersion;
  }

  private kick(): void {
    if (!this.started) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    clearTimeout(this.timer);
    setImmediate(() => void this.run());
  }

  private async run(): Promise<void> {
    let wakeIn: number | undefined;
    try {
      do {
        this.again = false;
        wakeIn = await this.once();
      } while (this.again);
      this.retry.reset();
    } catch (err) {
      wakeIn = this.retry.next();
      this.opts.log?.("warn", "L2 roster write failed; retrying", { err: String(err), retryInMs: wakeIn });
      if ((err as { status?: number }).status === 409) await this.reread().catch(() => undefined);
    } finally {
      this.running = false;
    }
    if (wakeIn !== undefined && this.started) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.kick(), wakeIn);
      this.timer.unref?.();
    }
  }

  /** One planning step and its write; returns when to plan again (undefined: at the next change). */
  private async once(): Promise<number | undefined> {
    const target = this.target;
    if (!target) return undefined;
    const now = this.now();
    // With a roster in place but none ever changed by us (a restart), the pause runs from now.
    if (this.current && this.lastVoterChangeAt === -Infinity) this.lastVoterChangeAt = now;
    const plan = planRoster(this.current, this.lastVoterChangeAt, target, now, this.opts.stepMs);
    if (plan.publish) {
      const text = rosterText(plan.publish);
      const fresh = this.current === undefined && this.resourceVersion === undefined;
      this.resourceVersion = await this.store.writeRoster(text, fresh ? undefined : this.resourceVersion);
      this.current = plan.publish;
      if (plan.voterChange) this.lastVoterChangeAt = now;
      this.opts.log?.("info", "L2 roster published", {
        voters: plan.publish.voters,
        tiebreaker: plan.publish.tiebreaker,
        target: target.voters,
      });
      this.opts.published?.(plan.publish);
    }
    return plan.againInMs;
  }
}

/** The ConfigMap's roster, as the store reads it (a missing or broken one is none). */
export const rosterFromConfigMap = (cm: { data?: Record<string, string> } | undefined): Roster | undefined =>
  parseRoster(cm?.data?.[ROSTER_KEY]);
