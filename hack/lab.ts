/**
 * `npm run lab`: the whole system on one machine (root), in the foreground.
 *
 *   control plane   kube-apiserver + etcd on 127.0.0.1:API_PORT (6443) / ETCD_PORT (2379), state in .lab/lab-cluster
 *   module          `pepr dev` (webhooks + controller) against it
 *   network         test/harness/netlab.ts: one bridge with
 *                     mlb-lab-n0..n2   node-0..node-2, real agents (L2 + BGP), 192.0.2.11-13
 *                     mlb-lab-rtr      FRR "router-a", AS 64501, 192.0.2.1, peers with all three nodes
 *                     mlb-lab-rtr2     FRR "router-b", AS 64502, 192.0.2.3, peers with node-1 and node-2
 *                     mlb-lab-cli      client (arping, ndisc6), 192.0.2.2
 *   configuration   examples/ (which describe this lab), plus Services and their EndpointSlices
 *
 * It prints one status table built only from what it observes (API objects, FRR's RIB,
 * the client's ARP/NDP answers), then waits. Ctrl-C, SIGTERM or `npm run lab -- down` (from
 * another shell) removes everything it made, by the names and pids in .lab/lab-state.json.
 *
 * Bundled by hack/lab.sh (esbuild --keep-names, esbuild itself external) and run with
 * METALLB_PEPR_ROOT set to the repository.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Frr, BGPD } from "../test/harness/frr";
import { agentEnvironment, buildAgent } from "../test/harness/l2lab";
import {
  isAlive,
  repoRoot,
  startControlPlane,
  startModule,
  stopControlPlane,
  stopModule,
  type RunningCluster,
} from "../test/harness/local-cluster";
import { NetLab, apiPortFromKubeconfig, run, type LabProcess } from "../test/harness/netlab";
import { judgeAddress } from "./lab-verdict";
import { sleep } from "../test/harness/wait";
import { writeAgentKubeconfig } from "../test/harness/agent-kubeconfig";

const NS = "metallb-system";
const labDir = join(repoRoot, ".lab");
const stateDir = join(labDir, "lab-cluster");
const stateFile = join(labDir, "lab-state.json");
const apiPort = Number(process.env.API_PORT ?? 6443);
const etcdPort = Number(process.env.ETCD_PORT ?? 2379);
const RUN_ID = "lab";
const ROUTER_B_ADDR = "192.0.2.3";
const nodeName = (i: number): string => `node-${i}`;

interface LabState {
  pid: number;
  stateDir: string;
  namespaces: string[];
  /** Process groups to kill (agents, API bridges). */
  groups: number[];
  /** bgpd pid files. */
  pidFiles: string[];
  kubeconfig?: string;
}

const state: LabState = { pid: process.pid, stateDir, namespaces: [], groups: [], pidFiles: [] };
const saveState = (): void => writeFileSync(stateFile, JSON.stringify(state, null, 2));

const say = (msg: string): void => console.log(`lab: ${msg}`);

