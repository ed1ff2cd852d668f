/**
 * One watch per kind for the whole module, fanned out to every controller that needs
 * it (the allocator, L2 election, BGP planning). The cluster cache (cluster-cache.ts)
 * emits here; subscribe rather than adding a Pepr Watch binding, which would be a
 * second API watch with a second full copy of every object.
 */
import type { V1EndpointSlice, V1Node, V1Service } from "@kubernetes/client-node";
import { countUpdate } from "./metrics";

export type WatchPhase = "upsert" | "delete";
export type WatchHandler<T> = (obj: T, phase: WatchPhase) => void;

export interface Fanout<T> {
  subscribe(handler: WatchHandler<T>): void;
  emit(obj: T, phase: WatchPhase): void;
}

function fanout<T>(): Fanout<T> {
  const handlers: WatchHandler<T>[] = [];
  return {
    subscribe: (handler) => void handlers.push(handler),
    emit: (obj, phase) => {
      let ok = true;
      // One failing subscriber must not starve the others.
      for (const h of handlers) {
        try {
          h(obj, phase);
        } catch {
          ok = false; // the subscriber logs its own errors
        }
      }
      countUpdate(ok);
    },
  };
}

export const nodeEvents = fanout<V1Node>();
export const serviceEvents = fanout<V1Service>();
export const endpointSliceEvents = fanout<V1EndpointSlice>();
