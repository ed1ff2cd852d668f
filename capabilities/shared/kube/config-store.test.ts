/**
 * The configuration store's publishing rules. The API client is a FAKE (an in-memory
 * ListWatchClient: lists from a map, watch events pushed by the test), because these
 * tests are about when the store publishes and what; the store against the real API
 * server, through a restart with an invalid object, is test/integration/config-faults.test.ts.
 */
import type { KubeObject, ListWatchClient, WatchEvent } from "./informer";
import { ConfigStore, type ConfigSnapshot } from "./config-store";

type Obj = KubeObject & {
  metadata: { name: string; uid: string; generation: number };
  spec?: unknown;
  status?: unknown;
};

class MemoryApi implements ListWatchClient {
  readonly objects = new Map<string, Obj[]>();
  private readonly watchers = new Map<string, (e: WatchEvent) => void>();
  private readonly heldLists = new Map<string, () => void>();
  holdLists = new Set<string>();
  private rv = 1;

  async send<T>(_method: string, path: string): Promise<T> {
    const plural = /\/([a-z0-9]+)\?/.exec(path)![1];
    if (this.holdLists.has(plural)) await new Promise<void>((resolve) => this.heldLists.set(plural, resolve));
    return { items: this.objects.get(plural) ?? [], metadata: { resourceVersion: String(this.rv) } } as T;
  }

  stream(path: string, onEvent: (e: WatchEvent) => void, signal: { abort?: () => void }): Promise<void> {
    const plural = /\/([a-z0-9]+)\?/.exec(path)![1];
    this.watchers.set(plural, onEvent);
    return new Promise<void>((_resolve, reject) => (signal.abort = () => reject(new Error("aborted"))));
  }

  releaseList(plural: string): void {
    this.holdLists.delete(plural);
    this.heldLists.get(plural)?.();
  }

  push(plural: string, type: "ADDED" | "MODIFIED" | "DELETED", obj: Obj): void {
    obj.metadata.resourceVersion = String(++this.rv);
    this.watchers.get(plural)!({ type, object: obj });
  }
}

const pool = (name: string, addresses: string[], generation = 1): Obj => ({
  metadata: { name, namespace: "metallb-system", uid: `uid-${name}`, generation },
  spec: { addresses },
});
const ad = (name: string, communities: string[]): Obj => ({
  metadata: { name, namespace: "metallb-system", uid: `uid-${name}`, generation: 1 },
  spec: { communities },
});

const tick = () => new Promise((r) => setImmediate(r));

function storeOver(api: MemoryApi) {
  const store = new ConfigStore(api, "metallb-system", { settleMs: 20 });
  const published: ConfigSnapshot[] = [];
  let pending = 0;
  store.subscribe({ pending: () => pending++, changed: (s) => published.push(s) });
  store.start();
  return { store, published, pendingCount: () => pending };
}

describe("ConfigStore", () => {
  let store: ConfigStore | undefined;
  afterEach(() => store?.stop());

  it("publishes nothing until every kind has been listed: no decision on a partial configuration", async () => {
    const api = new MemoryApi();
    api.objects.set("ipaddresspools", [pool("web", ["198.51.100.0/28"])]);
    api.holdLists.add("communities");
    const s = storeOver(api);
    store = s.store;
    for (let i = 0; i < 5; i++) await tick();
    expect(s.store.current()).toBeUndefined();
    expect(s.published).toHaveLength(0);
    api.releaseList("communities");
    const first = await s.store.whenSynced();
    expect(first.pools.config.pools.map((p) => p.name)).toEqual(["web"]);
    expect(s.published).toHaveLength(1);
  });

  it("a burst of changes is one resolution, announced as pending at once; a status-only update is none", async () => {
    const api = new MemoryApi();
    const s = storeOver(api);
    store = s.store;
    await s.store.whenSynced();
    api.push("ipaddresspools", "ADDED", pool("a", ["198.51.100.0/28"]));
    expect(s.pendingCount()).toBe(1); // before any resolution: the allocator holds at once
    api.push("ipaddresspools", "ADDED", pool("b", ["203.0.113.0/28"]));
    await new Promise((r) => setTimeout(r, 60));
    expect(s.published).toHaveLength(2);
    expect(s.published[1].pools.config.pools.map((p) => p.name)).toEqual(["a", "b"]);

    const withStatus = { ...pool("a", ["198.51.100.0/28"]), status: { assignedIPv4: 3 } };
    api.push("ipaddresspools", "MODIFIED", withStatus);
    await new Promise((r) => setTimeout(r, 60));
    expect(s.published).toHaveLength(2);
  });

  it("an object turned bad falls back to its last good version; allocation never sees L2/BGP errors", async () => {
    const api = new MemoryApi();
    api.objects.set("ipaddresspools", [pool("web", ["198.51.100.0/28"])]);
    const s = storeOver(api);
    store = s.store;
    await s.store.whenSynced();
    api.push("ipaddresspools", "MODIFIED", pool("web", ["198.51.100.0/28", "banana"], 2));
    api.push("bgpadvertisements", "ADDED", ad("tagged", ["no-such-alias"]));
    await new Promise((r) => setTimeout(r, 60));
    const last = s.published[s.published.length - 1];
    expect(last.pools.disabled.map((d) => [d.name, d.fallback])).toEqual([["web", "lastGood"]]);
    expect(last.pools.config.pools.map((p) => [p.name, p.cidrs.length, p.disabled])).toEqual([["web", 1, undefined]]);
    expect(last.resolution.disabled.map((d) => `${d.kind}/${d.name}`).sort()).toEqual([
      "BGPAdvertisement/tagged",
      "IPAddressPool/web",
    ]);
  });
});
