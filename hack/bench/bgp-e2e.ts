/**
 * BGP end to end (root): a real kube-apiserver, the real node agent in a network namespace,
 * FRR as the router, two BGP sessions from the node (router addresses 192.0.2.1 and .5).
 *
 *   1. create-to-route: the module runs (`pepr dev`); 100 Services are created one at a
 *      time, each after its EndpointSlice (a ready backend on the node: without one nothing
 *      is announced); latency = from sending the create request to bgpd logging the prefix as
 *      received (`debug bgp updates in`, microsecond timestamps, same host clock). Each
 *      route is then confirmed in FRR's RIB (untimed).
 *   2. 1,000 and 10,000 prefixes from agent start, "Services already allocated": the module
 *      is stopped, the bench creates the Services with their status IPs itself, the
 *      BGPSession objects are the ones the controller made in part 1; time from spawning
 *      the agent until FRR's pfxRcd holds all of them on both sessions; agent RSS then.
 *
 * Prints a table and JSON (bench/results/bgp-e2e.json).  Run: npm run bench -- bgp-e2e
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { rssMB } from "./memory";
import { kubectlOk } from "../../test/harness/kubectl";
import { join } from "node:path";
import { KubeHttp } from "../../capabilities/shared/kube/http";
import { Frr } from "../../test/harness/frr";
import { agentEnvironment, buildAgent } from "../../test/harness/l2lab";
import {
  repoRoot,
  startControlPlane,
  startModule,
  stopControlPlane,
  stopModule,
  releaseDevLock,
} from "../../test/harness/local-cluster";
import { NetLab, apiPortFromKubeconfig, labSkipReason, type LabProcess } from "../../test/harness/netlab";
import { sleep, until } from "../../test/harness/wait";
import { quantile } from "./stats";

const NS = "metallb-system";
const NODE = "node-0";
const ROUTER2 = "192.0.2.5";
const SOURCE2 = "192.0.2.42";
const POOL = "198.18.0.0/15"; // RFC 2544 benchmarking range
const stateDir = join(repoRoot, ".lab", "bench-bgp-e2e");

const configObjects = [
  {
    apiVersion: "metallb.io/v1beta1",
    kind: "IPAddressPool",
    metadata: { name: "bench", namespace: NS },
    spec: { addresses: [POOL] },
  },
  {
    apiVersion: "metallb.io/v1beta1",
    kind: "BGPAdvertisement",
    metadata: { name: "bench", namespace: NS },
    spec: { ipAddressPools: ["bench"] },
  },
  {
    apiVersion: "metallb.io/v1beta2",
    kind: "BGPPeer",
    metadata: { name: "router-a", namespace: NS },
    spec: { myASN: 64513, peerASN: 64512, peerAddress: "192.0.2.1", holdTime: "30s" },
  },
  {
    apiVersion: "metallb.io/v1beta2",
    kind: "BGPPeer",
    metadata: { name: "router-a2", namespace: NS },
    spec: { myASN: 64513, peerASN: 64512, peerAddress: ROUTER2, sourceAddress: SOURCE2, holdTime: "30s" },
  },
];

const service = (ns: string, name: string) => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace: ns },
  spec: { type: "LoadBalancer", allocateLoadBalancerNodePorts: false, ports: [{ port: 80, protocol: "TCP" }] },
});

/** A ready backend on the node: like MetalLB, nothing is announced for a Service without one. */
const endpointSlice = (ns: string, name: string) => ({
  apiVersion: "discovery.k8s.io/v1",
  kind: "EndpointSlice",
  metadata: { name: `${name}-bench`, namespace: ns, labels: { "kubernetes.io/service-name": name } },
  addressType: "IPv4",
  ports: [{ port: 80, protocol: "TCP" }],
  endpoints: [
    { addresses: ["10.244.0.10"], nodeName: NODE, conditions: { ready: true, serving: true, terminating: false } },
  ],
});
const createSlice = (http: KubeHttp, ns: string, name: string): Promise<unknown> =>
  http.send("POST", `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, endpointSlice(ns, name));

/** bgpd log lines for received prefixes: "<date> <time.us> BGP: ... rcvd <prefix> IPv4 unicast". */
function receivedAt(log: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of log.matchAll(
    /^(\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{6}) .*? rcvd (\d+\.\d+\.\d+\.\d+\/\d+) IPv4 unicast$/gm,
  )) {
    const [y, mo, d, h, mi, s, us] = m.slice(1, 8).map(Number);
    if (!out.has(m[8])) out.set(m[8], new Date(y, mo - 1, d, h, mi, s).getTime() + us / 1000);
  }
  return out;
}

/** Prefixes FRR received from each of the given neighbour addresses. */
async function pfxRcd(frr: Frr, neighbours: readonly string[]): Promise<number[]> {
  const s = await frr.json<{ ipv4Unicast?: { peers?: Record<string, { pfxRcd?: number }> } }>("show bgp summary json");
  const peers = s.ipv4Unicast?.peers ?? {};
  return neighbours.map((a) => peers[a]?.pfxRcd ?? 0);
}

async function main(): Promise<void> {
  const skip = labSkipReason();
  if (skip) return console.log(`bgp-e2e: skipped: ${skip}`);
  rmSync(stateDir, { recursive: true, force: true });
  mkdirSync(stateDir, { recursive: true });
  const cluster = await startControlPlane({ stateDir, apiPort: 29443, etcdPort: 29379 });
  process.env.KUBECONFIG = cluster.kubeconfig;
  process.env.KUBECTL = cluster.kubectl;
  const http = new KubeHttp(undefined, 32);
  const lab = await NetLab.create({ nodes: 1, router: true });
  const node = lab.nodes[0]!;
  const router = lab.router!;
  const frr = new Frr(router.ns, join(stateDir, "frr"));
  const bundle = buildAgent(join(stateDir, "agent"));
  let agent: LabProcess | undefined;
  const results: Record<string, number> = {};
  const latencies: number[] = [];
  const split: Array<[number, number]> = [];
  const startAgent = (): LabProcess =>
    lab.spawnIn(
      node.ns,
      [process.execPath, bundle.agentJs],
      { ...agentEnvironment(NODE, cluster.kubeconfig, bundle.addon), METALLB_METRICS_PORT: "7472" },
      join(stateDir, "agent.log"),
    );
  const stopAgent = async (): Promise<void> => {
    if (!agent) return;
    process.kill(agent.pid, "SIGTERM");
    await Promise.race([agent.exited, sleep(10_000)]);
    agent = undefined;
  };
  let cleaned = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    await stopAgent().catch(() => undefined);
    await stopModule(cluster.stateDir).catch(() => undefined);
    releaseDevLock();
    await frr.stop();
    await lab.destroy();
    await stopControlPlane(stateDir);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const)
    process.once(signal, () => void cleanup().finally(() => process.exit(1)));
  try {
    await lab.execOk(router.ns, ["ip", "addr", "add", `${ROUTER2}/24`, "dev", router.ifname]);
    await lab.execOk(node.ns, ["ip", "addr", "add", `${SOURCE2}/24`, "dev", node.ifname]);
    frr.start({
      asn: 64512,
      routerId: "192.0.2.1",
      logReceivedPrefixes: true,
      neighbors: [
        { address: node.ipv4, asn: 64513, keepalive: 10, hold: 30 },
        { address: SOURCE2, asn: 64513, keepalive: 10, hold: 30 },
      ],
    });
    await lab.startApiBridge(node.ns, apiPortFromKubeconfig(cluster.kubeconfig));

    // ---- 1. create-to-route, with the module allocating.
    await startModule(cluster);
    await kubectlOk(
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "v1",
        kind: "List",
        items: [
          ...configObjects,
          { apiVersion: "v1", kind: "Node", metadata: { name: NODE, labels: { "kubernetes.io/hostname": NODE } } },
          { apiVersion: "v1", kind: "Namespace", metadata: { name: "bench-e2e" } },
        ],
      }),
    );
    agent = startAgent();
    await agent.waitFor("agent ready", 30_000);
    await until(
      "both sessions Established in FRR",
      async () =>
        (await frr.peerState(node.ipv4)) === "Established" && (await frr.peerState(SOURCE2)) === "Established"
          ? true
          : undefined,
      60_000,
      200,
    );
    const logPath = join(frr.dir, "bgpd.log");
    const lat: number[] = [];
    for (let i = 0; i < 100; i++) {
      const name = `svc-${i}`;
      await createSlice(http, "bench-e2e", name); // the backends exist before the Service
      const t0 = Date.now();
      const created = await http.send<{ metadata: { name: string } }>(
        "POST",
        "/api/v1/namespaces/bench-e2e/services",
        service("bench-e2e", name),
      );
      const ip = await until(
        `${name} has an IP`,
        async () => {
          const s = await http.send<{ status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } } }>(
            "GET",
            `/api/v1/namespaces/bench-e2e/services/${created.metadata.name}`,
          );
          return s.status?.loadBalancer?.ingress?.[0]?.ip;
        },
        10_000,
        2,
      );
      const ipAt = Date.now();
      const prefix = `${ip}/32`;
      const at = await until(
        `${prefix} received by FRR`,
        async () => receivedAt(readFileSync(logPath, "utf8")).get(prefix),
        10_000,
        5,
      );
      lat.push(at - t0);
      // Where the time went: the allocator (create -> IP visible to a reader polling every
      // 2 ms) and the announcement (IP visible -> bgpd received the prefix).
      split.push([Math.round(ipAt - t0), Math.round(at - ipAt)]);
    }
    latencies.push(...lat.map((x) => Math.round(x * 10) / 10));
    const missing: string[] = [];
    const rib = await frr.json<{ routes?: Record<string, unknown[]> }>("show bgp ipv4 unicast json");
    for (let i = 0; i < 100; i++) {
      const s = await http.send<{ status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } } }>(
        "GET",
        `/api/v1/namespaces/bench-e2e/services/svc-${i}`,
      );
      const ip = s.status?.loadBalancer?.ingress?.[0]?.ip;
      if (!ip || !(rib.routes?.[`${ip}/32`]?.length ?? 0)) missing.push(`svc-${i}`);
    }
    if (missing.length) throw new Error(`routes logged as received but missing from FRR's RIB: ${missing.join(", ")}`);
    results.create_to_route_p50_ms = Math.round(quantile(lat, 0.5) * 10) / 10;
    results.create_to_route_p99_ms = Math.round(quantile(lat, 0.99) * 10) / 10;
    results.create_to_route_max_ms = Math.round(Math.max(...lat) * 10) / 10;
    process.stderr.write(
      `create-to-route: p50 ${results.create_to_route_p50_ms} ms, p99 ${results.create_to_route_p99_ms} ms\n`,
    );
    // Services, not the namespace: this control plane has no namespace controller to finish that.
    await kubectlOk(["delete", "services,endpointslices", "--all", "-n", "bench-e2e"]);
    await stopAgent();
    await stopModule(cluster.stateDir);
    releaseDevLock();
    // Stopped by signal, pepr dev leaves its webhooks behind: with no server they refuse every write.
    await kubectlOk([
      "delete",
      "mutatingwebhookconfiguration,validatingwebhookconfiguration",
      "pepr-metallb-pepr",
      "--ignore-not-found",
    ]);

    // ---- 2. N prefixes from agent start, Services already allocated (no controller now).
    let made = 0;
    const base = BigInt(0xc6120000); // 198.18.0.0
    const ipAt = (k: number): string => {
      const v = base + BigInt(k + 1);
      return [24n, 16n, 8n, 0n].map((sh) => String((v >> sh) & 255n)).join(".");
    };
    await kubectlOk(["create", "namespace", "bench-pre"]);
    for (const n of [1000, 10_000]) {
      // Create up to n, 32 at a time, each with its address already in status.
      let next = made;
      const worker = async (): Promise<void> => {
        for (let k = next++; k < n; k = next++) {
          await createSlice(http, "bench-pre", `pre-${k}`);
          await http.send("POST", "/api/v1/namespaces/bench-pre/services", service("bench-pre", `pre-${k}`));
          await http.send(
            "PATCH",
            `/api/v1/namespaces/bench-pre/services/pre-${k}/status`,
            { status: { loadBalancer: { ingress: [{ ip: ipAt(k), ipMode: "VIP" }] } } },
            "application/merge-patch+json",
          );
        }
      };
      await Promise.all(Array.from({ length: 32 }, worker));
      made = n;
      await until(
        "FRR holds no routes",
        async () => ((await pfxRcd(frr, [node.ipv4, SOURCE2])).every((c) => c === 0) ? true : undefined),
        60_000,
        200,
      );
      const t0 = Date.now();
      agent = startAgent();
      await until(
        `FRR holds ${n} prefixes on both sessions`,
        async () => ((await pfxRcd(frr, [node.ipv4, SOURCE2])).every((c) => c >= n) ? true : undefined),
        120_000,
        100,
      );
      results[`prefixes_${n}_ms`] = Date.now() - t0;
      results[`agent_rss_at_convergence_${n}_mb`] = Math.round(rssMB(agent.pid) * 10) / 10;
      // Steady state: what the node pays while the routes stay up (V8 shrinks its heap
      // once the first-sync burst is over). The peak is reported too.
      await sleep(20_000);
      results[`agent_rss_${n}_prefixes_two_peers_mb`] = Math.round(rssMB(agent.pid) * 10) / 10;
      results[`agent_peak_rss_${n}_mb`] = Math.round(rssMB(agent.pid, "VmHWM") * 10) / 10;
      // What the resident memory is made of, from the agent's own /metrics.
      const metrics = (await lab.execOk(node.ns, ["curl", "-s", "http://127.0.0.1:7472/metrics"])).toString();
      const metric = (name: string): number =>
        Math.round(Number(new RegExp(`^${name} (\\S+)`, "m").exec(metrics)?.[1] ?? NaN) / 1e5) / 10;
      results[`agent_heap_used_${n}_mb`] = metric("nodejs_heap_size_used_bytes");
      results[`agent_heap_total_${n}_mb`] = metric("nodejs_heap_size_total_bytes");
      results[`agent_external_${n}_mb`] = metric("nodejs_external_memory_bytes");
      process.stderr.write(
        `${n} prefixes: ${results[`prefixes_${n}_ms`]} ms, agent RSS ${results[`agent_rss_${n}_prefixes_two_peers_mb`]} MB\n`,
      );
      await stopAgent();
    }
  } finally {
    await cleanup();
  }
  console.log("\nBGP end to end (real agent, FRR 2 sessions)       value");
  for (const [k, v] of Object.entries(results)) console.log(`${k.padEnd(48)} ${v}`);
  const out = join(repoRoot, "bench", "results");
  mkdirSync(out, { recursive: true });
  const json = { when: new Date().toISOString(), ...results, createToRouteMs: latencies, allocateAndAnnounceMs: split };
  writeFileSync(join(out, "bgp-e2e.json"), JSON.stringify(json, null, 2));
  console.log(JSON.stringify(json));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
