/**
 * Calls of `send` for one key go out one after another, each after the previous settled;
 * different keys run concurrently. For writes whose order matters (a resource's status
 * through a pooled HTTP client, where two requests in flight may land in either order).
 * A failed call does not hold up the next one; its error goes to its own caller.
 */
export function inOrderByKey<A extends unknown[]>(
  send: (key: string, ...args: A) => Promise<void>,
): (key: string, ...args: A) => Promise<void> {
  const tails = new Map<string, Promise<void>>();
  return (key, ...args) => {
    const done = (tails.get(key) ?? Promise.resolve()).then(() => send(key, ...args));
    const settled = done.catch(() => undefined);
    tails.set(key, settled);
    // Forget a key once its last call settled, so the map holds only keys with calls in flight.
    void settled.then(() => tails.get(key) === settled && tails.delete(key));
    return done;
  };
}
