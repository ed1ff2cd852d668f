/**
 * The PeprModule: wires the capabilities. Controllers start only where they run: never
 * at build time (`pepr build` executes this file) and never in admission pods. The
 * namespace, CRDs and agent come with the install (the manifest or the chart); only
 * `pepr dev`, which has no install step, applies them first.
 */
import { setFlagsFromString } from "node:v8";
import { Log, PeprModule } from "pepr";
import cfg from "./package.json";
import { allocator } from "./capabilities/allocator";
import { startAllocator } from "./capabilities/allocator/runtime";
import { announcer } from "./capabilities/announcer";
import { startAnnouncer } from "./capabilities/announcer/runtime";
import { applyInstallManifests } from "./capabilities/shared/kube/dev-install";
import { exposeControllerMetrics } from "./capabilities/shared/kube/config-metrics";
import { retryTransient } from "./capabilities/shared/kube/retry";
import { settings } from "./capabilities/shared/settings";
import { startCpuProfileFromEnv } from "./capabilities/shared/cpu-profile";
import { startClusterCache } from "./capabilities/shared/kube/cluster-cache";
import { startWithLongKeepAlive } from "./capabilities/shared/kube/webhook-server";
import { guardAdmission } from "./capabilities/shared/kube/admission-guard";

const isBuild = process.env.PEPR_MODE === "build";
const isDev = process.env.PEPR_MODE === "dev";
const runsControllers = !isBuild && (process.env.PEPR_WATCH_MODE === "true" || isDev);

(async () => {
  if (runsControllers) {
    // The watcher holds the cluster cache: grow the heap in smaller steps and give memory
    // back after a burst (V8 reads this flag while running; NODE_OPTIONS may not carry it).
    setFlagsFromString("--optimize-for-size");
    startCpuProfileFromEnv((msg) => Log.info(msg));
    exposeControllerMetrics();
    if (isDev) await retryTransient(() => applyInstallManifests(settings));
  }
  // A Validate callback that throws answers with its cause, never Pepr's "Action failed with error: {}".
  guardAdmission([allocator, announcer]);
  const module = new PeprModule(cfg, [allocator, announcer], { deferStart: true });
  // METALLB_PEPR_PORT lets an admission and a watcher process share one host (benchmarks
  // of the deployed topology); in a cluster each is its own pod on Pepr's port 3000.
  if (!isBuild) startWithLongKeepAlive(() => module.start(Number(process.env.METALLB_PEPR_PORT) || 3000));
  if (runsControllers) {
    await startClusterCache();
    await retryTransient(startAllocator);
    await retryTransient(startAnnouncer);
    Log.info("metallb-pepr controller ready");
  }
})().catch((err) => {
  Log.error({ err }, "metallb-pepr failed to start");
  process.exit(1);
});
