/**
 * Exponential back-off with full jitter, for every retry in the controller and the
 * agent. Full jitter (a uniform draw in [0, ceiling)) rather than a fixed doubling:
 * after an API server restart, every node and controller retries at once, and a
 * shared schedule would bring them back in lock-step waves.
 *
 * The ceiling doubles per failure from `initialMs` up to `maxMs`; a draw is never
 * below `minMs` (a retry of zero would spin). `reset()` after a success.
 */
export interface BackoffOptions {
  /** The ceiling after the first failure. */
  initialMs: number;
  /** The ceiling never grows past this. */
  maxMs: number;
  /** The smallest delay handed out (default: a tenth of initialMs). */
  minMs?: number;
  /** Injected for tests; Math.random by default. */
  random?: () => number;
}

export class Backoff {
  private failures = 0;

  constructor(private readonly opts: BackoffOptions) {}

  /** The delay before the next try; each call counts one more failure. */
  next(): number {
    const ceiling = Math.min(this.opts.maxMs, this.opts.initialMs * 2 ** Math.min(this.failures, 30));
    this.failures++;
    const floor = Math.min(this.opts.minMs ?? this.opts.initialMs / 10, ceiling);
    return Math.round(floor + (ceiling - floor) * (this.opts.random ?? Math.random)());
  }

  /** Failures since the last reset. */
  get attempts(): number {
    return this.failures;
  }

  reset(): void {
    this.failures = 0;
  }
}
