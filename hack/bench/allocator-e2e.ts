/**
 * End-to-end allocation benchmark on a real kube-apiserver.
 *
 * For N in (100, 1,000, 10,000) Services created as fast as possible:
 *   - trivial: a client that, for each new Service, makes the same API writes our
 *     controller makes (one status+annotation merge patch, one Event) with a
 *     precomputed address and no allocation logic. This is the physical limit of
 *     this API server on this machine, measured in the same run.
 *   - controller: this module allocating for real, as deployed: an admission process
 *     serving the webhooks and a watcher process running the controllers (both from
 *     the bundle pepr dev builds; see splitModule). RSS is the watcher's.
 * Both are observed the same way: one watch in this process notes when each
 * Service first shows an address. After the largest size, a paced run at 100
 * creates/s (open loop: each create leaves on schedule, whatever the others do)
 * reports create-to-IP latency with that many Services already in the cluster.
 * Every (mode, size) pair gets a fresh API server and etcd, so neither side pays
 * for the other's objects. Controller RSS (now and peak) is read from /proc.
 *
 *   npm run bench -- allocator-e2e [sizes...]
 */
import { K8s, kind } from "kubernetes-fluent-client";
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { cpuSeconds, rssMB } from "./memory";
import { delta, perService, scrape } from "./apiserver-cost";
import { join } from "node:path";
import { KubeHttp } from "../../capabilities/shared/kube/http";
import {
  acquireDevLock,
  releaseDevLock,
  repoRoot,
  startControlPlane,
  startModule,
  stopControlPlane,
  stopModule,
} from "../../test/harness/local-cluster";
import { splitModule } from "../../test/harness/module-process";
import { quantile } from "./stats";

const stateDir = join(repoRoot, ".lab", "bench-cluster");
const poolPrefix = "2001:db8:b::"; // documentation prefix; Services are IPv6 so 10,000 fit in one pool
const concurrency = 32;

interface Row {
  mode: "trivial" | "trivial-paced" | "controller" | "controller-paced";
  services: number;
  /** Services already in the cluster when the run began. */
  existing: number;
  totalMs: number;
  ratePerSec: number;
  p50Ms: number;
  p99Ms: number;
  rssMB?: number;
  peakRssMB?: number;
  /** The admission server's RSS (a separate process, as deployed). */
  admissionRssMB?: number;
  /** CPU seconds per 1,000 Services of the watcher and the admission process. */
  watcherCpuPer1000?: number;
  admissionCpuPer1000?: number;
  /** The slowest 1% as "#creation-index:latency". */
  slowest?: string;
  /** API server CPU seconds per 1,000 Services, and what it served per Service. */
  apiserverCpuPer1000?: number;
  apiserverPerService?: Record<string, number>;
}

/**
 * Trivial-client Services carry a class our controller ignores, so its own runs later
 * in the same API server never touch them; each run gets a fresh namespace, so nothing
 * has to be deleted between runs (deleting 10,000 Services is slower than creating them).
 */
const serviceBody = (name: string, loadBalancerClass?: string) => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name },
  // No node ports: 10,000 Services would exhaust the 2,768-port NodePort range.
  spec: {
    type: "LoadBalancer",
    ...(loadBalancerClass ? { loadBalancerClass } : {}),
    allocateLoadBalancerNodePorts: false,
    ipFamilies: ["IPv6"],
    selector: { app: name },
    ports: [{ port: 80, protocol: "TCP" }],
  },
});

/** Watches a namespace and resolves with the time each Service first showed an address. */
async function observeIPs(namespace: string, expected: number) {
  const seen = new Map<string, number>();
  let done: () => void = () => {};
  const all = new Promise<void>((r) => (done = r));
  const watcher = K8s(kind.Service)
    .InNamespace(namespace)
    .Watch((svc) => {
      const name = svc.metadata!.name!;
      if (!seen.has(name) && svc.status?.loadBalancer?.ingress?.length) {
        seen.set(name, performance.now());
        if (seen.size === expected) done();
      }
    });
  await watcher.start();
  return { seen, all, close: () => watcher.close() };
}

