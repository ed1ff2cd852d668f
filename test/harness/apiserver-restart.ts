/**
 * Restarts only the kube-apiserver of a control plane that hack/control-plane.sh
 * started, keeping etcd and its data: the fault "the API server restarts".
 *
 * `control-plane.sh up` cannot do this: with etcd still running it stops at "port
 * in use", and it always starts etcd from an empty data dir. So the API server is
 * started again with the exact command line it ran with (read from /proc), its
 * output appended to the same log, and its new pid written to the same pid file,
 * so `control-plane.sh down` still stops it.
 */
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { get } from "node:https";
import { join } from "node:path";
import { isAlive } from "./local-cluster";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function ready(port: number, ca: string, token: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get(
      { host: "127.0.0.1", port, path: "/readyz", ca, headers: { Authorization: `Bearer ${token}` }, timeout: 1000 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
  });
}

export interface ApiServerRestart {
  /** From the signal to the old process until /readyz answers 200 again. */
  downMs: number;
  pid: number;
}

/**
 * Stops the API server with `signal` (SIGKILL after `graceMs` if it is still shutting
 * down: with watches open it drains for up to a minute), starts it again, and waits
 * until it is ready.
 */
export async function restartApiServer(
  stateDir: string,
  apiPort: number,
  signal: "SIGTERM" | "SIGKILL" = "SIGTERM",
  graceMs = 30_000,
  timeoutMs = 90_000,
): Promise<ApiServerRestart> {
  const pidFile = join(stateDir, "apiserver.pid");
  const oldPid = Number(readFileSync(pidFile, "utf8"));
  const argv = readFileSync(`/proc/${oldPid}/cmdline`, "utf8")
    .split("\0")
    .filter((a) => a !== "");
  if (!argv[0]?.endsWith("kube-apiserver")) throw new Error(`pid ${oldPid} in ${pidFile} is not a kube-apiserver`);
  const started = Date.now();
  process.kill(oldPid, signal);
  while (isAlive(oldPid)) {
    if (Date.now() - started > graceMs) process.kill(oldPid, "SIGKILL");
    await sleep(50);
  }
  const log = openSync(join(stateDir, "apiserver.log"), "a");
  const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", log, log], detached: true });
  closeSync(log);
  child.unref();
  writeFileSync(pidFile, String(child.pid));
  const ca = readFileSync(join(stateDir, "pki", "ca.crt"), "utf8");
  const token = readFileSync(join(stateDir, "pki", "admin.token"), "utf8").trim();
  while (!(await ready(apiPort, ca, token))) {
    if (child.exitCode !== null)
      throw new Error(`kube-apiserver exited with ${child.exitCode}; see ${stateDir}/apiserver.log`);
    if (Date.now() - started > timeoutMs) throw new Error(`kube-apiserver not ready ${timeoutMs} ms after a restart`);
    await sleep(100);
  }
  return { downMs: Date.now() - started, pid: child.pid! };
}
