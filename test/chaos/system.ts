/**
 * The system under chaos: its own control plane (API port 36443, etcd 32379,
 * state in .lab/chaos-cluster, apart from the integration tests' cluster), the
 * fault proxy, and the module's watcher process talking to the API server through
 * that proxy. No admission webhook runs: the suite creates objects admission would
 * refuse (dangling references, overlapping pools) on purpose.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { repoRoot, startControlPlane, stopControlPlane } from "../harness/local-cluster";
import { restartApiServer, type ApiServerRestart } from "../harness/apiserver-restart";
import { FaultProxy } from "./fault-proxy";
import { CONFIG_NAMESPACE } from "./scenario";
import { KubeClient, type ApiError } from "./kube-client";
import { WatcherProcess, killLeftoverWatcher } from "./watcher";
import { configNamespace, crdManifests, peprStoreCRD } from "../../capabilities/shared/kube/install-manifests";

const run = promisify(execFile);

/**
 * Ports clear of the integration cluster (16443), the allocator benchmark (26443), pepr
 * dev (3000) and the benchmark's watcher (3001). CHAOS_PORT_BASE moves all three (API
 * base+0, etcd base+1 and base+2, watcher base+3) so two checkouts can run side by side.
 */
const base = Number(process.env.CHAOS_PORT_BASE) || 0;
export const chaosCluster = {
  stateDir: join(repoRoot, ".lab", "chaos-cluster"),
  apiPort: base ? base : 36443,
  etcdPort: base ? base + 1 : 32379,
};
const watcherPort = base ? base + 3 : 3201;

export interface ChaosSystem {
  client: KubeClient;
  proxy: FaultProxy;
  watcher: WatcherProcess;
  stateDir: string;
  /** SIGTERM gets `graceMs` to drain before a SIGKILL. */
  restartApiServer(signal: "SIGTERM" | "SIGKILL", graceMs: number): Promise<ApiServerRestart>;
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The bundle `npx pepr build` writes: PEPR_BUILD_DIR when a global setup built one, else built here. */
export async function ensureBundle(log: (m: string) => void): Promise<string> {
  let dir = process.env.PEPR_BUILD_DIR;
  if (!dir) {
    dir = join(repoRoot, ".lab", "chaos-build");
    log(`building the module bundle into ${dir} (npx pepr build)`);
    await run(join(repoRoot, "node_modules", ".bin", "pepr"), ["build", "-o", dir], {
      cwd: repoRoot,
      maxBuffer: 1 << 26,
    }).catch((e: { stderr?: string; message: string }) => {
      throw new Error(`pepr build failed: ${e.stderr || e.message}`);
    });
  }
  const bundle = readdirSync(dir).find((f) => /^pepr-[\w-]+\.js$/.test(f) && !f.startsWith("pepr-module"));
  if (!bundle) throw new Error(`no pepr-<uuid>.js bundle in ${dir}`);
  return join(dir, bundle);
}

/**
 * A self-signed pair for the proxy (and the watcher's own HTTPS server), made once per
 * state dir; being self-signed, the certificate is also the CA the watcher trusts.
 */
export async function selfSignedPair(dir: string): Promise<{ key: string; cert: string }> {
  const key = join(dir, "chaos-tls.key");
  const cert = join(dir, "chaos-tls.crt");
  if (!existsSync(key) || !existsSync(cert)) {
    await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "7",
      "-subj",
      "/CN=metallb-pepr-chaos-proxy",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-keyout",
      key,
      "-out",
      cert,
    ]);
  }
  return { key, cert };
}

/**
 * The watcher's kubeconfig: the proxy's address, the same admin token (the proxy passes
 * it through), and the proxy's self-signed certificate as its CA. Not
 * insecure-skip-tls-verify: kubernetes-fluent-client (Pepr's client) ignores that flag
 * and fails every request against a self-signed server ("fetch failed").
 */