async function createServices(http: KubeHttp, namespace: string, n: number, ratePerSec?: number, lbClass?: string) {
  const createdAt = new Map<string, number>();
  const start = performance.now();
  const create = async (i: number) => {
    const name = `svc-${i}`;
    createdAt.set(name, performance.now());
    await http.send("POST", `/api/v1/namespaces/${namespace}/services`, serviceBody(name, lbClass)).catch((err) => {
      if ((err as { status?: number }).status !== 409) throw err; // a retried create that had landed
    });
  };
  if (ratePerSec) {
    // Open loop: a slow answer must not delay the next create, or the rate is not the rate.
    const sent: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      const wait = start + (i * 1000) / ratePerSec - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      sent.push(create(i));
    }
    await Promise.all(sent);
  } else {
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < n; i = next++) await create(i);
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }
  return { createdAt, start };
}

/**
 * The same writes our controller makes per Service, with no decision logic and the
 * same pipelining (up to 64 writes in flight): the API server's own limit.
 */
async function trivialController(http: KubeHttp, namespace: string) {
  let counter = 0;
  let inFlight = 0;
  const queue: Array<() => Promise<void>> = [];
  const pump = () => {
    while (inFlight < 64 && queue.length) {
      inFlight++;
      void queue.shift()!().finally(() => {
        inFlight--;
        pump();
      });
    }
  };
  const watcher = K8s(kind.Service)
    .InNamespace(namespace)
    .Watch((svc, phase) => {
      if (phase !== "ADDED" || svc.status?.loadBalancer?.ingress?.length) return;
      queue.push(() => publish(svc.metadata!.name!, `${poolPrefix}${(++counter).toString(16)}`));
      pump();
    });
  const publish = async (name: string, ip: string) => {
    await http.mergePatch(`/api/v1/namespaces/${namespace}/services/${name}/status`, {
      metadata: { annotations: { "metallb.io/ip-allocated-from-pool": "bench" } },
      status: { loadBalancer: { ingress: [{ ip }] } },
    });
    await http.send("POST", `/api/v1/namespaces/${namespace}/events`, {
      metadata: { generateName: `${name}.` },
      involvedObject: { apiVersion: "v1", kind: "Service", name, namespace },
      type: "Normal",
      reason: "IPAllocated",
      message: `Assigned IP ["${ip}"]`,
      source: { component: "trivial" },
    });
  };
  await watcher.start();
  return () => watcher.close();
}

/** Each measurement's API server and module logs, kept for a look at its slowest Services. */
function keepLogs(label: string): void {
  const dir = join(stateDir, "logs", label);
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(stateDir)) if (f.endsWith(".log")) copyFileSync(join(stateDir, f), join(dir, f));
}

/** The deployed topology's two processes (test/harness/module-process.ts splitModule). */
let modulePids: { admission: number; watcher: number } | undefined;

function moduleCpu(): { watcher: number; admission: number } | undefined {
  try {
    return modulePids && { watcher: cpuSeconds(modulePids.watcher), admission: cpuSeconds(modulePids.admission) };
  } catch {
    return undefined;
  }
}

function moduleRssMB(role: "admission" | "watcher", field: "VmRSS" | "VmHWM" = "VmRSS"): number | undefined {
  try {
    return modulePids ? Math.round(rssMB(modulePids[role], field)) : undefined;
  } catch {
    return undefined;
  }
}

