/**
 * The controller's in-memory copy of the objects BGP planning reads (Nodes,
 * Services, EndpointSlices), fed by watch events and the initial list.
 * A copy older than the one held is ignored, so a late list cannot undo an event.
 */
import type { WatchPhase } from "../../shared/kube/watch-fanout";

interface Versioned {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

const keyOf = (o: Versioned): string => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
const rv = (o: Versioned): number => Number(o.metadata?.resourceVersion ?? 0) || 0;

export class ObjectCache<T extends Versioned> {
  private readonly items = new Map<string, T>();
  /** Keys deleted with the resourceVersion of the deletion, so a stale list does not resurrect them. */
  private readonly tombstones = new Map<string, number>();

  /** True when the cache changed. */
  apply(obj: T, phase: WatchPhase): boolean {
    const key = keyOf(obj);
    const known = this.items.get(key);
    if (known && rv(known) > rv(obj)) return false;
    if (phase === "delete") {
      this.tombstones.set(key, rv(obj));
      return this.items.delete(key);
    }
    const gone = this.tombstones.get(key);
    if (gone !== undefined && gone >= rv(obj)) return false;
    this.tombstones.delete(key);
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
