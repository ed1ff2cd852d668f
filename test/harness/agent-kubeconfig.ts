/**
 * A kubeconfig that authenticates as the agent's ServiceAccount (metallb-system/metallb-agent,
 * installed with its RBAC by the controller at start), so lab agents run with exactly the
 * permissions the DaemonSet gets, not the admin's: a missing RBAC rule fails the lab.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { parse, stringify } from "yaml";
import { AGENT_NAME } from "../../capabilities/shared/kube/agent-manifests";
import { until } from "./wait";

interface Kubeconfig {
  users?: Array<{ name?: string; user?: Record<string, unknown> }>;
}

/** Writes `out`: the admin kubeconfig with its user's credentials replaced by an agent token. */
export async function writeAgentKubeconfig(
  adminKubeconfig: string,
  kubectl: string,
  out: string,
  namespace = "metallb-system",
): Promise<string> {
  const env = { ...process.env, KUBECONFIG: adminKubeconfig };
  // The controller creates the ServiceAccount shortly after it starts.
  const token = await until(
    `a token for ServiceAccount ${namespace}/${AGENT_NAME}`,
    async () =>
      execFileSync(kubectl, ["create", "token", AGENT_NAME, "-n", namespace, "--duration=24h"], {
        env,
        encoding: "utf8",
        stdio: "pipe",
      }).trim(),
    30_000,
    500,
  );
  const doc = parse(readFileSync(adminKubeconfig, "utf8")) as Kubeconfig;
  for (const u of doc.users ?? []) u.user = { token };
  writeFileSync(out, stringify(doc), { mode: 0o600 });
  return out;
}