async function measure(
  http: KubeHttp,
  mode: Row["mode"],
  namespace: string,
  n: number,
  ratePerSec?: number,
  existing = 0,
): Promise<Row> {
  console.error(`${mode}: ${n} Services${ratePerSec ? ` at ${ratePerSec}/s` : ""}`);
  const before = await scrape(http);
  const moduleCpuBefore = moduleCpu();
  const observer = await observeIPs(namespace, n);
  console.error(`  watching`);
  const trivial = mode.startsWith("trivial");
  const lbClass = trivial ? "bench.metallb-pepr/trivial" : undefined;
  const { createdAt, start } = await createServices(http, namespace, n, ratePerSec, lbClass);
  console.error(`  created`);
  await Promise.race([
    observer.all,
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`${mode} ${n}: only ${observer.seen.size} got IPs in 10 min`)), 600_000),
    ),
  ]);
  observer.close();
  const cost = delta(before, await scrape(http));
  const moduleCpuAfter = moduleCpu();
  const latencies = [...observer.seen].map(([name, t]) => t - createdAt.get(name)!);
  // Which Services were slowest (by creation order): a cold start shows as low indexes.
  const slowest = [...observer.seen]
    .map(([name, t]) => [Number(name.slice(4)), Math.round(t - createdAt.get(name)!)] as const)
    .sort((a, b) => b[1] - a[1])
    .slice(0, Math.max(1, Math.ceil(n / 100)));
  const end = Math.max(...observer.seen.values());
  const totalMs = end - start;
  const row: Row = {
    mode,
    services: n,
    existing,
    totalMs: Math.round(totalMs),
    ratePerSec: Math.round((n / totalMs) * 1000),
    p50Ms: Math.round(quantile(latencies, 0.5)),
    p99Ms: Math.round(quantile(latencies, 0.99)),
    slowest: slowest.map(([i, ms]) => `#${i}:${ms}ms`).join(" "),
    rssMB: trivial ? undefined : moduleRssMB("watcher"),
    peakRssMB: trivial ? undefined : moduleRssMB("watcher", "VmHWM"),
    admissionRssMB: trivial ? undefined : moduleRssMB("admission"),
    ...(moduleCpuBefore && moduleCpuAfter
      ? {
          watcherCpuPer1000: Math.round(((moduleCpuAfter.watcher - moduleCpuBefore.watcher) / n) * 1000 * 10) / 10,
          admissionCpuPer1000:
            Math.round(((moduleCpuAfter.admission - moduleCpuBefore.admission) / n) * 1000 * 10) / 10,
        }
      : {}),
    apiserverCpuPer1000: Math.round(((cost.get("process_cpu_seconds_total") ?? 0) / n) * 1000 * 10) / 10,
    apiserverPerService: perService(cost, n),
  };
  console.error(`  ${JSON.stringify(row)}`);
  return row;
}

