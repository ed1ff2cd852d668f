/**
 * The chaos suite's own API client: plain HTTPS with keep-alive and the admin
 * bearer token, straight to the API server (never through the fault proxy).
 * kubectl would cost a process per call; a round makes dozens of calls.
 */
import { Agent, request } from "node:https";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status}: ${body.slice(0, 400)}`);
  }
}

export interface WatchEvent<T> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: T;
}

export interface Watch {
  /** Resolves when the stream ends, whatever the reason. */
  done: Promise<void>;
  stop(): void;
}

export class KubeClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 8 });
  private readonly url: URL;

  constructor(
    server: string,
    private readonly ca: string,
    private readonly token: string,
  ) {
    this.url = new URL(server);
  }

  private options(method: string, path: string, headers: Record<string, string>, agent: Agent | false) {
    return {
      method,
      hostname: this.url.hostname,
      port: this.url.port,
      path,
      ca: this.ca,
      agent,
      headers: { Authorization: `Bearer ${this.token}`, Accept: "application/json", ...headers },
    };
  }

  /** One request; JSON in and out. Throws ApiError for any status >= 300. */
  send<T>(
    method: string,
    path: string,
    body?: unknown,
    contentType = "application/json",
    timeoutMs = 15_000,
  ): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = payload === undefined ? {} : { "Content-Type": contentType };
    return new Promise<T>((resolve, reject) => {
      const req = request(this.options(method, path, headers, this.agent), (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const status = res.statusCode ?? 0;
          if (status >= 300) return reject(new ApiError(status, text, `${method} ${path}`));
          try {
            resolve((text ? JSON.parse(text) : {}) as T);
          } catch (err) {
            reject(err);
          }
        });
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`)));
      req.on("error", reject);
      req.end(payload);
    });
  }

  get<T>(path: string): Promise<T> {
    return this.send<T>("GET", path);
  }

  create<T>(path: string, body: unknown): Promise<T> {
    return this.send<T>("POST", path, body);
  }

  mergePatch<T>(path: string, body: unknown): Promise<T> {
    return this.send<T>("PATCH", path, body, "application/merge-patch+json");
  }

  /** DELETE that treats "already gone" as done. */
  async remove(path: string): Promise<void> {
    try {
      await this.send("DELETE", path);
    } catch (err) {
      if ((err as ApiError).status !== 404) throw err;
    }
  }

  /**
   * A watch from `resourceVersion`: one JSON object per line. `onEvent` is called for
   * each; the stream ends on server close, error, or stop().
   */
  watch<T>(path: string, resourceVersion: string, onEvent: (e: WatchEvent<T>) => void): Watch {
    const sep = path.includes("?") ? "&" : "?";
    const full = `${path}${sep}watch=1&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(resourceVersion)}`;
    let stop: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      const req = request(this.options("GET", full, {}, false), (res) => {
        if ((res.statusCode ?? 0) >= 300) {
          res.resume();
          res.on("end", () => resolve());
          return;
        }
        let buffered = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          buffered += chunk;
          let nl: number;
          while ((nl = buffered.indexOf("\n")) >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (!line) continue;
            try {
              onEvent(JSON.parse(line) as WatchEvent<T>);
            } catch {
              // A line we cannot read is skipped; the relist after the stream ends catches up.
            }
          }
        });
        res.on("end", () => resolve());
        res.on("error", () => resolve());
        res.on("close", () => resolve());
      });
      req.on("error", () => resolve());
      req.end();
      stop = () => req.destroy();
    });
    return { done, stop: () => stop() };
  }

  close(): void {
    this.agent.destroy();
  }
}
