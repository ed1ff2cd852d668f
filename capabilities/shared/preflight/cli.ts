/**
 * `metallb-pepr preflight [-n NAMESPACE]`: reads the cluster's metallb.io objects with the
 * reader admission uses (config-source.ts, kubeconfig from KUBECONFIG or ~/.kube/config)
 * and prints report.ts's verdicts. Exit codes: 0 nothing refused, 1 something refused,
 * 2 bad arguments, 3 the cluster could not be read.
 */
import { KubeConfig } from "@kubernetes/client-node";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { readConfig } from "../kube/config-source";
import { KubeHttpError } from "../kube/http";
import { readSettings } from "../settings";
import { formatReport, preflight } from "./report";

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

/** Where the objects are read from, so a person sees which cluster was judged. */
function describeCluster(): string {
  // Without any, the client falls back to http://localhost:8080 and fails with a riddle.
  const inCluster = Boolean(process.env.KUBERNETES_SERVICE_HOST);
  if (!process.env.KUBECONFIG && !existsSync(join(homedir(), ".kube", "config")) && !inCluster) {
    throw new Error("no kubeconfig: set KUBECONFIG or create ~/.kube/config");
  }
  const kc = new KubeConfig();
  try {
    kc.loadFromDefault();
  } catch (err) {
    const from = process.env.KUBECONFIG ?? "~/.kube/config";
    throw new Error(`cannot load the kubeconfig ${from}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const server = kc.getCurrentCluster()?.server ?? "(no current cluster)";
  return `${server} (context ${kc.getCurrentContext() || "none"})`;
}

function cannotRead(err: unknown, namespace: string): string {
  if (err instanceof KubeHttpError && err.status === 404) {
    return `the cluster does not serve some metallb.io kind in namespace ${namespace} (are MetalLB's CRDs installed?): ${err.message}`;
  }
  if (err instanceof KubeHttpError && (err.status === 401 || err.status === 403)) {
    return `not allowed to list metallb.io objects, Nodes and Namespaces: ${err.message}`;
  }
  return err instanceof Error ? err.message : String(err);
}

export async function runPreflight(argv: readonly string[], io: Output): Promise<number> {
  let namespace = readSettings().namespace;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if ((a === "-n" || a === "--namespace") && i + 1 < argv.length) namespace = argv[++i];
    else {
      io.err(`metallb-pepr preflight: unexpected argument ${JSON.stringify(a)} (see metallb-pepr --help)\n`);
      return 2;
    }
  }
  let where: string;
  try {
    where = describeCluster();
  } catch (err) {
    io.err(`metallb-pepr preflight: ${err instanceof Error ? err.message : String(err)}\n`);
    return 3;
  }
  io.err(`reading metallb.io objects in namespace ${namespace} from ${where}\n`);
  try {
    const report = preflight(await readConfig(namespace));
    io.out(formatReport(report));
    return report.counts.refused > 0 ? 1 : 0;
  } catch (err) {
    io.err(`metallb-pepr preflight: cannot read the cluster: ${cannotRead(err, namespace)}\n`);
    return 3;
  }
}
