/**
 * A list+watch cache of one resource collection, for the controller and the agent
 * alike: paged lists projected page by page, one watch resumed from the list's
 * resourceVersion, a relist after an ERROR event or a lost stream.
 */
import type { WatchEvent as RawWatchEvent } from "./watch-stream";

export interface KubeObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
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
 */
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
  ) {
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
  }

  private async loop(): Promise<void> {
    let delay = 100;
    let resourceVersion: string | undefined; // undefined: list before watching
    while (!this.stopped) {
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
        let gone = false;
        await this.kube.stream(
          `${this.path}${sep}watch=1&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion=${resourceVersion}`,
          (e) => {
            if (e.type === "ERROR") {
              gone = true; // 410 Gone and friends: list again
              return this.abort.abort?.();
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
        if (gone) resourceVersion = undefined;
        delay = 100;
      } catch (err) {
        if (this.stopped) return;
        resourceVersion = undefined; // a broken stream may have lost events: list again
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
