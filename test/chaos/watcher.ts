/**
 * The module's watcher process (the controllers, no admission), started from the
 * built bundle as the watcher Deployment runs it: PEPR_WATCH_MODE=true, the
 * package.json pepr.env, JSON logs at info. Each start logs to its own file
 * (watcher-<n>.log) so a crash and its restart can be read side by side.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { isAlive, readyMarker, repoRoot } from "../harness/local-cluster";

export interface WatcherOptions {
  bundle: string;
  stateDir: string;
  kubeconfig: string;
  /** TLS pair for the module's own HTTPS server (/healthz, /metrics). */
  tlsKey: string;
  tlsCert: string;
  port: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function deployedEnv(): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
    pepr: { env?: Record<string, string> };
  };
  return pkg.pepr.env ?? {};
}

export class WatcherProcess {
  private proc?: ChildProcess;
  private starts = 0;
  logPath = "";

  constructor(private readonly opts: WatcherOptions) {}

  get pidFile(): string {
    return join(this.opts.stateDir, "watcher.pid");
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Starts a new incarnation; resolves once its log says the controller is ready. */
  async start(timeoutMs = 120_000): Promise<number> {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null)
      throw new Error("the watcher is already running");
    this.starts++;
    this.logPath = join(this.opts.stateDir, `watcher-${this.starts}.log`);
    const out = openSync(this.logPath, "w");
    const proc = spawn(process.execPath, [this.opts.bundle], {
      cwd: repoRoot,
      env: {
        ...process.env,
        ...deployedEnv(),
        PEPR_WATCH_MODE: "true",
        PEPR_PRETTY_LOGS: "false",
        LOG_LEVEL: "info",
        METALLB_PEPR_PORT: String(this.opts.port),
        KUBECONFIG: this.opts.kubeconfig,
        SSL_KEY_PATH: this.opts.tlsKey,
        SSL_CERT_PATH: this.opts.tlsCert,
      },
      stdio: ["ignore", out, out],
      detached: true, // its own process group: a kill reaches anything it forks
    });
    closeSync(out);
    proc.unref();
    this.proc = proc;
    writeFileSync(this.pidFile, String(proc.pid));
    const started = Date.now();
    while (!readFileSync(this.logPath, "utf8").includes(readyMarker)) {
      if (proc.exitCode !== null || proc.signalCode !== null)
        throw new Error(`the watcher exited (${proc.exitCode ?? proc.signalCode}); see ${this.logPath}`);
      if (Date.now() - started > timeoutMs)
        throw new Error(`the watcher was not ready within ${timeoutMs} ms; see ${this.logPath}`);
      await sleep(100);
    }
    return Date.now() - started;
  }

  /** SIGKILL, as an OOM kill or a node failure would; resolves once it is gone. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const pid = this.proc?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      /* already gone */
    }
    while (isAlive(pid) && this.proc!.exitCode === null && this.proc!.signalCode === null) await sleep(20);
    this.proc = undefined;
    rmSync(this.pidFile, { force: true });
  }

  /** Whether the current incarnation is still running (not crashed on its own). */
  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }
}

/** Ends a watcher a previous, aborted run left behind (by its pid file only). */
export async function killLeftoverWatcher(stateDir: string): Promise<void> {
  const file = join(stateDir, "watcher.pid");
  if (!existsSync(file)) return;
  const pid = Number(readFileSync(file, "utf8"));
  const cmdline = (): string => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      return "";
    }
  };
  // Only if that pid still runs a module bundle: pids are reused.
  if (pid > 0 && isAlive(pid) && cmdline().includes("pepr-")) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      /* gone */
    }
    for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(100);
  }
  rmSync(file, { force: true });
}
