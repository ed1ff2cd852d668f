/**
 * The allocator as it runs in the watcher (or `pepr dev`): one engine, one
 * Service controller, fed by the capability's Watch bindings.
 */
import type { V1Service } from "@kubernetes/client-node";
import { Log } from "pepr";
import { Allocator } from "../shared/allocator/allocator";
import { parseConfig, type Config } from "../shared/config";
import { configChanged, onConfigChanged } from "../shared/kube/config-changes";
import { readConfig } from "../shared/kube/config-source";
import { reportConfigurationState } from "../shared/kube/configuration-state";
import { settings } from "../shared/settings";
import { serviceEvents } from "../shared/kube/watch-fanout";
import { cachedServices } from "../shared/kube/cluster-cache";
import { KubeServiceWriter } from "./kube-writer";
import { ServiceController } from "./service-controller";

let controller: ServiceController | undefined;
const log = Log.child({ component: "allocator" });

/**
 * Initial load: configuration, namespaces and every Service (from the cluster cache,
 * already synced), before any event is acted on.
 */
export async function startAllocator(): Promise<void> {
  const engine = new Allocator();
  controller = new ServiceController(engine, new KubeServiceWriter(engine, settings.namespace), {
    loadBalancerClass: settings.loadBalancerClass,
    log: (msg, extra) => log.warn(extra ?? {}, msg),
  });
  const input = await readConfig(settings.namespace);
  const config = await applyConfig(input);
  const services = cachedServices();
  const namespaces = new Map(input.namespaces!.map((n) => [n.name, n.labels ?? {}]));
  controller.load(config?.pools ?? [], services, namespaces);
  log.info({ services: services.length, pools: config?.pools.length ?? 0 }, "allocator loaded");
}

/** Parses the configuration and reports the outcome; undefined keeps the last good one in force. */
async function applyConfig(input: Awaited<ReturnType<typeof readConfig>>): Promise<Config | undefined> {
  // Namespace labels are matched live, from the controller's own view (onNamespace), so
  // the pools are parsed without them: a label change needs no configuration re-read.
  const parsed = parseConfig({ ...input, namespaces: undefined });
  await reportConfigurationState(
    "controller",
    "poolReconcilerValid",
    parsed.ok ? [] : parsed.errors.map((e) => e.message),
  );
  if (!parsed.ok) {
    log.error({ errors: parsed.errors.map((e) => e.message) }, "configuration rejected; keeping the last good one");
    return undefined;
  }
  return parsed.config;
}

async function reloadConfig(): Promise<void> {
  if (!controller) return;
  try {
    const config = await applyConfig(await readConfig(settings.namespace));
    // An invalid configuration keeps the last good one in force: resume with it.
    if (config) controller.onPools(config.pools);
    else controller.releaseHold();
  } catch (err) {
    log.error({ err }, "reading the configuration failed; will retry");
    configChanged();
  }
}
onConfigChanged({ pending: () => controller?.holdForConfig(), changed: () => void reloadConfig() });

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