let kubectlBin = "";
async function kubectl(args: string[], input?: string): Promise<string> {
  const r = await run(kubectlBin, args, { timeoutMs: 30_000, input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr.trim()}`);
  return r.stdout;
}
const apply = (objects: unknown[]): Promise<string> =>
  kubectl(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));

function killGroup(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, "SIGKILL");
      return;
    } catch {
      /* try the next */
    }
  }
}

// ---------------------------------------------------------------------------- down

/** Removes what a lab recorded, whether its process is alive (asked to stop) or gone. */
async function down(): Promise<void> {
  if (!existsSync(stateFile)) {
    say("no lab is recorded in .lab/lab-state.json; nothing to do");
    return;
  }
  const s = JSON.parse(readFileSync(stateFile, "utf8")) as LabState;
  if (s.pid !== process.pid && isAlive(s.pid)) {
    say(`asking the running lab (pid ${s.pid}) to stop`);
    process.kill(s.pid, "SIGTERM");
    for (let i = 0; i < 600 && isAlive(s.pid); i++) await sleep(100);
    if (!isAlive(s.pid) && !existsSync(stateFile)) {
      say("stopped");
      return;
    }
    if (isAlive(s.pid)) {
      say(`pid ${s.pid} did not stop in 60 s; killing it`);
      process.kill(s.pid, "SIGKILL");
    }
  }
  await teardownRecorded(s);
  say("stopped");
}

async function teardownRecorded(s: LabState): Promise<void> {
  for (const pid of s.groups) killGroup(pid);
  for (const f of s.pidFiles) {
    if (!existsSync(f)) continue;
    const pid = Number(readFileSync(f, "utf8").trim());
    if (pid && isAlive(pid)) killGroup(pid);
  }
  for (const ns of [...s.namespaces].reverse()) await run("ip", ["netns", "del", ns]);
  await stopModule(s.stateDir).catch((e: Error) => say(`stopping the module: ${e.message}`));
  await stopControlPlane(s.stateDir).catch((e: Error) => say(`stopping the control plane: ${e.message}`));
  rmSync(stateFile, { force: true });
}

// ---------------------------------------------------------------------------- up

let net: NetLab | undefined;
const frrs: Frr[] = [];
const agents: LabProcess[] = [];
let stopping = false;

async function teardown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  say("tearing down");
  for (const a of agents) a.kill("SIGKILL");
  for (const f of frrs) await f.stop().catch(() => undefined);
  await net?.destroy().catch(() => undefined);
  await teardownRecorded(state);
  say("everything the lab made is gone");
}

async function addRouterB(lab: NetLab): Promise<string> {
  const ns = `${lab.prefix}rtr2`;
  await run("ip", ["netns", "add", ns]).then((r) => {
    if (r.code !== 0) throw new Error(`ip netns add ${ns}: ${r.stderr}`);
  });
  state.namespaces.push(ns);
  saveState();
  const steps: string[][] = [
    ["-n", ns, "link", "set", "lo", "up"],
    ["link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", "p-rtr2", "netns", lab.switchNs],
    ["-n", lab.switchNs, "link", "set", "p-rtr2", "master", "br0"],
    ["-n", lab.switchNs, "link", "set", "p-rtr2", "up"],
    ["-n", ns, "link", "set", "eth0", "up"],
    ["-n", ns, "addr", "add", `${ROUTER_B_ADDR}/24`, "dev", "eth0"],
  ];
  for (const a of steps) {
    const r = await run("ip", a);
    if (r.code !== 0) throw new Error(`ip ${a.join(" ")}: ${r.stderr}`);
  }
  return ns;
}

async function startFrr(
  ns: string,
  dir: string,
  asn: number,
  routerId: string,
  peers: string[],
  password?: string,
): Promise<Frr> {
  rmSync(dir, { recursive: true, force: true });
  const f = new Frr(ns, dir);
  f.start({
    asn,
    routerId,
    neighbors: peers.map((address) => ({ address, asn: 64500, password, keepalive: 3, hold: 9 })),
  });
  frrs.push(f);
  state.pidFiles.push(join(dir, "bgpd.pid"));
  saveState();
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ok = await f.vty("show version").then(
      () => true,
      () => false,
    );
    if (ok) return f;
    if (Date.now() > deadline) throw new Error(`FRR in ${ns} did not answer vtysh; see ${dir}/bgpd.log`);
    await sleep(200);
  }
}

interface Svc {
  ns: string;
  name: string;
  ips: string[];
  pool?: string;
}

async function up(): Promise<void> {
  if (existsSync(stateFile)) {
    const old = JSON.parse(readFileSync(stateFile, "utf8")) as LabState;
    if (isAlive(old.pid))
      throw new Error(`a lab is already running (pid ${old.pid}); stop it with: npm run lab -- down`);
    say("cleaning up after a lab that did not stop cleanly");
    await teardownRecorded(old);
  }
  mkdirSync(stateDir, { recursive: true });
  saveState();

  say(`starting kube-apiserver on 127.0.0.1:${apiPort} and etcd on 127.0.0.1:${etcdPort} (state in ${stateDir})`);
  let cluster: RunningCluster;
  try {
    cluster = await startControlPlane({ stateDir, apiPort, etcdPort });
  } catch (e) {
    throw new Error(
      `${(e as Error).message.trim()}\n  (set API_PORT and/or ETCD_PORT to free ports, e.g. API_PORT=7443 ETCD_PORT=7379 npm run lab)`,
    );
  }
  kubectlBin = cluster.kubectl;
  process.env.KUBECONFIG = cluster.kubeconfig;
  process.env.KUBECTL = cluster.kubectl;
  state.kubeconfig = cluster.kubeconfig;
  saveState();

  const lock = "/tmp/metallb-pepr-dev.lock";
  if (existsSync(lock))
    say(
      `waiting for ${lock} (held by pid ${readFileSync(lock, "utf8").trim()}: another pepr dev, e.g. a test run, owns port 3000)`,
    );
  say("starting the module (pepr dev: build, webhooks, controller)");
  await startModule(cluster);
  say(`module ready (log: ${join(stateDir, "pepr-dev.log")})`);

  say("building the agent bundle");
  const bundle = buildAgent(join(stateDir, "agent"));

  say("creating the network: 3 nodes, 2 FRR routers and a client on one bridge");
  net = await NetLab.create({ nodes: 3, router: true, runId: RUN_ID });
  state.namespaces.push(net.switchNs, ...net.hosts.map((h) => h.ns));
  saveState();
  const rtr2 = await addRouterB(net);

  // Node objects (no kubelet here). node-0 is in zone-a: public-l2 prefers it.
  const nodes = net.nodes.map((h, i) => ({
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: nodeName(i),
      labels: {
        "kubernetes.io/hostname": nodeName(i),
        "kubernetes.io/os": "linux",
        bgp: "enabled",
        "topology.kubernetes.io/zone": i === 0 ? "zone-a" : "zone-b",
        "metallb-pepr.lab/netns": h.ns,
      },
    },
  }));
  await apply(nodes);
  for (const [i, h] of net.nodes.entries()) {
    await kubectl([
      "patch",
      "node",
      nodeName(i),
      "--subresource=status",
      "--type=merge",
      "-p",
      JSON.stringify({
        status: {
          addresses: [
            { type: "InternalIP", address: h.ipv4 },
            { type: "InternalIP", address: h.ipv6 },
            { type: "Hostname", address: nodeName(i) },
          ],
        },
      }),
    ]).catch((e: Error) => say(`node status: ${e.message}`));
  }

  say("applying examples/");
  console.log((await kubectl(["apply", "-f", join(repoRoot, "examples")])).trimEnd().replace(/^/gm, "  "));

  say("starting FRR routers");
  const nodeAddrs = net.nodes.map((h) => h.ipv4);
  const frrA = await startFrr(
    net.router!.ns,
    join(stateDir, "frr-router-a"),
    64501,
    "192.0.2.1",
    nodeAddrs,
    "change-me",
  );
  const frrB = await startFrr(rtr2, join(stateDir, "frr-router-b"), 64502, ROUTER_B_ADDR, nodeAddrs.slice(1));

  say("starting the agents in the node namespaces");
  const apiPortReal = apiPortFromKubeconfig(cluster.kubeconfig);
  // The agents run as the agent ServiceAccount, with the RBAC `npx pepr deploy` gives them.
  const agentKubeconfig = await writeAgentKubeconfig(
    cluster.kubeconfig,
    cluster.kubectl,
    join(stateDir, "agent-kubeconfig"),
    NS,
  );
  for (const h of net.nodes) await net.startApiBridge(h.ns, apiPortReal);
  await Promise.all(
    net.nodes.map(async (h, i) => {
      const p = net!.spawnIn(
        h.ns,
        [process.execPath, bundle.agentJs],
        { ...agentEnvironment(nodeName(i), agentKubeconfig, bundle.addon), METALLB_HEARTBEAT_ADDRESS: h.ipv4 },
        join(stateDir, `agent-${nodeName(i)}.log`),
      );
      agents.push(p);
      state.groups.push(p.pid);
      saveState();
      await p
        .waitFor("agent ready", 60_000)
        .catch((e: Error) => say(`agent ${nodeName(i)} not ready: ${e.message.split("\n")[0]}`));
    }),
  );
  // The API bridges' in-namespace halves are processes too: record every pid the lab holds.
  for (const pid of childPids()) if (!state.groups.includes(pid)) state.groups.push(pid);
  saveState();

  say("creating Services and their EndpointSlices");
  await createServices();

  say("waiting for addresses, owners, sessions and routes to settle (up to 45 s)");
  let svcs = await waitSettled(45_000, [frrA, frrB]);
  let table = await statusTable(svcs, frrA, frrB);
  // Routes to the second router or an ECMP path may trail the first route by a few seconds.
  for (let i = 0; i < 5 && !table.allReachable; i++) {
    await sleep(3000);
    svcs = await services().catch(() => svcs);
    table = await statusTable(svcs, frrA, frrB);
  }
  console.log("");
  console.log(table.text);
  printInstructions(cluster, rtr2);
}

function childPids(): number[] {
  try {
    return execFileSync("ps", ["-o", "pid=", "--ppid", String(process.pid)], { encoding: "utf8" })
      .split("\n")
      .map((l) => Number(l.trim()))
      .filter((n) => n > 0);
  } catch {
    return [];
  }
}

async function createServices(): Promise<void> {
  const svc = (
    ns: string,
    name: string,
    pool: string | undefined,
    family: "IPv4" | "IPv6",
    labels: Record<string, string> = {},
  ) => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: ns, labels, annotations: pool ? { "metallb.io/address-pool": pool } : {} },
    spec: {
      type: "LoadBalancer",
      selector: { app: name },
      ipFamilyPolicy: "SingleStack",
      ipFamilies: [family],
      ports: [{ name: "http", port: 80, targetPort: 8080, protocol: "TCP" }],
    },
  });
  const slice = (ns: string, name: string, family: "IPv4" | "IPv6") => ({
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: `${name}-lab`, namespace: ns, labels: { "kubernetes.io/service-name": name } },
    addressType: family,
    ports: [{ name: "http", port: 8080, protocol: "TCP" }],
    endpoints: [0, 1, 2].map((i) => ({
      addresses: [family === "IPv4" ? `10.244.${i}.10` : `fd00:244:${i + 1}::10`],
      nodeName: nodeName(i),
      conditions: { ready: true, serving: true, terminating: false },
    })),
  });
  await apply([{ apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a" } }]);
  await apply([
    // default/web comes from examples/service.yaml (ipv4-pool: BGP).
    svc("default", "lan-web", "dual-stack-pool", "IPv4"),
    svc("default", "lan-web6", "ipv6-pool", "IPv6"),
    svc("team-a", "frontend", undefined, "IPv4", { tier: "frontend" }),
    slice("default", "web", "IPv4"),
    slice("default", "lan-web", "IPv4"),
    slice("default", "lan-web6", "IPv6"),
    slice("team-a", "frontend", "IPv4"),
  ]);
}

// ---------------------------------------------------------------------------- observation

interface KList<T> {
  items: T[];
}
interface KService {
  metadata: { name: string; namespace: string; annotations?: Record<string, string> };
  spec: { type?: string };
  status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } };
}
interface KStatus {
  status?: { node?: string; serviceName?: string; serviceNamespace?: string; peers?: string[] };
}
interface KSession {
  metadata: { name: string };
  spec: { node: string; peer: string; peerAddress: string };
  status?: { state?: string; lastError?: string };
}

async function services(): Promise<Svc[]> {
  const list = JSON.parse(await kubectl(["get", "svc", "-A", "-o", "json"])) as KList<KService>;
  return list.items
    .filter((s) => s.spec.type === "LoadBalancer")
    .map((s) => ({
      ns: s.metadata.namespace,
      name: s.metadata.name,
      ips: (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? "").filter(Boolean),
      pool:
        s.metadata.annotations?.["metallb.io/ip-allocated-from-pool"] ??
        s.metadata.annotations?.["metallb.io/address-pool"],
    }))
    .sort((a, b) => `${a.ns}/${a.name}`.localeCompare(`${b.ns}/${b.name}`));
}

async function sessions(): Promise<KSession[]> {
  return (JSON.parse(await kubectl(["get", "bgpsessions", "-n", NS, "-o", "json"])) as KList<KSession>).items;
}

async function waitSettled(timeoutMs: number, routers: Frr[]): Promise<Svc[]> {
  const deadline = Date.now() + timeoutMs;
  let svcs: Svc[] = [];
  for (;;) {
    svcs = await services().catch(() => svcs);
    const allIps = svcs.every((s) => s.ips.length > 0);
    const sess = await sessions().catch(() => []);
    const established = sess.length > 0 && sess.every((s) => s.status?.state === "Established");
    let routes = 0;
    for (const r of routers) routes += Object.keys((await rib(r, "ipv4")).routes ?? {}).length;
    if (allIps && established && routes > 0) return svcs;
    if (Date.now() > deadline) return svcs;
    await sleep(1000);
  }
}

interface Rib {
  routes?: Record<
    string,
    Array<{ valid?: boolean; bestpath?: boolean; multipath?: boolean; nexthops?: Array<{ ip?: string }> }>
  >;
}
async function rib(f: Frr, fam: "ipv4" | "ipv6"): Promise<Rib> {
  return f.json<Rib>(`show bgp ${fam} unicast json`).catch(() => ({}));
}

/** Does prefix (a.b.c.d/len or v6/len) contain ip? IPv4 exactly; IPv6 by exact /128 only (enough here). */
function contains(prefix: string, ip: string): boolean {
  const [net4, lenText] = prefix.split("/");
  const len = Number(lenText);
  if (ip.includes(":") || net4.includes(":"))
    return ip.includes(":") && net4.includes(":") && (net4 === ip || prefix === `${ip}/128`);
  const v = (a: string): number => a.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
  const mask = len === 0 ? 0 : 2 ** 32 - 2 ** (32 - len);
  return (v(net4) & mask) >>> 0 === (v(ip) & mask) >>> 0;
}

/** The client's ARP (IPv4) or NDP (IPv6) answer for ip: a table cell and the hosts that answered. */
async function arpAnswer(ip: string, nodeOfMac: (mac: string) => string): Promise<{ text: string; hosts: string[] }> {
  const c = net!.client;
  if (ip.includes(":")) {
    const r = await net!.exec(c.ns, ["ndisc6", "-1", "-r", "2", "-w", "1000", ip, c.ifname], 8000);
    const mac = /Target link-layer address:\s*([0-9A-Fa-f:]{17})/.exec(r.stdout)?.[1]?.toLowerCase();
    return mac
      ? { text: `NDP: ${mac} = ${nodeOfMac(mac)}`, hosts: [nodeOfMac(mac)] }
      : { text: "no NDP answer", hosts: [] };
  }
  const r = await net!.exec(c.ns, ["arping", "-c", "2", "-w", "3", "-I", c.ifname, ip], 8000);
  const macs = [...new Set([...r.stdout.matchAll(/\[([0-9A-Fa-f:]{17})\]/g)].map((m) => m[1].toLowerCase()))];
  if (macs.length === 0) return { text: "no ARP answer", hosts: [] };
  const text = `ARP: ${macs.map((m) => `${m} = ${nodeOfMac(m)}`).join("; ")}${macs.length > 1 ? " (CONFLICT: several MACs)" : ""}`;
  return { text, hosts: macs.map(nodeOfMac) };
}

async function statusTable(svcs: Svc[], frrA: Frr, frrB: Frr): Promise<{ text: string; allReachable: boolean }> {
  const l2 = (
    JSON.parse(
      await kubectl(["get", "servicel2statuses", "-n", NS, "-o", "json"]).catch(() => '{"items":[]}'),
    ) as KList<KStatus>
  ).items;
  const bgp = (
    JSON.parse(
      await kubectl(["get", "servicebgpstatuses", "-n", NS, "-o", "json"]).catch(() => '{"items":[]}'),
    ) as KList<KStatus>
  ).items;
  const sess = await sessions().catch(() => [] as KSession[]);
  const ribs = [
    { name: "router-a", v4: await rib(frrA, "ipv4"), v6: await rib(frrA, "ipv6") },
    { name: "router-b", v4: await rib(frrB, "ipv4"), v6: await rib(frrB, "ipv6") },
  ];
  const byAddr = new Map<string, string>();
  const byMac = new Map<string, string>();
  net!.nodes.forEach((h, i) => {
    byAddr.set(h.ipv4, nodeName(i)).set(h.ipv6, nodeName(i));
    byMac.set(h.mac, nodeName(i));
  });
  for (const h of [net!.client, net!.router!]) byMac.set(h.mac, `${h.ns} (not a node!)`);
  const nodeOfMac = (mac: string): string => byMac.get(mac) ?? "unknown host";

  const header = [
    "SERVICE",
    "IP",
    "L2 OWNER (ServiceL2Status)",
    "BGP SESSIONS (BGPSession status)",
    "FRR ROUTES -> NEXT HOPS",
    "CLIENT ARP/NDP",
    "REACHABLE",
  ];
  const rows: string[][][] = [];
  let reachable = 0;
  let addresses = 0;
  for (const s of svcs) {
    const key = (x: KStatus): boolean => x.status?.serviceName === s.name && x.status?.serviceNamespace === s.ns;
    const owners = l2.filter(key).map((x) => x.status?.node ?? "?");
    const bgpStatuses = bgp.filter(key);
    const sessionLines = bgpStatuses.flatMap((x) =>
      (x.status?.peers ?? []).map((peer) => {
        const se = sess.find((y) => y.spec.node === x.status?.node && y.spec.peer === peer);
        const st = se ? (se.status?.state ?? "no status yet") : "no BGPSession";
        return `${x.status?.node} -> ${peer}: ${st}`;
      }),
    );
    // Router -> nodes announcing this Service to it over an Established session.
    const bgpExpected = new Map<string, Set<string>>(ribs.map((r) => [r.name, new Set<string>()]));
    for (const x of bgpStatuses) {
      for (const peer of x.status?.peers ?? []) {
        const up = sess.some(
          (y) => y.spec.node === x.status?.node && y.spec.peer === peer && y.status?.state === "Established",
        );
        if (up && x.status?.node) bgpExpected.get(peer)?.add(x.status.node);
      }
    }
    const ips = s.ips.length ? s.ips : [""];
    for (const ip of ips) {
      const routeLines: string[] = [];
      const bgpRoutes = new Map<string, Set<string>>();
      if (ip) {
        for (const r of ribs) {
          const table = ip.includes(":") ? r.v6 : r.v4;
          for (const [prefix, paths] of Object.entries(table.routes ?? {})) {
            if (!contains(prefix, ip)) continue;
            const valid = paths.filter((p) => p.valid !== false);
            const hops = valid.map((p) => {
              const hop = p.nexthops?.[0]?.ip ?? "?";
              const mark = p.bestpath ? "*" : p.multipath ? "=" : "";
              return `${byAddr.get(hop) ?? hop}${mark}`;
            });
            const nodes = bgpRoutes.get(r.name) ?? new Set<string>();
            for (const p of valid) nodes.add(byAddr.get(p.nexthops?.[0]?.ip ?? "") ?? p.nexthops?.[0]?.ip ?? "?");
            bgpRoutes.set(r.name, nodes);
            routeLines.push(`${r.name} ${prefix} via ${hops.join(",") || "(no valid path)"}`);
          }
        }
      }
      const arp = ip ? await arpAnswer(ip, nodeOfMac) : { text: "-", hosts: [] };
      const verdict = ip
        ? judgeAddress({ l2Owners: owners, answeredBy: arp.hosts, bgpExpected, bgpRoutes })
        : { reachable: false, lines: ["NO: no address yet"] };
      addresses++;
      if (verdict.reachable) reachable++;
      rows.push([
        [`${s.ns}/${s.name}`, s.pool ? `(pool ${s.pool})` : ""].filter(Boolean),
        [ip || "<pending>"],
        owners.length ? owners.map((o) => (owners.length > 1 ? `${o} (SEVERAL OWNERS)` : o)) : ["-"],
        sessionLines.length ? sessionLines : ["-"],
        routeLines.length ? routeLines : [ip ? "no route in FRR" : "-"],
        [arp.text],
        [verdict.reachable ? "yes" : "NO", ...verdict.lines.filter((l) => !verdict.reachable || !l.startsWith("NO"))],
      ]);
    }
  }
  const widths = header.map((h, c) => Math.max(h.length, ...rows.flatMap((r) => r[c].map((l) => l.length))));
  const line = (cells: string[]): string =>
    cells
      .map((t, c) => t.padEnd(widths[c]))
      .join("  ")
      .trimEnd();
  const out = [line(header), line(widths.map((w) => "-".repeat(w)))];
  for (const r of rows) {
    const height = Math.max(...r.map((c) => c.length));
    for (let k = 0; k < height; k++) out.push(line(r.map((c) => c[k] ?? "")));
  }
  out.push(
    "",
    reachable === addresses
      ? `REACHABLE: all ${addresses} Service addresses (L2: the owner answers the client; BGP: every router has the route via exactly the announcing nodes).`
      : `REACHABLE: ${reachable} of ${addresses} Service addresses; the rows marked NO say why.`,
  );
  // Every session, including those no Service uses yet.
  out.push("", "BGP sessions (kubectl get bgpsessions -n metallb-system):");
  for (const se of [...sess].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
    out.push(
      `  ${se.spec.node} -> ${se.spec.peer} (${se.spec.peerAddress}): ${se.status?.state ?? "no status yet"}${se.status?.lastError ? `  last error: ${se.status.lastError}` : ""}`,
    );
  }
  if (sess.length === 0) out.push("  (none)");
  out.push(
    "",
    "  next hops: * best path, = multipath; ARP/NDP answers are what the client namespace saw, MAC -> node.",
  );
  out.push("  BGP-only addresses are off the link, so no ARP answer is the expected result for them.");
  return { text: out.join("\n"), allReachable: reachable === addresses };
}

function printInstructions(cluster: RunningCluster, rtr2: string): void {
  const c = net!.client;
  console.log(`
The lab is up. In another shell (as root):

  export KUBECONFIG=${cluster.kubeconfig}
  alias kubectl=${cluster.kubectl}
  kubectl get svc -A
  kubectl get servicel2statuses,servicebgpstatuses,bgpsessions -n metallb-system
  ip netns exec ${c.ns} arping -c 3 -I ${c.ifname} 192.0.2.64
  ip netns exec ${c.ns} ndisc6 2001:db8:1::100 ${c.ifname}
  ip netns exec ${net!.router!.ns} vtysh --vty_socket ${join(stateDir, "frr-router-a")} -c 'show bgp ipv4 unicast'
  ip netns exec ${rtr2} vtysh --vty_socket ${join(stateDir, "frr-router-b")} -c 'show bgp summary'

Logs: ${stateDir}/{pepr-dev.log,agent-node-*.log,apiserver.log,frr-router-*/bgpd.log}
Namespaces: ${state.namespaces.join(" ")}

Ctrl-C here, or \`npm run lab -- down\` from another shell, removes everything the lab made.
`);
}

// ---------------------------------------------------------------------------- main

async function main(): Promise<void> {
  mkdirSync(labDir, { recursive: true });
  if ((process.argv[2] ?? "up") === "down") return down();
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(sig, () => {
      void teardown().finally(() => process.exit(0));
    });
  }
  if (!existsSync(BGPD)) throw new Error(`FRR's bgpd is missing (${BGPD}): run hack/install-deps.sh as root`);
  try {
    await up();
  } catch (e) {
    console.error(`lab: ${(e as Error).message}`);
    await teardown();
    process.exit(1);
  }
  // Stay in the foreground until a signal arrives.
  setInterval(() => undefined, 1 << 30);
}

void main();
