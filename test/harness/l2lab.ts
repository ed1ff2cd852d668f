/**
 * An L2 lab on top of netlab.ts and the test control plane: Node objects for each node
 * namespace, a pool and an L2Advertisement, real agent processes (dist bundle) inside the
 * node namespaces, and client-side probes (arping, ip neigh). Shared by the L2 lab test
 * and the failover benchmark. Everything it creates in the API server is labelled
 * `metallb-pepr.test/l2lab=<run id>` and removed by `destroy()`.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { buildSync } from "esbuild";
import { AGENT_NODE_OPTIONS } from "../../capabilities/shared/kube/agent-manifests";
import { writeAgentKubeconfig } from "./agent-kubeconfig";
import { kubectl, kubectlOk, deleteTestNamespace } from "./kubectl";
import { repoRoot } from "./local-cluster";
import { NetLab, apiPortFromKubeconfig, type LabHost, type LabProcess } from "./netlab";

export const NS = "metallb-system";

export interface L2LabOptions {
  nodes?: number;
  /** Extra env for every agent. */
  agentEnv?: Record<string, string>;
  /** Pool addresses (default: 192.0.2.160-199 and 2001:db8:1::160-1ff). */
  addresses?: string[];
  /** Extra L2Advertisement spec fields (nodeSelectors, ...). */
  advertisement?: Record<string, unknown>;
  /** Add a router namespace (192.0.2.1) for BGP peers (default false). */
  router?: boolean;
  /** Namespace prefix id (netlab.ts `runId`); random by default. */
  runId?: string;
  /**
   * Wait at setup until every agent serves L2 (default true). A caller whose nodes become
   * eligible only later (the failover benchmark) passes false and calls `waitServing()`.
   */
  waitServing?: boolean;
}

/** Builds the rawnet addon if needed and the agent bundle; returns their paths. */
export function buildAgent(outDir: string): { agentJs: string; addon: string } {
  const addon = join(repoRoot, "build", "Release", "rawnet.node");
  if (!existsSync(addon))
    execFileSync("bash", [join(repoRoot, "hack", "build-native.sh")], { cwd: repoRoot, stdio: "pipe" });
  mkdirSync(outDir, { recursive: true });
  const agentJs = join(outDir, "agent.js");
  buildSync({
    entryPoints: [join(repoRoot, "capabilities", "announcer", "agent", "main.ts")],
    bundle: true,
    platform: "node",
    target: "node20",
    keepNames: true, // kubernetes-fluent-client maps kinds by class name
    external: ["*.node"],
    outfile: agentJs,
    logLevel: "warning",
  });
  return { agentJs, addon };
}

/** The agent's environment in labs and benchmarks: what the DaemonSet gives it, plus the addon's path. */
export function agentEnvironment(node: string, kubeconfig: string, addon: string): Record<string, string> {
  return {
    NODE_NAME: node,
    NODE_OPTIONS: AGENT_NODE_OPTIONS,
    KUBECONFIG: kubeconfig,
    METALLB_PEPR_RAWNET: addon,
    METALLB_NAMESPACE: NS,
  };
}

export class L2Lab {
  readonly agents = new Map<string, LabProcess>();
  readonly nodeNames: string[];
  readonly pool: string;
  readonly runLabel: string;
  private readonly kubeconfig: string;
  /** The agents authenticate as the agent ServiceAccount (its RBAC is under test too). */
  private agentKubeconfig = "";
  private readonly apiPort: number;
  private readonly bundle: { agentJs: string; addon: string };

  private constructor(
    readonly net: NetLab,
    private readonly opts: L2LabOptions,
  ) {
    this.kubeconfig = process.env.KUBECONFIG!;
    this.apiPort = apiPortFromKubeconfig(this.kubeconfig);
    this.nodeNames = net.nodes.map((n) => n.ns);
    this.pool = `${net.prefix}pool`;
    this.runLabel = `metallb-pepr.test/l2lab=${net.prefix.slice(0, -1)}`;
    this.bundle = buildAgent(join(net.dir, "agent"));
  }

  static async create(opts: L2LabOptions = {}): Promise<L2Lab> {
    if (!process.env.KUBECONFIG || !process.env.KUBECTL)
      throw new Error("KUBECONFIG/KUBECTL unset: run through the integration project's global setup");
    const net = await NetLab.create({
      nodes: opts.nodes ?? 3,
      router: opts.router ?? false,
      ...(opts.runId ? { runId: opts.runId } : {}),
    });
    const lab = new L2Lab(net, opts);
    try {
      await lab.setup();
    } catch (err) {
      await lab.destroy();
      throw err;
    }
    return lab;
  }

