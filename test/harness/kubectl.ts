/** Runs the kubectl built with the control plane against the test cluster, as a user would. */
import { execFile } from "node:child_process";
import { until } from "./wait";

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function kubectl(args: string[], input?: string): Promise<KubectlResult> {
  const bin = process.env.KUBECTL;
  if (!bin) throw new Error("KUBECTL is not set: run integration tests through Jest's global setup");
  return new Promise((resolve) => {
    const child = execFile(bin, args, { env: process.env, maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** kubectl that must succeed; the error carries kubectl's own message. */
export async function kubectlOk(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** Polls until `check` returns a value (not undefined) or the deadline passes. */
export const eventually = <T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> =>
  until(what, check, timeoutMs);

interface ServiceIngress {
  metadata: { name: string };
  status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } };
}

/** Every Service of a namespace, by name, with the addresses its status shows (as a user sees them). */
export async function serviceIPs(namespace: string): Promise<Map<string, string[]>> {
  const list = JSON.parse(await kubectlOk(["get", "svc", "-n", namespace, "-o", "json"])) as {
    items: ServiceIngress[];
  };
  return new Map(
    list.items.map((s) => [
      s.metadata.name,
      (s.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip ? [i.ip] : [])),
    ]),
  );
}

/**
 * Removes a test's namespace, its Services first. The test API server runs no
 * controller-manager, so a deleted namespace stays Terminating with its Services in it:
 * they would keep their addresses, and once their pool is gone the controller would
 * renumber them into whatever pool a later suite creates (the later suite then finds its
 * pool short of addresses).
 */
export async function deleteTestNamespace(namespace: string): Promise<void> {
  // Services carry no finalizer here: each is gone once its DELETE returns, so kubectl's
  // wait (a poll per object, minutes for the hundreds of the restart suite) adds nothing.
  await kubectlOk(["delete", "services", "--all", "-n", namespace, "--ignore-not-found", "--wait=false"]);
  await kubectl(["delete", "namespace", namespace, "--ignore-not-found", "--wait=false"]);
}
