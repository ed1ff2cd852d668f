/**
 * Reads a Kubernetes watch response: one JSON event per line, possibly split across
 * chunks anywhere (even inside a multi-byte character). Shared by the controller's and
 * the agent's API clients, which differ in how they authenticate, not in how they watch.
 */
import type { ClientRequest, IncomingMessage } from "node:http";
import { StringDecoder } from "node:string_decoder";

export interface WatchEvent<T = unknown> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: T;
}

/**
 * A watch asked for with timeoutSeconds=300 and bookmarks hears from the server at least
 * every few minutes. Silence longer than this means the connection is gone without a
 * FIN or RST (a half-open TCP connection after a network failure), and the cache would
 * go stale without noticing.
 */
export const WATCH_SILENCE_MS = 330_000;

/**
 * Sends `req` and hands each event to `onEvent` until the server ends the stream
 * (resolves) or it fails (rejects), including after `silenceMs` without a byte.
 * `signal.abort` is set to cut the stream.
 */
export function streamWatchEvents<T>(
  req: ClientRequest,
  onEvent: (e: WatchEvent<T>) => void,
  signal: { abort?: () => void },
  statusError: (status: number) => Error,
  silenceMs = WATCH_SILENCE_MS,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    signal.abort = () => req.destroy();
    req.setTimeout(silenceMs, () => req.destroy(new Error(`watch stream silent for ${silenceMs} ms`)));
    req.on("response", (res: IncomingMessage) => {
      if ((res.statusCode ?? 0) >= 300) {
        res.resume();
        return reject(statusError(res.statusCode ?? 0));
      }
      const decoder = new StringDecoder("utf8");
      let partial = "";
      res.on("data", (c: Buffer) => {
        partial += decoder.write(c);
        let nl: number;
        while ((nl = partial.indexOf("\n")) >= 0) {
          const line = partial.slice(0, nl);
          partial = partial.slice(nl + 1);
          if (!line.trim()) continue;
          try {
            onEvent(JSON.parse(line) as WatchEvent<T>);
          } catch (err) {
            req.destroy(err as Error); // a torn or malformed line: the watcher lists again
          }
        }
      });
      res.on("end", () => resolve());
      res.on("error", reject);
      res.on("close", () => resolve());
    });
    req.on("error", reject);
    req.end();
  });
}
