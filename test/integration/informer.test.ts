/**
 * The Informer (list+watch cache) and the relay the controller's cluster cache builds on,
 * against the real API server: paged lists, watch events, and a lost watch whose
 * missed changes (a deletion included) still reach the consumer after the relist.
 *
 * The outage is injected at the client boundary (`Partition` below wraps the real
 * client and refuses requests while cut): this machine has one API server on loopback,
 * and stopping it would break every other suite sharing it.
 */
import { KubeHttp } from "../../capabilities/shared/kube/http";
import {
  Informer,
  type KubeObject,
  type ListWatchClient,
  type WatchEvent,
} from "../../capabilities/shared/kube/informer";
import { relayChanges } from "../../capabilities/shared/kube/relay";
import { until } from "../harness/wait";

const ns = "informer-test";
const label = "suite=informer";
const path = `/api/v1/namespaces/${ns}/configmaps?labelSelector=${encodeURIComponent(label)}`;
const COUNT = 620; // more than one page (500)

class Partition implements ListWatchClient {
  private cut = false;
  private streams = new Set<{ abort?: () => void }>();
  constructor(private readonly real: KubeHttp) {}
  send<T>(method: string, p: string, body?: unknown, contentType?: string, timeoutMs?: number): Promise<T> {
    if (this.cut) return Promise.reject(new Error("partitioned"));
    return this.real.send<T>(method, p, body, contentType, timeoutMs);
  }
  async stream(p: string, onEvent: (e: WatchEvent) => void, signal: { abort?: () => void }): Promise<void> {
    if (this.cut) throw new Error("partitioned");
    this.streams.add(signal);
    try {
      await this.real.stream(p, onEvent, signal);
      if (this.cut) throw new Error("partitioned"); // cut mid-stream: a lost connection, not a clean end
    } finally {
      this.streams.delete(signal);
    }
  }
  partition(): void {
    this.cut = true;
    for (const s of this.streams) s.abort?.();
  }
  heal(): void {
    this.cut = false;
  }
}

const http = new KubeHttp(undefined, 16);
const cm = (name: string, data: Record<string, string> = { v: "0" }) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, labels: { suite: "informer" } },
  data,
});

beforeAll(async () => {
  await http.send("POST", "/api/v1/namespaces", { metadata: { name: ns } }).catch(() => undefined);
  await Promise.all(
    Array.from({ length: COUNT }, (_, i) => http.send("POST", `/api/v1/namespaces/${ns}/configmaps`, cm(`cm-${i}`))),
  );
});

afterAll(async () => {
  await http.send("DELETE", `/api/v1/namespaces/${ns}/configmaps?labelSelector=${encodeURIComponent(label)}`);
  http.close();
});

describe("Informer + relay on the real API server", () => {
  const client = new Partition(http);
  const seen: string[] = [];
  let informer: Informer<KubeObject & { data?: Record<string, string> }>;

  beforeAll(async () => {
    informer = new Informer(client, path, () => undefined);
    informer.listen(relayChanges(informer.items, (o, phase) => seen.push(`${phase} ${o.metadata!.name}`)));
    informer.start();
    await informer.whenSynced();
  });
  afterAll(() => informer.stop());

  it("lists every object across pages, without managedFields, and reports no events for the first list", () => {
    expect(informer.items.size).toBe(COUNT);
    const one = informer.items.get(`${ns}/cm-7`) as { metadata: { managedFields?: unknown } };
    expect(one.metadata.managedFields).toBeUndefined();
    expect(seen).toEqual([]);
  });

  it("follows creates, updates and deletes as they happen", async () => {
    await http.send("POST", `/api/v1/namespaces/${ns}/configmaps`, cm("late"));
    await http.mergePatch(`/api/v1/namespaces/${ns}/configmaps/cm-3`, { data: { v: "1" } });
    await http.send("DELETE", `/api/v1/namespaces/${ns}/configmaps/cm-4`);
    await until("three events", async () => (seen.length >= 3 ? true : undefined));
    expect(seen).toEqual(["upsert late", "upsert cm-3", "delete cm-4"]);
    expect(informer.items.get(`${ns}/cm-3`)?.data).toEqual({ v: "1" });
    expect(informer.items.has(`${ns}/cm-4`)).toBe(false);
  });

  it("after a lost watch, relists and reports exactly what changed meanwhile", async () => {
    seen.length = 0;
    client.partition();
    await http.send("DELETE", `/api/v1/namespaces/${ns}/configmaps/cm-5`);
    await http.mergePatch(`/api/v1/namespaces/${ns}/configmaps/cm-6`, { data: { v: "2" } });
    await http.send("POST", `/api/v1/namespaces/${ns}/configmaps`, cm("while-cut"));
    client.heal();
    await until("the relist's changes", async () => (seen.length >= 3 ? true : undefined), 20_000);
    expect(seen.sort()).toEqual(["delete cm-5", "upsert cm-6", "upsert while-cut"]);
    expect(informer.items.size).toBe(COUNT); // +late -cm-4 -cm-5 +while-cut
    expect(informer.items.get(`${ns}/cm-6`)?.data).toEqual({ v: "2" });
  });
});