function watcherKubeconfig(path: string, server: string, token: string, caPem: string): void {
  writeFileSync(
    path,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "- name: chaos-proxy",
      "  cluster:",
      `    server: ${server}`,
      `    certificate-authority-data: ${Buffer.from(caPem).toString("base64")}`,
      "users:",
      "- name: admin",
      "  user:",
      `    token: ${token}`,
      "contexts:",
      "- name: chaos",
      "  context: {cluster: chaos-proxy, user: admin}",
      "current-context: chaos",
      "",
    ].join("\n"),
  );
}

/**
 * What the install and Pepr's in-cluster entry point (or `pepr deploy`) create before the
 * module runs, and a bare `node <bundle>` does not: the configuration namespace and the
 * metallb.io CRDs (the install's manifest carries them; the watcher never applies them),
 * the pepr-system namespace and the PeprStore CRD. Without the store Pepr starts no Watch
 * binding at all (configuration and namespace events would never arrive).
 */
async function prepareInstall(client: KubeClient): Promise<void> {
  for (const ns of [
    configNamespace(CONFIG_NAMESPACE),
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "pepr-system" } },
  ])
    await client.create("/api/v1/namespaces", ns).catch(ignoreConflict);
  const crds = [...crdManifests(), peprStoreCRD()];
  for (const crd of crds)
    await client.create("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd).catch(ignoreConflict);
  for (const crd of crds) {
    const name = crd.metadata!.name!;
    for (let i = 0; ; i++) {
      const got = await client.get<{ status?: { conditions?: Array<{ type: string; status: string }> } }>(
        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`,
      );
      if (got.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) break;
      if (i >= 300) throw new Error(`the CRD ${name} was not Established`);
      await sleep(100);
    }
  }
}

function ignoreConflict(err: unknown): void {
  if ((err as ApiError).status !== 409) throw err;
}

export async function startSystem(log: (m: string) => void): Promise<ChaosSystem> {
  const { stateDir, apiPort } = chaosCluster;
  const bundle = await ensureBundle(log);
  mkdirSync(stateDir, { recursive: true });
  // Whatever an aborted earlier run left behind, by its pid files, and its watcher logs.
  await killLeftoverWatcher(stateDir);
  await stopControlPlane(stateDir);
  for (const f of readdirSync(stateDir)) if (/^watcher-\d+\.log$/.test(f)) rmSync(join(stateDir, f));
  const cluster = await startControlPlane(chaosCluster);
  const token = readFileSync(join(stateDir, "pki", "admin.token"), "utf8").trim();
  const ca = readFileSync(join(stateDir, "pki", "ca.crt"), "utf8");
  const upstream = `https://127.0.0.1:${apiPort}`;
  const client = new KubeClient(upstream, ca, token);
  let proxy: FaultProxy | undefined;
  let watcher: WatcherProcess | undefined;
  const stop = async (): Promise<void> => {
    await watcher?.kill().catch(() => undefined);
    await proxy?.close().catch(() => undefined);
    client.close();
    if (!process.env.KEEP_CHAOS_CLUSTER) await stopControlPlane(stateDir);
  };
  try {
    await prepareInstall(client);
    const tls = await selfSignedPair(stateDir);
    proxy = new FaultProxy({
      upstream,
      upstreamCa: ca,
      key: readFileSync(tls.key, "utf8"),
      cert: readFileSync(tls.cert, "utf8"),
    });
    const proxyPort = await proxy.listen();
    const kubeconfig = join(stateDir, "watcher-kubeconfig");
    watcherKubeconfig(kubeconfig, `https://127.0.0.1:${proxyPort}`, token, readFileSync(tls.cert, "utf8"));
    watcher = new WatcherProcess({
      bundle,
      stateDir,
      kubeconfig,
      tlsKey: tls.key,
      tlsCert: tls.cert,
      port: watcherPort,
    });
    const readyMs = await watcher.start();
    log(
      `control plane ${cluster.kubeconfig}; fault proxy :${proxyPort}; watcher pid ${watcher.pid} ready in ${readyMs} ms`,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    client,
    proxy,
    watcher,
    stateDir,
    restartApiServer: (signal, graceMs) => restartApiServer(stateDir, apiPort, signal, graceMs),
    stop,
  };
}
