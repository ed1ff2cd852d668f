/**
 * A list+watch cache of one resource collection, for the controller and the agent
 * alike: paged lists projected page by page, one watch resumed from the list's
 * resourceVersion, a relist after an ERROR event or a lost stream.
 */
import { Backoff } from "../backoff";
import type { WatchEvent as RawWatchEvent } from "./watch-stream";

export interface KubeObject {
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
}

export type WatchEvent = RawWatchEvent<KubeObject & { code?: number }>;

/** What an Informer needs from an API client: JSON requests and watch streams. */
export interface ListWatchClient {
  send<T>(method: string, path: string, body?: unknown, contentType?: string, timeoutMs?: number): Promise<T>;
  stream(path: string, onEvent: (e: WatchEvent) => void, signal: { abort?: () => void }): Promise<void>;
}

const objKey = (o: KubeObject): string => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
const LIST_PAGE = 500;

/**
 * Drops what no decision reads but every cached object carries: managedFields and
 * kubectl's last-applied copy often outweigh the rest of a Service.
 */
export function slim<T extends KubeObject>(o: T): T {
  const m = o.metadata as (KubeObject["metadata"] & { managedFields?: unknown }) | undefined;
  if (m?.managedFields) delete m.managedFields;
  if (m?.annotations?.[LAST_APPLIED] !== undefined) delete m.annotations[LAST_APPLIED];
  return o;
}

/** One watch event as cached. */
export interface CacheEvent<T> {
  type: "ADDED" | "MODIFIED" | "DELETED";
  object: T;
}
/**
 * Called after every change to the cache. A watch event comes with `event`; a full
 * (re)list comes without one, and with the cache as it was before that list
 * (`previous`, undefined for the first list) so a consumer can tell what changed
 * while the watch was down.
 */
export type ChangeListener<T> = (event?: CacheEvent<T>, previous?: ReadonlyMap<string, T>) => void;

/**
 * A list+watch cache of one resource collection, keyed "namespace/name". `syncedAt` is
 * when the last full list completed: the agent uses it to know its view is fresher
 * than a moment it lost the API server.
 *
 * Lists happen at start, after an ERROR event (410 Gone: the resourceVersion is too
 * old) or a failed stream, and on `relist()`. A stream the server ends cleanly (its
 * timeoutSeconds) is resumed from the last resourceVersion seen (bookmarks keep it
 * current), so an idle cluster costs one watch request every few minutes, not a list.
 *
 * Every retry waits a jittered, growing delay (`InformerOptions.backoff`): a failed list or
 * watch, a 410 Gone, and a watch that ends too soon. The delay starts over only after a
 * watch ran healthily for `healthyMs`, not after a list: an API server that lists fine but
 * breaks every watch (or answers each with 410) would otherwise be asked for a full list
 * every 200 ms by every node. Only `relist()` (asked for, not a failure) cuts a wait short.
 */
export interface InformerOptions {
  /** Default: from a 200 ms ceiling doubling to 30 s, full jitter. */
  backoff?: Backoff;
  /** A watch that lasted this long resets the back-off (default 30 s). */
  healthyMs?: number;
  /** Injected for tests. */
  now?: () => number;
}

export class Informer<T extends KubeObject> {
  readonly items = new Map<string, T>();
  syncedAt = 0;
  private stopped = false;
  private abort: { abort?: () => void } = {};
  private restartRequested = false;
  private wake?: () => void;
  private readonly listeners: Array<ChangeListener<T>>;
  private readonly synced: Promise<void>;
  private markSynced: () => void = () => {};
  private readonly backoff: Backoff;
  private readonly healthyMs: number;
  private readonly now: () => number;

  /**
   * `project` turns each object from the API into what is cached (default: the object
   * without managedFields and kubectl's last-applied copy).
   */
  constructor(
    private readonly kube: ListWatchClient,
    private readonly path: string,
    onChange: ChangeListener<T>,
    private readonly log: (msg: string) => void = () => {},
    private readonly project: (o: KubeObject) => KubeObject = slim,
    opts: InformerOptions = {},
  ) {
    this.backoff = opts.backoff ?? new Backoff({ initialMs: 200, maxMs: 30_000 });
    this.healthyMs = opts.healthyMs ?? 30_000;
    this.now = opts.now ?? Date.now;
    this.listeners = [onChange];
    this.synced = new Promise((resolve) => (this.markSynced = resolve));
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
      const page = await this.kube.send<{
        items: KubeObject[];
        metadata: { resourceVersion: string; continue?: string };
      }>(
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

  /** Resolves once the first full list is in `items`. */
  whenSynced(): Promise<void> {
    return this.synced;
  }

  private changed(event?: CacheEvent<T>, previous?: ReadonlyMap<string, T>): void {
    for (const l of this.listeners) l(event, previous);
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
    this.wake?.();
  }

  private async loop(): Promise<void> {
    let resourceVersion: string | undefined; // undefined: list before watching
    while (!this.stopped) {
      let watchedSince: number | undefined;
      let gone: string | undefined; // an ERROR event ended the watch (410 Gone and friends)
      let retryWhy: string | undefined; // set: wait before the next round
      try {
        if (resourceVersion === undefined || this.restartRequested) {
          this.restartRequested = false;
          const list = await this.listAll();
          const previous = this.syncedAt ? new Map(this.items) : undefined;
          this.items.clear();
          for (const [key, item] of list.items) this.items.set(key, item);
          this.syncedAt = Date.now();
          resourceVersion = list.resourceVersion;
          this.changed(undefined, previous);
          this.markSynced();
          if (this.restartRequested) continue;
        }
        const sep = this.path.includes("?") ? "&" : "?";
        watchedSince = this.now();
        await this.kube.stream(
          `${this.path}${sep}watch=1&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion=${resourceVersion}`,
          (e) => {
            if (e.type === "ERROR") {
              gone = `watch ERROR ${e.object.code ?? ""} ${(e.object as { message?: string }).message ?? ""}`.trim();
              return this.abort.abort?.(); // list again
            }
            resourceVersion = e.object.metadata?.resourceVersion ?? resourceVersion;
            if (e.type === "BOOKMARK") return;
            const object = this.project(e.object) as T;
            if (e.type === "DELETED") this.items.delete(objKey(e.object));
            else this.items.set(objKey(e.object), object);
            this.changed({ type: e.type, object });
          },
          this.abort,
        );
        if (gone) {
          resourceVersion = undefined;
          retryWhy = gone;
        } else if (this.now() - watchedSince < this.healthyMs) {
          // Resumed from the same resourceVersion (no list), but a server or proxy that
          // closes every watch at once must not be asked again in a tight loop.
          retryWhy = "watch ended early";
        }
      } catch (err) {
        if (this.stopped) return;
        resourceVersion = undefined; // a broken stream may have lost events: list again
        retryWhy = gone ?? (err as Error).message; // cutting the stream after an ERROR may fail it
      }
      if (watchedSince !== undefined && this.now() - watchedSince >= this.healthyMs) this.backoff.reset();
      if (this.restartRequested || retryWhy === undefined || this.stopped) continue;
      const delay = this.backoff.next();
      this.log(`${this.path}: ${retryWhy}; retrying in ${delay} ms`);
      await this.sleep(delay);
    }
  }

  /** Waits `ms`, or less if relist() or stop() comes first. */
  private async sleep(ms: number): Promise<void> {
    await new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      this.wake = () => {
        clearTimeout(t);
        r();
      };
    });
    this.wake = undefined;
  }
}
