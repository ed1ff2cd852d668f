/**
 * The allocator as it runs in the watcher (or `pepr dev`): one engine and one Service
 * controller, fed by the cluster cache (Services), the configuration store (pools) and
 * the Namespace binding.
 */
import type { V1Service } from "@kubernetes/client-node";
import { Log } from "pepr";
import { Allocator } from "../shared/allocator/allocator";
import { configStore, startControllerConfig } from "../shared/kube/controller-config";
import { kubeHttp } from "../shared/kube/http";
import { settings } from "../shared/settings";
import { serviceEvents } from "../shared/kube/watch-fanout";
import { cachedServices } from "../shared/kube/cluster-cache";
import { KubeServiceWriter } from "./kube-writer";
import { ServiceController } from "./service-controller";

let controller: ServiceController | undefined;
const log = Log.child({ component: "allocator" });

interface NamespaceList {
  items: Array<{ metadata?: { name?: string; labels?: Record<string, string> } }>;
}

/**
 * Initial load: the first configuration snapshot (every kind listed), namespaces and
 * every Service (from the cluster cache, already synced), before any event is acted
 * on. Nothing is decided or written before this.
 */
export async function startAllocator(): Promise<void> {
  const engine = new Allocator();
  const next = new ServiceController(engine, new KubeServiceWriter(engine, settings.namespace), {
    loadBalancerClass: settings.loadBalancerClass,
    log: (msg, extra) => log.warn(extra ?? {}, msg),
  });
  const [snapshot, namespaces] = await Promise.all([
    startControllerConfig(),
    kubeHttp().send<NamespaceList>("GET", "/api/v1/namespaces"),
  ]);
  const services = cachedServices();
  // Pools as the store holds them now: a change between the first snapshot and here is in it.
  const pools = (configStore.current() ?? snapshot).pools.config.pools;
  next.load(pools, services, new Map(namespaces.items.map((n) => [n.metadata?.name ?? "", n.metadata?.labels ?? {}])));
  controller = next;
  log.info({ services: services.length, pools: pools.length }, "allocator loaded");
}

// Namespace labels are matched live (onNamespace), so the pools are resolved without them.
configStore.subscribe({
  pending: () => controller?.holdForConfig(),
  changed: (snapshot) => controller?.onPools(snapshot.pools.config.pools),
});

serviceEvents.subscribe((svc: V1Service, phase) => {
  if (phase === "delete") controller?.onServiceDelete(svc);
  else controller?.onServiceUpsert(svc);
});

/**
 * Namespaces only matter through IPAddressPool namespaceSelectors, which the controller
 * matches against the labels it is given here; the Services of that namespace are
 * revisited. Nothing else waits: a new namespace does not hold allocation elsewhere.
 */
export const onNamespace = (name: string, labels: Record<string, string> | undefined): void => {
  controller?.onNamespace(name, labels);
};
