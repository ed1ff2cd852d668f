/**
 * Turns an Informer's changes into upsert/delete calls for event-driven controllers.
 * Watch events pass through. The first list is the baseline every controller loads
 * from (`informer.items`), not a burst of events. A later relist (after a lost watch)
 * becomes the difference from the cache before it: what appeared or changed is an
 * upsert, what vanished is a delete, so a deletion missed while the watch was down
 * still reaches the controllers and frees its address.
 */
import type { CacheEvent, ChangeListener, KubeObject } from "./informer";
import type { WatchPhase } from "./watch-fanout";

const version = (o: KubeObject): string | undefined => o.metadata?.resourceVersion;

export function relayChanges<T extends KubeObject>(
  current: ReadonlyMap<string, T>,
  emit: (obj: T, phase: WatchPhase) => void,
): ChangeListener<T> {
  return (event?: CacheEvent<T>, previous?: ReadonlyMap<string, T>) => {
    if (event) return emit(event.object, event.type === "DELETED" ? "delete" : "upsert");
    if (!previous) return;
    for (const [key, obj] of current) {
      const before = previous.get(key);
      if (!before || version(before) !== version(obj)) emit(obj, "upsert");
    }
    for (const [key, obj] of previous) if (!current.has(key)) emit(obj, "delete");
  };
}
