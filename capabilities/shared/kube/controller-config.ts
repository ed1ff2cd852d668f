/**
 * The controller's configuration store (config-store.ts), shared by the allocator, L2
 * election and BGP planning, and its reports. Started once by pepr.ts, after the cluster
 * cache (BGP selectors are judged against the Nodes it holds).
 */
import type { V1Node } from "@kubernetes/client-node";
import { Log } from "pepr";
import { settings } from "../settings";
import { poolsInUse } from "../config/pool-holders";
import { cachedNodes, cachedServices } from "./cluster-cache";
import { ConfigReporter } from "./config-report";
import { ConfigStore, type ConfigSnapshot } from "./config-store";
import { KubeHttp } from "./http";
import { nodeEvents } from "./watch-fanout";

const log = Log.child({ component: "config-store" });

const nodeLabels = (nodes: readonly V1Node[]) =>
  nodes.map((n) => ({ name: n.metadata?.name ?? "", labels: n.metadata?.labels ?? {} }));

// Six watches and their lists: a pool of its own, so writes never wait behind a stream.
export const configStore = new ConfigStore(new KubeHttp(undefined, 8), settings.namespace, {
  log: (msg) => log.warn(msg),
  nodes: () => nodeLabels(cachedNodes()),
  poolsInUse: () => poolsInUse(cachedServices()),
});

const reporter = new ConfigReporter(
  settings.namespace,
  (msg, extra) => log.warn(extra ?? {}, msg),
  (msg, extra) => log.info(extra ?? {}, msg),
);
configStore.subscribe({ changed: (snapshot) => void reporter.report(snapshot) });

// Node labels decide which BGPPeers and advertisements may share nodes: resolve again
// when they change (not on every status heartbeat).
let labelPrint = "";
nodeEvents.subscribe(() => {
  const print = JSON.stringify(
    nodeLabels(cachedNodes())
      .map((n) => [n.name, Object.entries(n.labels).sort()])
      .sort(),
  );
  if (print === labelPrint) return;
  labelPrint = print;
  configStore.refresh();
});

let started: Promise<ConfigSnapshot> | undefined;

/** Starts the store once; resolves with the first snapshot (every kind listed). */
export function startControllerConfig(): Promise<ConfigSnapshot> {
  if (!started) {
    configStore.start();
    started = configStore.whenSynced().then((snapshot) => {
      log.info(
        { pools: snapshot.pools.config.pools.length, disabled: snapshot.resolution.disabled.length },
        "configuration loaded",
      );
      return snapshot;
    });
  }
  return started;
}
