import { relayChanges } from "./relay";
import type { KubeObject } from "./informer";

const svc = (name: string, rv: string): KubeObject => ({ metadata: { namespace: "ns", name, resourceVersion: rv } });
const key = (o: KubeObject) => `ns/${o.metadata!.name}`;
const mapOf = (...objs: KubeObject[]) => new Map(objs.map((o) => [key(o), o]));

function recorder() {
  const seen: string[] = [];
  return {
    seen,
    emit: (o: KubeObject, phase: string) => seen.push(`${phase} ${o.metadata!.name}@${o.metadata!.resourceVersion}`),
  };
}

describe("relayChanges", () => {
  it("passes watch events through as upserts and deletes", () => {
    const r = recorder();
    const relay = relayChanges(new Map(), r.emit);
    relay({ type: "ADDED", object: svc("a", "1") });
    relay({ type: "MODIFIED", object: svc("a", "2") });
    relay({ type: "DELETED", object: svc("a", "3") });
    expect(r.seen).toEqual(["upsert a@1", "upsert a@2", "delete a@3"]);
  });

  it("treats the first list as the baseline controllers load from: no events", () => {
    const r = recorder();
    const relay = relayChanges(mapOf(svc("a", "1"), svc("b", "1")), r.emit);
    relay(undefined, undefined);
    expect(r.seen).toEqual([]);
  });

  it("turns a relist into what changed while the watch was down, deletions included", () => {
    const r = recorder();
    const before = mapOf(svc("kept", "5"), svc("changed", "5"), svc("gone", "5"));
    const after = mapOf(svc("kept", "5"), svc("changed", "9"), svc("new", "8"));
    relayChanges(after, r.emit)(undefined, before);
    expect(r.seen.sort()).toEqual(["delete gone@5", "upsert changed@9", "upsert new@8"]);
  });
});