async function main() {
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => n > 0);
  const ns = sizes.length ? sizes : [100, 1000, 10000];
  mkdirSync(stateDir, { recursive: true });
  rmSync(join(stateDir, "logs"), { recursive: true, force: true });
  await acquireDevLock();
  const largest = Math.max(...ns);
  const rows: Row[] = [];
  let idleRssMB: number | undefined; // the watcher with a pool and no Services
  let http: KubeHttp | undefined;
  /** A new etcd and API server: each measurement starts from an empty cluster. */
  const freshCluster = async () => {
    http?.close();
    await stopModule(stateDir);
    await stopControlPlane(stateDir);
    const cluster = await startControlPlane({ stateDir, apiPort: 26443, etcdPort: 22379 });
    process.env.KUBECONFIG = cluster.kubeconfig;
    http = new KubeHttp(undefined, concurrency);
    return { cluster, http };
  };
  const namespace = async (h: KubeHttp, name: string) => {
    await h.send("POST", "/api/v1/namespaces", { metadata: { name } });
    return name;
  };
  // Each scenario runs on a fresh cluster, once per mode: the sizes as fast as possible
  // (the largest followed by a paced run with those Services in place), and a paced
  // run on an empty cluster.
  const scenarios: Array<Array<{ n: number; rate?: number }>> = [
    ...ns.map((n) => (n === largest ? [{ n }, { n: 1000, rate: 100 }] : [{ n }])),
    [{ n: 1000, rate: 100 }],
  ];
  try {
    for (const steps of scenarios) {
      for (const trivial of [true, false]) {
        const { cluster, http: h } = await freshCluster();
        process.env.KUBECTL = cluster.kubectl;
        const stops: Array<() => void> = [];
        if (!trivial) {
          await startModule(cluster, { LOG_LEVEL: "info" }); // info still shows the ready marker
          modulePids = await splitModule(stateDir);
          await h.send("POST", "/apis/metallb.io/v1beta1/namespaces/metallb-system/ipaddresspools", {
            apiVersion: "metallb.io/v1beta1",
            kind: "IPAddressPool",
            metadata: { name: "bench" },
            spec: { addresses: [`${poolPrefix}/112`] },
          });
          await new Promise((r) => setTimeout(r, 2000)); // configuration settles
          idleRssMB ??= moduleRssMB("watcher");
        }
        let existing = 0;
        for (const { n, rate } of steps) {
          const space = await namespace(h, `bench-${trivial ? "trivial-" : ""}${rate ? "paced" : n}`);
          if (trivial) stops.push(await trivialController(h, space));
          const mode = `${trivial ? "trivial" : "controller"}${rate ? "-paced" : ""}` as Row["mode"];
          rows.push(await measure(h, mode, space, n, rate, existing));
          keepLogs(`${mode}-${n}${existing ? `-after-${existing}` : ""}`);
          existing += n;
        }
        stops.forEach((stop) => stop());
        modulePids = undefined;
      }
    }
  } finally {
    http?.close();
    await stopModule(stateDir);
    await stopControlPlane(stateDir);
    releaseDevLock();
  }

  console.log(`\ncontroller (watcher) RSS idle, pool created, no Services: ${idleRssMB ?? "-"} MB`);
  console.log(
    "mode               services  existing  total ms   rate/s   p50 ms   p99 ms   RSS MB  peak MB  adm. MB  CPU s/1000: API watcher admission",
  );
  for (const r of rows) {
    console.log(
      `${r.mode.padEnd(18)} ${String(r.services).padStart(8)} ${String(r.existing).padStart(9)} ${String(r.totalMs).padStart(9)} ${String(r.ratePerSec).padStart(8)} ${String(r.p50Ms).padStart(8)} ${String(r.p99Ms).padStart(8)} ${String(r.rssMB ?? "-").padStart(8)} ${String(r.peakRssMB ?? "-").padStart(8)} ${String(r.admissionRssMB ?? "-").padStart(8)} ${String(r.apiserverCpuPer1000 ?? "-").padStart(15)} ${String(r.watcherCpuPer1000 ?? "-").padStart(7)} ${String(r.admissionCpuPer1000 ?? "-").padStart(9)}`,
    );
  }
  console.log(
    "\nAPI server work per Service created (requests by verb/resource/subresource, watch events by kind, webhook calls):",
  );
  for (const r of rows)
    console.log(`${r.mode} ${r.services} (+${r.existing}): ${JSON.stringify(r.apiserverPerService)}`);
  console.log("\nslowest 1% (#creation-index:latency; low indexes = a cold start):");
  for (const r of rows) console.log(`${r.mode} ${r.services} (+${r.existing}): ${r.slowest}`);
  for (const n of ns) {
    const t = rows.find((r) => r.mode === "trivial" && r.services === n && !r.existing)!;
    const c = rows.find((r) => r.mode === "controller" && r.services === n && !r.existing)!;
    console.log(`controller/trivial time at ${n}: ${(c.totalMs / t.totalMs).toFixed(2)}x`);
  }
  const out = join(repoRoot, "bench", "results");
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, "allocator-e2e.json"),
    JSON.stringify({ when: new Date().toISOString(), idleRssMB, rows }, null, 2),
  );
  console.log(JSON.stringify({ rows }));
}

// Interrupted: still stop what this run started.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void stopModule(stateDir)
      .then(() => stopControlPlane(stateDir))
      .finally(() => process.exit(130));
  });
}

main().then(
  // kubernetes-fluent-client's closed watchers leave timers behind: do not wait for them.
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
