/**
 * The real one-node cluster of hack/cluster/cluster.sh (kubelet, containerd, kube-proxy,
 * controller-manager and scheduler beside kube-apiserver and etcd, all in the network
 * namespace mlbrc-node1) as seen from a test: run commands on the node (kubectl,
 * `npx pepr deploy`) and on the LAN client (curl), and bring it up and down.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { isAlive, repoRoot } from "./local-cluster";

const run = promisify(execFile);

export const clusterDir = join(repoRoot, ".lab", "cluster");
const script = join(repoRoot, "hack", "cluster", "cluster.sh");
export const clientNamespace = "mlbrc-client";
export const nodeName = "mlbrc-node1";

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function runResult(
  cmd: string,
  args: string[],
  opts: { cwd?: string; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<Result> {
  try {
    const { stdout, stderr } = await run(cmd, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      timeout: opts.timeoutMs ?? 120_000,
      maxBuffer: 1 << 26,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number | string; stdout?: string; stderr?: string; message: string };
    return {
      code: typeof err.code === "number" ? err.code : 1,
      stdout: err.stdout ?? "",
      stderr: err.stderr || err.message,
    };
  }
}

/** Starts the cluster (building binaries and images on first use); resolves with the admin kubeconfig path. */
export async function clusterUp(agentSources?: string): Promise<string> {
  const r = await runResult("bash", [script, "up", clusterDir], {
    timeoutMs: 60 * 60_000,
    env: agentSources ? { METALLB_PEPR_SRC: agentSources } : {},
  });
  if (r.code !== 0) throw new Error(`the lab cluster did not start: ${r.stderr}`);
  return r.stdout.trim().split("\n").pop()!;
}

export async function clusterDown(): Promise<void> {
  const r = await runResult("bash", [script, "down", clusterDir], { timeoutMs: 5 * 60_000 });
  if (r.code !== 0) throw new Error(`the lab cluster did not stop cleanly: ${r.stderr}`);
}

/** A command in the node's network namespace with KUBECONFIG set, as an operator on the node runs it. */
export function onNode(args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<Result> {
  return runResult("bash", [script, "exec", clusterDir, "--", ...args], opts);
}

export function kubectl(...args: string[]): Promise<Result> {
  return onNode(["kubectl", ...args]);
}

/** kubectl that must succeed; resolves with stdout. */
export async function kubectlOk(...args: string[]): Promise<string> {
  const r = await kubectl(...args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** A command on the LAN client (network namespace mlbrc-client). */
export function onClient(args: string[], timeoutMs = 30_000): Promise<Result> {
  return runResult("ip", ["netns", "exec", clientNamespace, ...args], { timeoutMs });
}

/**
 * The module's sources as a user's checkout holds them: the files of the commit HEAD
 * (`git archive`), with node_modules linked. `npx pepr build` rewrites .ts files and
 * writes dist/, and this keeps that away from the work tree (and a `pepr dev` other suites
 * run from it), and keeps others' uncommitted edits out of what is deployed.
 */
export async function moduleCheckout(): Promise<string> {
  const dest = join(clusterDir, "module");
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  await run("bash", ["-c", 'git -C "$1" archive --format=tar HEAD | tar -x -C "$2"', "checkout", repoRoot, dest]);
  symlinkSync(join(repoRoot, "node_modules"), join(dest, "node_modules"));
  return dest;
}

/** FRR's vtysh on the lab's router (network namespace mlbrc-router): `vtysh("show bgp summary json")`. */
export function vtysh(command: string): Promise<Result> {
  return runResult("bash", [script, "vtysh", clusterDir, "--", "-c", command]);
}

/**
 * One real cluster per machine (fixed namespace names, one state directory in a work tree that
 * several people may share): a run takes this lock before `up` and drops it after `down`.
 */
const clusterLock = "/tmp/metallb-pepr-cluster.lock";

export async function acquireClusterLock(timeoutMs = 30 * 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      writeFileSync(clusterLock, String(process.pid), { flag: "wx" });
      return;
    } catch {
      const holder = Number(existsSync(clusterLock) ? readFileSync(clusterLock, "utf8") : 0);
      if (holder === process.pid) return;
      if (!holder || !isAlive(holder)) rmSync(clusterLock, { force: true });
      else if (Date.now() > deadline) throw new Error(`${clusterLock} is held by pid ${holder}`);
      else await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

export function releaseClusterLock(): void {
  if (existsSync(clusterLock) && Number(readFileSync(clusterLock, "utf8")) === process.pid) rmSync(clusterLock);
}
