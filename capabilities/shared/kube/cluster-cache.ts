/**
 * The controller's one copy of the cluster objects its controllers read: Services,
 * EndpointSlices and Nodes, each listed and watched once for the whole module and
 * fanned out (watch-fanout.ts) to the allocator, L2 election and BGP planning.
 *
 * Not Pepr Watch bindings: each binding is its own API watch that keeps a full copy
 * of every object, managedFields included, and a kind bound for two events is two
 * watches. Here each kind is one watch, cached without managedFields, and each
 * controller loads from `items` once the first list is in.
 */
import type { V1EndpointSlice, V1Node, V1Service } from "@kubernetes/client-node";
import { Log } from "pepr";
import { KubeHttp } from "./http";
import { Informer, type KubeObject } from "./informer";
import { relayChanges } from "./relay";
import { endpointSliceEvents, nodeEvents, serviceEvents, type Fanout } from "./watch-fanout";

const log = Log.child({ component: "cluster-cache" });

function cached<T extends KubeObject>(http: KubeHttp, path: string, events: Fanout<T>): Informer<T> {
  const informer = new Informer<T>(
    http,
    path,
    () => undefined,
    (msg) => log.warn(msg),
  );
  informer.listen(relayChanges(informer.items, (obj, phase) => events.emit(obj, phase)));
  return informer;
}

let caches:
  | {
      services: Informer<V1Service & KubeObject>;
      endpointSlices: Informer<V1EndpointSlice & KubeObject>;
      nodes: Informer<V1Node & KubeObject>;
    }
  | undefined;

/** Starts the three list+watches; resolves when each has its first list. */
export async function startClusterCache(): Promise<void> {
  if (!caches) {
    const http = new KubeHttp(undefined, 4); // lists and their watches only; writes have their own pool
    caches = {
      services: cached(http, "/api/v1/services", serviceEvents),
      endpointSlices: cached(http, "/apis/discovery.k8s.io/v1/endpointslices", endpointSliceEvents),
      nodes: cached(http, "/api/v1/nodes", nodeEvents),
    };
    for (const c of Object.values(caches)) c.start();
  }
  await Promise.all(Object.values(caches).map((c) => c.whenSynced()));
  log.info(
    {
      services: caches.services.items.size,
      endpointSlices: caches.endpointSlices.items.size,
      nodes: caches.nodes.items.size,
    },
    "cluster cache synced",
  );
}

function started() {
  if (!caches) throw new Error("the cluster cache is not started");
  return caches;
}

/** Snapshots for a controller's initial load (after startClusterCache). */
export const cachedServices = (): V1Service[] => [...started().services.items.values()];
export const cachedEndpointSlices = (): V1EndpointSlice[] => [...started().endpointSlices.items.values()];
export const cachedNodes = (): V1Node[] => [...started().nodes.items.values()];