  host(node: string): LabHost {
    const h = this.net.nodes.find((n) => n.ns === node);
    if (!h) throw new Error(`no lab node ${node}`);
    return h;
  }

  nodeByMac(mac: string): string | undefined {
    return this.net.nodes.find((n) => n.mac === mac.toLowerCase())?.ns;
  }

  get label(): [string, string] {
    const [k, v] = this.runLabel.split("=");
    return [k, v];
  }

  private async setup(): Promise<void> {
    const [k, v] = this.label;
    const nodes = this.nodeNames.map((name) => ({
      apiVersion: "v1",
      kind: "Node",
      metadata: { name, labels: { [k]: v, "kubernetes.io/hostname": name } },
    }));
    const addresses = this.opts.addresses ?? ["192.0.2.160-192.0.2.199", "2001:db8:1::160-2001:db8:1::1ff"];
    const objects = [
      ...nodes,
      {
        apiVersion: "metallb.io/v1beta1",
        kind: "IPAddressPool",
        metadata: { name: this.pool, namespace: NS, labels: { [k]: v } },
        spec: { addresses, autoAssign: false },
      },
      {
        apiVersion: "metallb.io/v1beta1",
        kind: "L2Advertisement",
        metadata: { name: this.pool, namespace: NS, labels: { [k]: v } },
        spec: { ipAddressPools: [this.pool], ...this.opts.advertisement },
      },
      { apiVersion: "v1", kind: "Namespace", metadata: { name: this.serviceNamespace, labels: { [k]: v } } },
    ];
    await kubectlOk(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
    this.agentKubeconfig = await writeAgentKubeconfig(
      this.kubeconfig,
      process.env.KUBECTL!,
      join(this.net.dir, "agent-kubeconfig"),
    );
    for (const h of this.net.nodes) await this.net.startApiBridge(h.ns, this.apiPort);
    await Promise.all(this.nodeNames.map((n) => this.startAgent(n)));
    if (this.opts.waitServing ?? true) await this.waitServing();
  }

  /**
   * Waits until every agent of this lab is in L2 quorum and serving (`metallb_agent_fenced 0`):
   * the controller adds voters to the roster one at a time, 5 s apart, so right after start-up
   * an agent may not vote yet, and a test would meet ownership still settling.
   */
  async waitServing(timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const node of this.nodeNames) {
      for (;;) {
        const r = await this.net.exec(node, ["curl", "-s", "--max-time", "2", "http://127.0.0.1:7472/metrics"]);
        if (/^metallb_agent_fenced 0$/m.test(r.stdout)) break;
        if (Date.now() > deadline) throw new Error(`the agent of ${node} is not serving L2 after ${timeoutMs} ms`);
        await new Promise((res) => setTimeout(res, 250));
      }
    }
  }

  get serviceNamespace(): string {
    return `${this.net.prefix}svc`;
  }

  /** Starts (or restarts) the agent of `node`; resolves once it is ready. */
  async startAgent(node: string, env: Record<string, string> = {}): Promise<LabProcess> {
    const p = this.net.spawnIn(
      node,
      [process.execPath, this.bundle.agentJs],
      {
        ...agentEnvironment(node, this.agentKubeconfig, this.bundle.addon),
        METALLB_HEARTBEAT_ADDRESS: this.host(node).ipv4,
        ...this.opts.agentEnv,
        ...env,
      },
      join(this.net.dir, `agent-${node}.log`),
    );
    this.agents.set(node, p);
    await p.waitFor("agent ready", 20_000);
    return p;
  }

  /** Sets (or, with undefined, removes) a label on a lab Node object. */
  async labelNode(node: string, key: string, value: string | undefined): Promise<void> {
    await kubectlOk(["label", "node", node, "--overwrite", value === undefined ? `${key}-` : `${key}=${value}`]);
  }

  /** Creates a LoadBalancer Service in this lab's pool; returns its name. */
  async createService(
    name: string,
    ip: string,
    extra: { local?: boolean; family?: 4 | 6; annotations?: Record<string, string> } = {},
  ): Promise<void> {
    const [k, v] = this.label;
    const family = extra.family ?? (ip.includes(":") ? 6 : 4);
    const svc = {
      apiVersion: "v1",
      kind: "Service",
      metadata: {
        name,
        namespace: this.serviceNamespace,
        labels: { [k]: v },
        annotations: { "metallb.io/address-pool": this.pool, "metallb.io/loadBalancerIPs": ip, ...extra.annotations },
      },
      spec: {
        type: "LoadBalancer",
        ports: [{ port: 80, protocol: "TCP" }],
        ipFamilyPolicy: "SingleStack",
        ipFamilies: [family === 6 ? "IPv6" : "IPv4"],
        ...(extra.local ? { externalTrafficPolicy: "Local" } : {}),
      },
    };
    await kubectlOk(["apply", "-f", "-"], JSON.stringify(svc));
  }

