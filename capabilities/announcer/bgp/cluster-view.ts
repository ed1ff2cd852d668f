/**
 * The controller's in-memory copy of the objects BGP planning reads (Nodes,
 * Services, EndpointSlices), loaded from the cluster cache and then fed by its
 * events. A copy older than the one held is ignored. No tombstones: the load is a
 * snapshot of the same cache the events come from, so it cannot hold an object whose
 * deletion was already delivered (and tombstones would grow with every deletion).
 */
import type { WatchPhase } from "../../shared/kube/watch-fanout";

interface Versioned {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

const keyOf = (o: Versioned): string => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
const rv = (o: Versioned): number => Number(o.metadata?.resourceVersion ?? 0) || 0;

export class ObjectCache<T extends Versioned> {
  private readonly items = new Map<string, T>();

  /** True when the cache changed. */
  apply(obj: T, phase: WatchPhase): boolean {
    const key = keyOf(obj);
    const known = this.items.get(key);
    if (known && rv(known) > rv(obj)) return false;
    if (phase === "delete") return this.items.delete(key);
    this.items.set(key, obj);
    return true;
  }

  values(): T[] {
    return [...this.items.values()];
  }

  get(namespace: string, name: string): T | undefined {
    return this.items.get(`${namespace}/${name}`);
  }
}
