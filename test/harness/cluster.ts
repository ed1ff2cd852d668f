/**
 * The real one-node cluster of hack/cluster/cluster.sh (kubelet, containerd, kube-proxy,
 * controller-manager and scheduler beside kube-apiserver and etcd, all in the network
 * namespace mlbrc-node1) as seen from a test: run commands on the node (kubectl,
 * `npx pepr deploy`) and on the LAN client (curl), and bring it up and down.
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "./local-cluster";

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
  opts: { cwd?: string; timeoutMs?: number } = {},
): Promise<Result> {
  try {
    const { stdout, stderr } = await run(cmd, args, {
      cwd: opts.cwd,
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
export async function clusterUp(): Promise<string> {
  const r = await runResult("bash", [script, "up", clusterDir], { timeoutMs: 60 * 60_000 });
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
 * The module's sources as a user's checkout holds them (the tracked files, as they are
 * in the work tree), with node_modules linked: `npx pepr build` rewrites .ts files and
 * writes dist/, and this keeps that away from a `pepr dev` other suites run from the repo.
 */
export async function moduleCheckout(): Promise<string> {
  const dest = join(clusterDir, "module");
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  const { stdout } = await run("git", ["ls-files", "-z"], { cwd: repoRoot, maxBuffer: 1 << 26 });
  for (const f of stdout.split("\0").filter(Boolean)) {
    if (!existsSync(join(repoRoot, f))) continue; // deleted in the work tree
    cpSync(join(repoRoot, f), join(dest, f), { recursive: true });
  }
  symlinkSync(join(repoRoot, "node_modules"), join(dest, "node_modules"));
  return dest;
}
