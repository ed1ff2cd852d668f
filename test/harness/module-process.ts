/**
 * Crash and restart the module process that `pepr dev` forked, as a node
 * failure or an OOM kill would. pepr dev removes its webhook configurations when
 * its child dies, so they are saved first and put back once the new process
 * serves again (the in-cluster admission pods would have kept serving).
 */
import { ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { kubectlOk } from "./kubectl";
import { findModuleProcess, readyMarker, repoRoot, serving } from "./local-cluster";

const webhookName = "pepr-metallb-pepr";

export interface SavedModule {
  bundle: string;
  apiPath: string;
  webhooks: string;
}

/** SIGKILLs the forked module (admission + controllers) and returns what a restart needs. */
export async function crashModule(stateDir: string): Promise<SavedModule> {
  const child = findModuleProcess(stateDir);
  const bundle = child.bundle;
  const vwc = JSON.parse(await kubectlOk(["get", "validatingwebhookconfiguration", webhookName, "-o", "json"]));
  const url: string = vwc.webhooks[0].clientConfig.url;
  const apiPath = /\/validate\/([^/?]+)/.exec(url)![1];
  for (const meta of ["resourceVersion", "uid", "creationTimestamp", "managedFields", "generation"])
    delete vwc.metadata[meta];
  process.kill(child.pid, "SIGKILL");
  // pepr dev removes its webhooks when its own child dies; a module a test restarted has
  // no pepr dev above it, so remove them here: after a crash the state is the same either way.
  await kubectlOk(["delete", "validatingwebhookconfiguration", webhookName, "--ignore-not-found"]);
  return { bundle, apiPath, webhooks: JSON.stringify(vwc) };
}

/**
 * Starts the saved bundle as its own process group, logging to `module-<name>.log` and
 * recording its pid in `module-<name>.pid` (stopModule ends it). Admission uses pepr
 * dev's insecure TLS pair, as the webhooks pepr dev registered expect.
 */
function spawnBundle(saved: SavedModule, stateDir: string, name: string, env: Record<string, string>) {
  const logPath = join(stateDir, `module-${name}.log`);
  const out = openSync(logPath, "w");
  const proc = spawn(process.execPath, [saved.bundle], {
    cwd: repoRoot,
    env: {
      ...process.env,
      SSL_KEY_PATH: "insecure-tls.key",
      SSL_CERT_PATH: "insecure-tls.crt",
      LOG_LEVEL: "info",
      ...env,
    },
    stdio: ["ignore", out, out],
    detached: true,
  });
  closeSync(out);
  proc.unref();
  writeFileSync(join(stateDir, `module-${name}.pid`), String(proc.pid));
  return { proc, logPath };
}

/** Polls until `ready()`, failing if one of `procs` exits or two minutes pass. */
async function waitReady(
  what: string,
  procs: Array<{ proc: ChildProcess; logPath: string }>,
  ready: () => Promise<boolean>,
) {
  const deadline = Date.now() + 120_000;
  while (!(await ready())) {
    for (const p of procs) if (p.proc.exitCode !== null) throw new Error(`${what} exited; see ${p.logPath}`);
    if (Date.now() > deadline) throw new Error(`${what} not ready; see ${procs.map((p) => p.logPath).join(", ")}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const logsReady = (logPath: string) => readFileSync(logPath, "utf8").includes(readyMarker);

/**
 * Puts back the webhook configurations pepr dev removed when its child died: server-side
 * under Pepr's field manager, as pepr dev created them, so later applies by that manager
 * (pepr deploy, the deploy test) own every field.
 */
const restoreWebhooks = (saved: SavedModule) =>
  kubectlOk(["apply", "--server-side", "--field-manager=pepr", "--force-conflicts", "-f", "-"], saved.webhooks);

/** Starts the same bundle again the way pepr dev does; resolves once its controller is ready. */
export async function restartModule(saved: SavedModule, stateDir: string): Promise<ChildProcess> {
  // It replaces pepr dev's child until the end of the run.
  const restarted = spawnBundle(saved, stateDir, "restart", { PEPR_MODE: "dev", PEPR_API_PATH: saved.apiPath });
  // Pepr binds its webhook routes after our start-up: until /healthz answers, a webhook
  // call gets a 404 (seen in CI right after the restart).
  await waitReady("restarted module", [restarted], async () => logsReady(restarted.logPath) && (await serving()));
  await restoreWebhooks(saved);
  return restarted.proc;
}

/** The environment `npx pepr deploy` gives the module's pods (package.json pepr.env). */
function deployedEnv(): Record<string, string> {
  return (
    (JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { pepr: { env?: Record<string, string> } })
      .pepr.env ?? {}
  );
}

/**
 * Replaces pepr dev's single process with the two a cluster runs: an admission server
 * (port 3000, where the webhooks point) and a watcher running the controllers (port
 * 3001, /healthz and /metrics only), both with the deployed environment (JSON logs,
 * package.json's pepr.env). Resolves with their pids once both serve.
 */
export async function splitModule(stateDir: string): Promise<{ admission: number; watcher: number }> {
  const saved = await crashModule(stateDir);
  const deployed = { ...deployedEnv(), PEPR_PRETTY_LOGS: "false" };
  const admission = spawnBundle(saved, stateDir, "admission", {
    ...deployed,
    PEPR_WATCH_MODE: "false",
    PEPR_API_PATH: saved.apiPath,
    METALLB_PEPR_PORT: "3000",
  });
  const watcher = spawnBundle(saved, stateDir, "watcher", {
    ...deployed,
    PEPR_WATCH_MODE: "true",
    METALLB_PEPR_PORT: "3001",
  });
  await waitReady(
    "module process",
    [admission, watcher],
    async () => logsReady(watcher.logPath) && (await serving(3000)),
  );
  await restoreWebhooks(saved);
  return { admission: admission.proc.pid!, watcher: watcher.proc.pid! };
}
