/**
 * Retries an API call through the failures that pass on their own: a freshly
 * started API server answering 429 "storage is (re)initializing", 5xx during
 * an upgrade, a dropped connection. Anything else (403, 422, ...) is a real
 * error and is thrown at once.
 */
import { Backoff } from "../backoff";

export function isTransient(err: unknown): boolean {
  const status =
    (err as { status?: number; statusCode?: number })?.status ?? (err as { statusCode?: number })?.statusCode;
  if (status === undefined) return true; // no HTTP answer at all: the connection failed
  return status === 429 || status >= 500;
}

export interface RetryOptions {
  /** Default: jittered, from a 200 ms ceiling doubling to 5 s (start-up waits on it). */
  backoff?: Backoff;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function retryTransient<T>(
  fn: () => Promise<T>,
  deadlineMs = 120_000,
  opts: RetryOptions = {},
): Promise<T> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? sleepMs;
  const backoff = opts.backoff ?? new Backoff({ initialMs: 200, maxMs: 5000 });
  const deadline = now() + deadlineMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      const delay = backoff.next();
      if (!isTransient(err) || now() + delay > deadline) throw err;
      await sleep(delay);
    }
  }
}
