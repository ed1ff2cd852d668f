/**
 * Crash and restart the module process that `pepr dev` forked, as a node
 * failure or an OOM kill would. pepr dev removes its webhook configurations when
 * its child dies, so they are saved first and put back once the new process
 * serves again (the in-cluster admission pods would have kept serving).
 */
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { kubectlOk } from "./kubectl";
import { readyMarker, repoRoot } from "./local-cluster";

const webhookName = "pepr-metallb-pepr";

function descendants(pid: number): Array<{ pid: number; args: string }> {
  const out = execFileSync("ps", ["-e", "-o", "pid=,ppid=,args="], { encoding: "utf8" });
  const rows = out
    .trim()
    .split("\n")
    .map((l) => {
      const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l)!;
      return { pid: Number(m[1]), ppid: Number(m[2]), args: m[3] };
    });
  const found: Array<{ pid: number; args: string }> = [];
  const walk = (p: number) => rows.filter((r) => r.ppid === p).forEach((r) => (found.push(r), walk(r.pid)));
  walk(pid);
  return found;
}

export interface SavedModule {
  bundle: string;
  apiPath: string;
  webhooks: string;
}

/** SIGKILLs the forked module (admission + controllers) and returns what a restart needs. */
export async function crashModule(stateDir: string): Promise<SavedModule> {
  const devPid = Number(readFileSync(join(stateDir, "pepr-dev.pid"), "utf8"));
  const child = descendants(devPid).find((p) => /dist\/pepr-module-[^ ]+\.js/.test(p.args));
  if (!child) throw new Error("the module process forked by pepr dev was not found");
  const bundle = /(\S*dist\/pepr-module-[^ ]+\.js)/.exec(child.args)![1];
  const vwc = JSON.parse(await kubectlOk(["get", "validatingwebhookconfiguration", webhookName, "-o", "json"]));
  const url: string = vwc.webhooks[0].clientConfig.url;
  const apiPath = /\/validate\/([^/?]+)/.exec(url)![1];
  for (const meta of ["resourceVersion", "uid", "creationTimestamp", "managedFields", "generation"])
    delete vwc.metadata[meta];
  process.kill(child.pid, "SIGKILL");
  return { bundle, apiPath, webhooks: JSON.stringify(vwc) };
}

/** Starts the same bundle again the way pepr dev does; resolves once its controller is ready. */
export async function restartModule(saved: SavedModule, stateDir: string): Promise<ChildProcess> {
  const logPath = join(stateDir, "module-restart.log");
  const out = openSync(logPath, "w");
  const proc = spawn(process.execPath, [saved.bundle], {
    cwd: repoRoot,
    env: {
      ...process.env,
      PEPR_MODE: "dev",
      PEPR_API_PATH: saved.apiPath,
      SSL_KEY_PATH: "insecure-tls.key",
      SSL_CERT_PATH: "insecure-tls.crt",
      LOG_LEVEL: "info",
    },
    stdio: ["ignore", out, out],
  });
  closeSync(out);
  const deadline = Date.now() + 120_000;
  while (!readFileSync(logPath, "utf8").includes(readyMarker)) {
    if (proc.exitCode !== null) throw new Error(`restarted module exited; see ${logPath}`);
    if (Date.now() > deadline) throw new Error(`restarted module not ready; see ${logPath}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  await kubectlOk(["apply", "-f", "-"], saved.webhooks);
  return proc;
}
