/**
 * Retries of a session's BGP password read (its Secret, or its BGPPeer for a plain
 * password). A failed read (the API server restarting, a 429, a 5xx, RBAC being
 * rolled) says nothing about the key a running session uses: TCP MD5 is already set on
 * its socket and the router still expects that key. So the runtime keeps a running
 * session as it is and only reads again later; each session has its own jittered,
 * growing delay (shared/backoff.ts), so a hundred sessions failing together do not
 * retry in step. A successful read resets it.
 */
import { Backoff, type BackoffOptions } from "../../../shared/backoff";

export const PASSWORD_RETRY: BackoffOptions = { initialMs: 1000, maxMs: 60_000 };

export class PasswordRetries {
  private readonly pending = new Map<string, { backoff: Backoff; timer?: NodeJS.Timeout }>();

  /** `retry` re-runs the reads (the runtime's reconcile); it is called once per due retry. */
  constructor(
    private readonly retry: () => void,
    private readonly options: BackoffOptions = PASSWORD_RETRY,
  ) {}

  /** A read for `key` failed: schedules the next one and returns its delay (ms). */
  failed(key: string): number {
    let p = this.pending.get(key);
    if (!p) this.pending.set(key, (p = { backoff: new Backoff(this.options) }));
    const delay = p.backoff.next();
    clearTimeout(p.timer);
    const entry = p;
    p.timer = setTimeout(() => {
      entry.timer = undefined;
      this.retry();
    }, delay);
    return delay;
  }

  /** Reads that failed in a row for `key` (0 after a success). */
  failures(key: string): number {
    return this.pending.get(key)?.backoff.attempts ?? 0;
  }

  /** A read for `key` succeeded, or the session is gone: no more retries for it. */
  forget(key: string): void {
    clearTimeout(this.pending.get(key)?.timer);
    this.pending.delete(key);
  }

  stop(): void {
    for (const key of [...this.pending.keys()]) this.forget(key);
  }
}
