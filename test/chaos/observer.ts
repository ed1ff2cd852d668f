/**
 * A list+watch loop for the chaos suite's own view of the cluster (Services and
 * Events), straight from the API server. It survives API server restarts: a watch
 * that ends is resumed from the last resourceVersion, and a 410 Gone (or any list
 * failure) leads to a fresh list, reported as the changes it reveals.
 */
import { KubeClient, type WatchEvent } from "./kube-client";

export interface ObjectMeta {
  metadata: { name: string; namespace?: string; uid: string; resourceVersion: string };
}

export type ChangeHandler<T> = (key: string, now: T | undefined, before: T | undefined) => void;

const keyOf = (o: ObjectMeta): string => `${o.metadata.namespace ?? ""}/${o.metadata.name}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class Observer<T extends ObjectMeta> {
  readonly objects = new Map<string, T>();
  private resourceVersion = "";
  private stopped = false;
  private current?: { stop(): void };
  private loop?: Promise<void>;
  private synced!: Promise<void>;

  constructor(
    private readonly client: KubeClient,
    /** A collection path, with any label or field selector: /api/v1/services?labelSelector=... */
    private readonly path: string,
    private readonly onChange: ChangeHandler<T>,
  ) {}

  /** Resolves after the first list. */
  start(): Promise<void> {
    let first: () => void = () => {};
    this.synced = new Promise<void>((r) => (first = r));
    this.loop = this.run(first);
    return this.synced;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.stop();
    await this.loop;
  }

  private async relist(): Promise<void> {
    const list = await this.client.get<{ metadata: { resourceVersion: string }; items: T[] }>(this.path);
    const seen = new Set<string>();
    for (const item of list.items) {
      const key = keyOf(item);
      seen.add(key);
      const before = this.objects.get(key);
      if (before?.metadata.resourceVersion === item.metadata.resourceVersion) continue;
      this.objects.set(key, item);
      this.onChange(key, item, before);
    }
    for (const [key, before] of [...this.objects]) {
      if (seen.has(key)) continue;
      this.objects.delete(key);
      this.onChange(key, undefined, before);
    }
    this.resourceVersion = list.metadata.resourceVersion;
  }

  private apply(e: WatchEvent<T>): boolean {
    if (e.type === "ERROR") return false; // 410 Gone and friends: relist
    const rv = e.object?.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (e.type === "BOOKMARK") return true;
    const key = keyOf(e.object);
    const before = this.objects.get(key);
    if (e.type === "DELETED") this.objects.delete(key);
    else this.objects.set(key, e.object);
    this.onChange(key, e.type === "DELETED" ? undefined : e.object, before);
    return true;
  }

  private async run(first: () => void): Promise<void> {
    let needList = true;
    while (!this.stopped) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
          first();
        }
        let healthy = true;
        const w = this.client.watch<T>(this.path, this.resourceVersion, (e) => {
          if (!this.apply(e)) {
            healthy = false;
            w.stop();
          }
        });
        this.current = w;
        await w.done;
        if (!healthy) needList = true;
      } catch {
        needList = true;
      }
      if (!this.stopped) await sleep(200);
    }
  }
}
