/**
 * The local system under test: a real kube-apiserver + etcd (hack/control-plane.sh)
 * and this Pepr module running against it through `pepr dev --host localhost`,
 * so the API server itself calls our admission webhooks over HTTPS.
 * Shared by Jest's global setup and by `npm start`.
 */
import { ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { get as httpsGet } from "node:https";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
/** Bundled scripts (benchmarks) run from a temp dir, so they name the root explicitly. */
export const repoRoot = process.env.METALLB_PEPR_ROOT ?? resolve(__dirname, "..", "..");

export interface ClusterOptions {
  /** Where certs, logs, pid files and the kubeconfig go. */
  stateDir: string;
  apiPort: number;
  etcdPort: number;
}

export interface RunningCluster {
  kubeconfig: string;
  kubectl: string;
  stateDir: string;
}

/** Starts etcd and kube-apiserver (building them on first use); resolves with the kubeconfig path. */
export async function startControlPlane(opts: ClusterOptions): Promise<RunningCluster> {
  const env = { ...process.env, API_PORT: String(opts.apiPort), ETCD_PORT: String(opts.etcdPort) };
  const script = join(repoRoot, "hack", "control-plane.sh");
  const { stdout } = await run("bash", [script, "up", opts.stateDir], { env, maxBuffer: 1 << 24 }).catch((e) => {
    throw new Error(`the local control plane did not start: ${e.stderr || e.message}`);
  });
  const bin = (await run("bash", [join(repoRoot, "hack", "build-control-plane.sh")])).stdout.trim();
  return { kubeconfig: stdout.trim().split("\n").pop()!, kubectl: join(bin, "kubectl"), stateDir: opts.stateDir };
}

export async function stopControlPlane(stateDir: string): Promise<void> {
  await run("bash", [join(repoRoot, "hack", "control-plane.sh"), "down", stateDir]);
}

/**
 * `pepr dev` serves on the fixed port 3000 and test runs share one control
 * plane directory, so only one test run, lab or benchmark on a machine may run
 * at a time: others wait for this lock.
 */
const devLock = "/tmp/metallb-pepr-dev.lock";

/** Re-entrant within one process: a test run takes it before its control plane and keeps it to the end. */
export async function acquireDevLock(timeoutMs = 45 * 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (existsSync(devLock) && Number(readFileSync(devLock, "utf8")) === process.pid) return;
    try {
      writeFileSync(devLock, String(process.pid), { flag: "wx" });
      return;
    } catch {
      const holder = Number(readFileSync(devLock, "utf8") || 0);
      if (!holder || !isAlive(holder)) rmSync(devLock, { force: true });
      else if (Date.now() > deadline) throw new Error(`${devLock} is held by pid ${holder}`);
      else await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** Whether a process with this pid exists (signal 0). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs the module with `pepr dev` (build, register webhooks with the API server,
 * serve admission on :3000 and run the watchers in one process). Resolves once
 * the webhook server is listening and the controller has started.
 */
export async function startModule(
  cluster: RunningCluster,
  extraEnv: Record<string, string> = {},
): Promise<ChildProcess> {
  await acquireDevLock();
  const logPath = join(cluster.stateDir, "pepr-dev.log");
  const out = openSync(logPath, "w");
  const child = spawn(join(repoRoot, "node_modules", ".bin", "pepr"), ["dev", "--host", "localhost", "--yes"], {
    cwd: repoRoot,
    env: { ...process.env, ...extraEnv, KUBECONFIG: cluster.kubeconfig },
    stdio: ["ignore", out, out],
    detached: true, // its own process group, so stopModule reaches the forked module too
  });
  closeSync(out);
  child.unref(); // stopModule ends it by pid; it must not keep Jest alive
  writeFileSync(join(cluster.stateDir, "pepr-dev.pid"), String(child.pid));
  const deadline = Date.now() + 240_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`pepr dev exited with ${child.exitCode}; see ${logPath}`);
    const log = readFileSync(logPath, "utf8");
    if (log.includes(readyMarker) && (await serving())) return child;
    await new Promise((r) => setTimeout(r, 250));
  }
  await stopGroup(child.pid!); // never leave a half-started pepr dev holding port 3000
  throw new Error(`pepr dev did not become ready within 240s; see ${logPath}`);
}

/** Whether the module's HTTPS server (webhooks, /healthz) answers on `port`; its certificate is pepr dev's own. */
export function serving(port = 3000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpsGet(
      { host: "localhost", port, path: "/healthz", rejectUnauthorized: false, timeout: 1000 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
  });
}

/** Logged by pepr.ts (at info level: LOG_LEVEL must not be above info) once start-up is done. */
export const readyMarker = "metallb-pepr controller ready";

/**
 * Stops `pepr dev` (which removes its webhook configurations on exit) and any
 * module process a test restarted in its place, each by its recorded process group.
 */
export async function stopModule(stateDir: string): Promise<void> {
  for (const file of ["module-restart.pid", "module-admission.pid", "module-watcher.pid", "pepr-dev.pid"]) {
    const pidFile = join(stateDir, file);
    if (!existsSync(pidFile)) continue;
    await stopGroup(Number(readFileSync(pidFile, "utf8")));
    rmSync(pidFile);
  }
}

export function releaseDevLock(): void {
  if (existsSync(devLock) && Number(readFileSync(devLock, "utf8")) === process.pid) rmSync(devLock);
}

async function stopGroup(pid: number): Promise<void> {
  try {
    process.kill(-pid, "SIGTERM");
  } catch {
    return;
  }
  for (let i = 0; i < 50; i++) {
    try {
      process.kill(-pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    /* already gone */
  }
}

/**
 * The module process: the one a test restarted (module-restart.pid) while it lives, else
 * the one `pepr dev` forked (it runs the bundle dist/pepr-<uuid>.js). So a test can crash
 * the module again after another test restarted it.
 */
export function findModuleProcess(stateDir: string): { pid: number; bundle: string } {
  const rows = execFileSync("ps", ["-e", "-o", "pid=,ppid=,args="], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((line) => {
      const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line)!;
      return { pid: Number(m[1]), ppid: Number(m[2]), args: m[3] };
    });
  const restartFile = join(stateDir, "module-restart.pid");
  const restarted = existsSync(restartFile) ? Number(readFileSync(restartFile, "utf8")) : 0;
  const devPid = Number(readFileSync(join(stateDir, "pepr-dev.pid"), "utf8"));
  const below = (pid: number): typeof rows => rows.filter((r) => r.ppid === pid).flatMap((r) => [r, ...below(r.pid)]);
  const candidates = restarted && isAlive(restarted) ? rows.filter((r) => r.pid === restarted) : below(devPid);
  for (const p of candidates) {
    const bundle = /(\S*dist\/pepr-[\w-]+\.js)/.exec(p.args)?.[1];
    if (bundle) return { pid: p.pid, bundle };
  }
  throw new Error("the module process forked by pepr dev was not found");
}