  /** Replaces the EndpointSlice of a Service with one serving endpoint per given node. */
  async setEndpoints(service: string, nodes: string[]): Promise<void> {
    const [k, v] = this.label;
    const slice = {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: {
        name: `${service}-lab`,
        namespace: this.serviceNamespace,
        labels: { [k]: v, "kubernetes.io/service-name": service },
      },
      addressType: "IPv4",
      ports: [{ port: 80, protocol: "TCP" }],
      endpoints: nodes.map((n, i) => ({ addresses: [`10.244.${i}.10`], nodeName: n, conditions: { ready: true } })),
    };
    await kubectlOk(["apply", "-f", "-"], JSON.stringify(slice));
  }

  /** The node named by the ServiceL2Status objects of `service` (undefined: none, or more than one). */
  async owner(service: string): Promise<string | undefined> {
    return (await this.owners()).get(service);
  }

  /** Owner node of every Service of this lab that has exactly one ServiceL2Status. */
  async owners(): Promise<Map<string, string>> {
    const out = await kubectlOk([
      "get",
      "servicel2statuses",
      "-n",
      NS,
      "-l",
      `metallb.io/service-namespace=${this.serviceNamespace}`,
      "-o",
      "json",
    ]);
    const items = (JSON.parse(out) as { items: Array<{ status?: { node?: string; serviceName?: string } }> }).items;
    const count = new Map<string, number>();
    const owner = new Map<string, string>();
    for (const it of items) {
      const name = it.status?.serviceName;
      if (!name || !it.status?.node) continue;
      count.set(name, (count.get(name) ?? 0) + 1);
      owner.set(name, it.status.node);
    }
    for (const [name, n] of count) if (n !== 1) owner.delete(name);
    return owner;
  }

  /** Polls until `service` has exactly one owner satisfying `ok`. */
  async waitOwner(service: string, ok: (node: string) => boolean = () => true, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const o = await this.owner(service).catch(() => undefined);
      if (o && ok(o)) return o;
      if (Date.now() > deadline)
        throw new Error(`no suitable L2 owner for ${service} within ${timeoutMs} ms (last: ${o})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** One ARP probe from the client; the MAC that answered, or undefined. */
  async arping(ip: string, waitS = 2): Promise<string | undefined> {
    const c = this.net.client;
    const r = await this.net.exec(
      c.ns,
      ["arping", "-b", "-c", "1", "-w", String(waitS), "-I", c.ifname, ip],
      (waitS + 3) * 1000,
    );
    return /\[([0-9A-Fa-f:]{17})\]/.exec(r.stdout)?.[1]?.toLowerCase();
  }

  /** The client's neighbour entry for `ip`: the MAC, or undefined. */
  async neighbour(ip: string): Promise<string | undefined> {
    const c = this.net.client;
    const r = await this.net.exec(c.ns, [
      "ip",
      ...(ip.includes(":") ? ["-6"] : []),
      "neigh",
      "show",
      ip,
      "dev",
      c.ifname,
    ]);
    return /lladdr ([0-9a-f:]{17})/.exec(r.stdout)?.[1];
  }

  /** Removes what this lab created in the API server, then the network lab. */
  async destroy(): Promise<void> {
    await this.net.destroy();
    const sel = ["-l", this.runLabel];
    await kubectl(["delete", "endpointslices", "--all", "-n", this.serviceNamespace, "--ignore-not-found"]);
    await deleteTestNamespace(this.serviceNamespace);
    // Whatever a test added with the run label too (BGPPeers, BGPAdvertisements).
    await kubectl([
      "delete",
      "l2advertisements,bgpadvertisements,bgppeers,ipaddresspools",
      "-n",
      NS,
      ...sel,
      "--ignore-not-found",
    ]);
    await kubectl(["delete", "nodes", ...sel, "--ignore-not-found"]);
    for (const n of this.nodeNames) {
      await kubectl(["delete", "lease", "-n", NS, `metallb-agent-${n}`, "--ignore-not-found"]);
      await kubectl(["delete", "servicel2statuses", "-n", NS, "-l", `metallb.io/node=${n}`, "--ignore-not-found"]);
    }
  }
}
