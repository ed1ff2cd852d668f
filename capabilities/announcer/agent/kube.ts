/**
 * The agent's API client: JSON requests with a deadline (a Lease renewal that hangs must
 * not look like one still in flight) and list+watch streams. Written against node:https
 * directly so that the agent controls every timeout and reconnect itself: its safety
 * (self-fencing) depends on knowing when it has lost the API server.
 */
import { Agent, request } from "node:https";
import type { IncomingMessage } from "node:http";
import { loadCredentials, type Credentials } from "./credentials";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status}: ${body.slice(0, 300)}`);
  }
}

export class AgentKube {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 8 });
  /** Watches get their own connections so a stuck stream never delays a renewal. */
  private readonly watchAgent = new Agent({ keepAlive: false });

  constructor(private readonly credentials: Credentials = loadCredentials()) {}

  private async open(method: string, path: string, headers: Record<string, string | number>, agent: Agent): Promise<ReturnType<typeof request>> {
    const { server, tls } = this.credentials;
    const authorization = this.credentials.authorization();
    return request({
      ...tls,
      agent,
      method,
      // URL.hostname keeps an IPv6 literal's brackets; node:https wants it bare.
      hostname: server.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: server.port || 443,
      path: `${server.pathname.replace(/\/$/, "")}${path}`,
      headers: { Accept: "application/json", ...(authorization ? { Authorization: authorization } : {}), ...headers },
    });
  }

  /** One JSON request that fails after `timeoutMs`. */
  async send<T>(method: string, path: string, body?: unknown, contentType = "application/json", timeoutMs = 5000): Promise<T> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = payload ? { "Content-Type": contentType, "Content-Length": payload.length } : {};
    const req = await this.open(method, path, headers, this.agent);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)), timeoutMs);
      req.on("response", (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString("utf8");
          if ((res.statusCode ?? 0) >= 300) return reject(new ApiError(res.statusCode ?? 0, text, `${method} ${path}`));
          resolve((text ? JSON.parse(text) : undefined) as T);
        });
        res.on("error", (e) => {
          clearTimeout(timer);
          reject(e);
        });
      });
      req.on("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
      req.end(payload);
    });
  }

  /**
   * Streams watch events (one JSON object per line) until the server ends the stream or
   * it errors; `onEvent` gets each parsed event. Resolves when the stream ends.
   */
  async stream(path: string, onEvent: (e: WatchEvent) => void, signal: { abort?: () => void }): Promise<void> {
    const req = await this.open("GET", path, {}, this.watchAgent);
    return new Promise<void>((resolve, reject) => {
      signal.abort = () => req.destroy();
      req.on("response", (res: IncomingMessage) => {
        if ((res.statusCode ?? 0) >= 300) {
          res.resume();
          return reject(new ApiError(res.statusCode ?? 0, "", `watch ${path}`));
        }
        let partial = "";
        res.on("data", (c: Buffer) => {
          partial += c.toString("utf8");
          let nl: number;
          while ((nl = partial.indexOf("\n")) >= 0) {
            const line = partial.slice(0, nl);
            partial = partial.slice(nl + 1);
            if (line.trim()) onEvent(JSON.parse(line) as WatchEvent);
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

  close(): void {
    this.agent.destroy();
    this.watchAgent.destroy();
  }
}

export interface KubeObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}

export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: KubeObject & { code?: number };
}

const objKey = (o: KubeObject): string => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
const LIST_PAGE = 500;

/**
 * Drops what no agent decision reads but every cached object carries: managedFields and
 * kubectl's last-applied copy often outweigh the rest of a Service.
 */
function slim<T extends KubeObject>(o: T): T {
  const m = o.metadata as (KubeObject["metadata"] & { managedFields?: unknown }) | undefined;
  if (m?.managedFields) delete m.managedFields;
  if (m?.annotations?.[LAST_APPLIED] !== undefined) delete m.annotations[LAST_APPLIED];
  return o;
}

/**
 * A list+watch cache of one resource collection. `onChange` runs after every change to
 * the cache (list or event). `syncedAt` is when the last full list completed: the agent
 * uses it to know its view is fresher than a moment it lost the API server.
 */
/** One watch event as cached; a full (re)list is reported without one. */
export interface CacheEvent<T> {
  type: "ADDED" | "MODIFIED" | "DELETED";
  object: T;
}
export type ChangeListener<T> = (event?: CacheEvent<T>) => void;

export class Informer<T extends KubeObject> {
  readonly items = new Map<string, T>();
  syncedAt = 0;
  private stopped = false;
  private abort: { abort?: () => void } = {};
  private restartRequested = false;
  private wake?: () => void;
  private readonly listeners: Array<ChangeListener<T>>;

  /**
   * `project` turns each object from the API into what is cached (default: the object
   * without managedFields and kubectl's last-applied copy).
   */
  constructor(
    private readonly kube: AgentKube,
    private readonly path: string,
    onChange: ChangeListener<T>,
    private readonly log: (msg: string) => void = () => {},
    private readonly project: (o: KubeObject) => KubeObject = slim,
  ) {
    this.listeners = [onChange];
  }

  /**
   * Lists in pages of LIST_PAGE, projecting each page as it arrives, so a cluster with
   * tens of thousands of objects never has to fit in one response body. All pages are
   * one snapshot (the API server's continue token); an expired token (410) relists.
   */
  private async listAll(): Promise<{ items: Map<string, T>; resourceVersion: string }> {
    const items = new Map<string, T>();
    const sep = this.path.includes("?") ? "&" : "?";
    let resourceVersion = "";
    let cont: string | undefined;
    do {
      const page = await this.kube.send<{ items: KubeObject[]; metadata: { resourceVersion: string; continue?: string } }>(
        "GET",
        `${this.path}${sep}limit=${LIST_PAGE}${cont ? `&continue=${encodeURIComponent(cont)}` : ""}`,
        undefined,
        undefined,
        10_000,
      );
      for (const item of page.items) items.set(objKey(item), this.project(item) as T);
      resourceVersion = page.metadata.resourceVersion;
      cont = page.metadata.continue || undefined;
    } while (cont);
    return { items, resourceVersion };
  }

  /** One more callback after every change (one cache serving several consumers). */
  listen(listener: ChangeListener<T>): void {
    this.listeners.push(listener);
  }

  private changed(event?: CacheEvent<T>): void {
    for (const l of this.listeners) l(event);
  }

  start(): void {
    void this.loop();
  }

  /** Drops the watch and lists again (after losing the API server, the stream may be stale). */
  relist(): void {
    this.restartRequested = true;
    this.abort.abort?.();
    this.wake?.(); // cut a retry back-off short too
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort?.();
  }

  private async loop(): Promise<void> {
    let delay = 100;
    while (!this.stopped) {
      try {
        this.restartRequested = false;
        const list = await this.listAll();
        this.items.clear();
        for (const [key, item] of list.items) this.items.set(key, item);
        this.syncedAt = Date.now();
        this.changed();
        delay = 100;
        if (this.restartRequested) continue;
        const sep = this.path.includes("?") ? "&" : "?";
        await this.kube.stream(
          `${this.path}${sep}watch=1&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion=${list.resourceVersion}`,
          (e) => {
            if (e.type === "ERROR") return this.abort.abort?.(); // 410 Gone and friends: list again
            if (e.type === "BOOKMARK") return;
            const object = this.project(e.object) as T;
            if (e.type === "DELETED") this.items.delete(objKey(e.object));
            else this.items.set(objKey(e.object), object);
            this.changed({ type: e.type, object });
          },
          this.abort,
        );
      } catch (err) {
        if (this.stopped) return;
        this.log(`${this.path}: ${(err as Error).message}; retrying in ${delay} ms`);
        await new Promise<void>((r) => {
          const t = setTimeout(r, delay);
          this.wake = () => {
            clearTimeout(t);
            r();
          };
        });
        this.wake = undefined;
        delay = Math.min(delay * 2, 1000);
      }
    }
  }
}
