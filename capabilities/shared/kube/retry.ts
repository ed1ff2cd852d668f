/**
 * Retries an API call through the failures that pass on their own: a freshly
 * started API server answering 429 "storage is (re)initializing", 5xx during
 * an upgrade, a dropped connection. Anything else (403, 422, ...) is a real
 * error and is thrown at once.
 */
export function isTransient(err: unknown): boolean {
  const status =
    (err as { status?: number; statusCode?: number })?.status ?? (err as { statusCode?: number })?.statusCode;
  if (status === undefined) return true; // no HTTP answer at all: the connection failed
  return status === 429 || status >= 500;
}

export async function retryTransient<T>(fn: () => Promise<T>, deadlineMs = 120_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (let delay = 200; ; delay = Math.min(delay * 2, 5000)) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransient(err) || Date.now() + delay > deadline) throw err;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
