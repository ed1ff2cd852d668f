/**
 * Robustness lab (issue 13 point 5): a peer that floods must not starve the agent.
 *
 * The real API server and controller (the integration project's `pepr dev`), one node
 * namespace running the real agent as the agent ServiceAccount, and two peers:
 *   - FRR in the router namespace (192.0.2.1, AS 64512), well behaved, TCP MD5 with the
 *     password from a Secret, timers 1/3 s: if the agent's event loop stalls for 3 s, FRR
 *     drops the session, and that is what the test watches;
 *   - a flooding speaker written here (AS 64514) with the project's own codec. Its TCP end
 *     is in the client namespace (192.0.2.2:179): a small pipe process there hands each
 *     connection over a Unix socket to this process, which speaks BGP on it.
 * 1,000 LoadBalancer Services are advertised to both. Then:
 *   1. the flooder sends 10,000 ROUTE-REFRESH messages at once;
 *   2. it announces 1,000,000 IPv6 prefixes (the agent runs with METALLB_BGP_MAX_PREFIXES
 *      1,000,000), then one more;
 *   3. the agent is denied Secret reads and made to read its password again.
 * What is asserted is what a user sees: FRR's session never leaves Established; the
 * flooding session ends with NOTIFICATION Cease / Maximum Number of Prefixes Reached and is
 * not re-dialled at once; `kubectl get bgpsessions` says why; the agent's peak RSS stays
 * under its 256Mi limit. Timings are printed, not asserted: event-loop delay from the agent's
 * own nodejs_eventloop_lag_max_seconds, RSS, and the agent's Lease renewals over both floods as
 * the API server recorded them (the Lease is renewed every METALLB_LEASE_RENEW_MS, 10 s).
 * The lab has no L2Advertisement, so the agent is no L2 voter: its `metallb_agent_fenced` 1
 * means "not an L2 member" here (the MetalLBAgentFenced alert leaves such agents out).
 *
 * Namespaces are named mlb-rb-*; every address is in 192.0.2.0/24, 198.18.0.0/15 or
 * 2001:db8::/32. Set MLB_RB_AGENT_JS to run another agent bundle (a before/after figure).
 * Needs root, Linux, FRR (hack/install-deps.sh) and the rawnet addon (hack/build-native.sh).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { join } from "node:path";
import { AGENT_NAME } from "../../capabilities/shared/kube/agent-manifests";
import { decodeMessage } from "../../capabilities/announcer/agent/bgp/decode";
import { encodeMessage } from "../../capabilities/announcer/agent/bgp/encode";
import {
  IPV4_UNICAST,
  IPV6_UNICAST,
  type Message,
  type OpenMessage,
  type UpdateMessage,
} from "../../capabilities/announcer/agent/bgp/messages";
import { MessageReader } from "../../capabilities/announcer/agent/bgp/reader";
import { parseIP, type CIDR } from "../../capabilities/shared/net/ip";
import { writeAgentKubeconfig } from "../harness/agent-kubeconfig";
import { Frr } from "../harness/frr";
import { kubectl, kubectlOk, deleteTestNamespace } from "../harness/kubectl";
import { agentEnvironment, buildAgent } from "../harness/l2lab";
import { labDescribe, needs } from "../harness/lab-suite";
import { NetLab, apiPortFromKubeconfig, type LabProcess } from "../harness/netlab";
import { sleep, until } from "../harness/wait";

const d = labDescribe("BGP robustness: a peer that floods", needs.lab, needs.frr, needs.addon);

const NS = "metallb-system";
const FRR_AS = 64512;
const NODE_AS = 64513;
const FLOOD_AS = 64514;
const SERVICES = 1000;
const REFRESHES = 10_000;
const FLOOD = 1_000_000;
const MAX_PREFIXES = 1_000_000;
const LIMIT_MIB = 256; // the agent DaemonSet's memory limit (agent-manifests.ts)
const RUN = "mlb-rb";
const LABEL = ["metallb-pepr.test/robustness", RUN] as const;
const PASSWORD = "rb-s3cret";

/** In the client namespace: 192.0.2.2:179 piped to a Unix socket of this process. */
const PIPE_SCRIPT = `
const net = require("net");
const [host, port, path] = process.argv.slice(1);
net.createServer((c) => {
  const u = net.connect(path);
  c.pipe(u); u.pipe(c);
  const end = () => { c.destroy(); u.destroy(); };
  c.on("error", end); u.on("error", end); c.on("close", end); u.on("close", end);
}).listen(Number(port), host, () => console.log("pipe listening"));
`;

/** 2001:db8:<i>::/64, i < 2^32: a million distinct documentation prefixes. */
const v6Prefix = (i: number): CIDR => ({
  family: 6,
  base: (0x20010db8n << 96n) | (BigInt(i) << 64n),
  prefixLength: 64,
});
/** 198.18.0.0/15 (RFC 2544), skipping .0 */
const serviceIP = (k: number): string => {
  const v = 0xc6120000 + k + 1;
  return [24, 16, 8, 0].map((s) => (v >>> s) & 255).join(".");
};

/** One connection from the agent, seen from the flooding router. */
class FloodSession {
  readonly reader = new MessageReader();
  established = false;
  eor = false;
  updates = 0;
  /** IPv4 prefixes the agent announced to us, counted over every UPDATE. */
  announced = 0;
  notification?: { code: number; subcode: number; data: Buffer };
  closed = false;
  private keepalive?: NodeJS.Timeout;

  constructor(readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      for (const f of this.reader.push(chunk)) {
        if (f.kind !== "frame") throw new Error(`agent sent a bad frame: ${f.error.reason}`);
        const m = decodeMessage(f.bytes, { fourOctetAS: true });
        if (!m.ok) throw new Error(`agent sent an undecodable message: ${m.error.reason}`);
        this.onMessage(m.message);
      }
    });
    socket.on("close", () => {
      this.closed = true;
      clearInterval(this.keepalive);
    });
    socket.on("error", () => undefined);
  }

  private onMessage(m: Message): void {
    switch (m.type) {
      case "open": {
        const open: OpenMessage = {
          type: "open",
          version: 4,
          myAS: FLOOD_AS,
          holdTime: 30,
          bgpId: parseIP("192.0.2.2")!,
          capabilities: [
            { type: "multiprotocol", ...IPV4_UNICAST },
            { type: "multiprotocol", ...IPV6_UNICAST },
            { type: "route-refresh" },
            { type: "four-octet-as", asn: FLOOD_AS },
          ],
        };
        this.send(open);
        this.send({ type: "keepalive" });
        this.keepalive = setInterval(() => this.send({ type: "keepalive" }), 10_000);
        return;
      }
      case "keepalive":
        this.established = true;
        return;
      case "update":
        this.updates++;
        this.announced += m.nlri.length;
        if (m.nlri.length === 0 && m.withdrawn.length === 0 && m.attributes.length === 0) this.eor = true;
        return;
      case "notification":
        this.notification = { code: m.code, subcode: m.subcode, data: m.data };
        return;
      default:
        return;
    }
  }

  send(m: Message): boolean {
    return this.socket.destroyed ? false : this.socket.write(encodeMessage(m, { fourOctetAS: true }));
  }

  /**
   * Writes whole messages, waiting for 'drain' (our own backpressure); false once closed.
   * Yields a turn after each write: this process also relays the agent's API traffic
   * (the API bridge) and queries FRR, which must not wait for the flood.
   */
  async write(bytes: Buffer): Promise<boolean> {
    if (this.closed || this.socket.destroyed) return false;
    if (!this.socket.write(bytes)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.socket.off("drain", done);
          this.socket.off("close", done);
          resolve();
        };
        this.socket.on("drain", done);
        this.socket.on("close", done);
      });
    }
    await new Promise((r) => setImmediate(r));
    return !this.closed;
  }
}

/**
 * The agent's Lease renewals as the API server stores them: `kubectl get lease -w` prints
 * spec.renewTime at every write. Gaps are taken between the renewTimes the agent wrote (its
 * clock, this host's), so a renewal it was late to start shows however fast it then landed.
 */
class LeaseRenewals {
  private readonly times: number[] = [];
  private readonly child: ChildProcess;
  private partial = "";
  private readonly startedAt = Date.now();

  constructor(namespace: string, name: string) {
    this.child = spawn(
      process.env.KUBECTL!,
      ["get", "lease", name, "-n", namespace, "-w", "-o", 'jsonpath={.spec.renewTime}{"\\n"}'],
      { env: process.env, stdio: ["ignore", "pipe", "ignore"] },
    );
    this.child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      const lines = (this.partial + chunk).split("\n");
      this.partial = lines.pop()!;
      for (const line of lines) {
        const t = Date.parse(line.trim()); // MicroTime: V8 reads the six fractional digits
        if (Number.isFinite(t) && t !== this.times.at(-1)) this.times.push(t);
      }
    });
  }

  /**
   * Stops watching. The first time is the renewal before the window opened; the open gap from
   * the last renewal to now counts too (a renewal that never came is the latest of all).
   */
  stop(): { renewals: number; windowSeconds: number; longestGapSeconds: number } {
    this.child.kill();
    const now = Date.now();
    const points = [...this.times, now];
    let longest = 0;
    for (let i = 1; i < points.length; i++) longest = Math.max(longest, points[i]! - points[i - 1]!);
    return {
      renewals: this.times.filter((t) => t >= this.startedAt).length,
      windowSeconds: Math.round((now - this.startedAt) / 100) / 10,
      longestGapSeconds: Math.round(longest / 100) / 10,
    };
  }
}

interface FrrNeighbor {
  bgpState?: string;
  connectionsEstablished?: number;
  connectionsDropped?: number;
}

d("BGP robustness: a flooding peer, a well-behaved FRR, the real agent", () => {
  let lab: NetLab;
  let frr: Frr;
  let agent: LabProcess;
  let agentPid = 0;
  const sessions: FloodSession[] = [];
  let unixServer: net.Server;
  const figures: Record<string, number | string> = {};
  /** Over both floods: from the first ROUTE-REFRESH to the flooding session's end. */
  let renewals: LeaseRenewals | undefined;
  const nodeName = `${RUN}-n0`;
  const node = "192.0.2.11";
  const frrSessionName = `${RUN}-frr-${nodeName}`;
  const floodSessionName = `${RUN}-flood-${nodeName}`;
  const serviceNs = `${RUN}-svc`;

  const neighbor = async (): Promise<FrrNeighbor> =>
    (await frr.json<Record<string, FrrNeighbor>>(`show bgp neighbors ${node} json`))[node] ?? {};
  const pfxRcd = async (): Promise<number> => {
    const s = await frr.json<{ ipv4Unicast?: { peers?: Record<string, { pfxRcd?: number }> } }>(
      "show bgp summary json",
    );
    return s.ipv4Unicast?.peers?.[node]?.pfxRcd ?? 0;
  };
  const metrics = async (): Promise<string> => lab.execOk(nodeName, ["curl", "-s", "http://127.0.0.1:7472/metrics"]);
  const metric = (text: string, name: string): number =>
    Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, "m").exec(text)?.[1] ?? NaN);
  const rss = (field: "VmRSS" | "VmHWM"): number => {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${agentPid}/status`, "utf8"));
    return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : NaN;
  };
  const bgpSession = async (name: string) =>
    JSON.parse(await kubectlOk(["get", "bgpsession", name, "-n", NS, "-o", "json"])) as {
      status?: { state?: string; receivedPrefixes?: number; lastError?: string };
    };

  /** Watches FRR's session while `work` runs: every state seen, and drops counted. */
  async function frrThroughout<T>(what: string, work: () => Promise<T>): Promise<T> {
    const before = await neighbor();
    const states = new Set<string>();
    let unanswered = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const n = await neighbor().catch(() => undefined);
        if (n?.bgpState) states.add(n.bgpState);
        else unanswered++; // vtysh timed out: no news either way (drops are counted below)
        await sleep(250);
      }
    })();
    try {
      return await work();
    } finally {
      watching = false;
      await watcher;
      const after = await neighbor();
      figures[`${what}: FRR states seen`] = [...states].join(",");
      if (unanswered > 0) figures[`${what}: FRR queries unanswered`] = unanswered;
      expect([...states]).toEqual(["Established"]);
      expect(after.connectionsDropped).toBe(before.connectionsDropped);
      expect(after.connectionsEstablished).toBe(before.connectionsEstablished);
    }
  }

  function renewalFigures(): void {
    if (!renewals) return;
    const r = renewals.stop();
    renewals = undefined;
    figures["both floods: seconds watched"] = r.windowSeconds;
    figures["both floods: agent Lease renewals the API server stored"] = r.renewals;
    figures["both floods: longest gap between Lease renewals (s; the agent renews every 10 s)"] = r.longestGapSeconds;
  }

  /** Event-loop delay over `work`, from the agent's /metrics (the max resets per scrape). */
  async function measured<T>(what: string, work: () => Promise<T>): Promise<T> {
    const m0 = await metrics();
    const t0 = Date.now();
    const result = await work();
    const m1 = await metrics();
    const seconds = (Date.now() - t0) / 1000;
    figures[`${what}: seconds`] = Math.round(seconds * 10) / 10;
    figures[`${what}: agent event-loop delay max (ms)`] = Math.round(
      metric(m1, "nodejs_eventloop_lag_max_seconds") * 1000,
    );
    figures[`${what}: agent event-loop delay p99 (ms)`] = Math.round(
      metric(m1, "nodejs_eventloop_lag_p99_seconds") * 1000,
    );
    figures[`${what}: agent Lease writes`] =
      metric(m1, "metallb_agent_lease_writes_total") - metric(m0, "metallb_agent_lease_writes_total");
    return result;
  }

  beforeAll(async () => {
    // A run that died leaves its namespaces behind: remove ours, by name.
    for (const ns of execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
      .split("\n")
      .map((l) => l.split(" ")[0]!)) {
      if (ns.startsWith(`${RUN}-`)) execFileSync("ip", ["netns", "del", ns]);
    }
    lab = await NetLab.create({ runId: "rb", nodes: 1, router: true });
    frr = new Frr(lab.router!.ns, join(lab.dir, "frr"));
    frr.start({ asn: FRR_AS, routerId: "192.0.2.1", neighbors: [{ address: node, asn: NODE_AS, password: PASSWORD }] });

    const sock = join(lab.dir, "flood.sock");
    unixServer = net.createServer((c) => sessions.push(new FloodSession(c)));
    await new Promise<void>((r) => unixServer.listen(sock, r));
    const pipe = lab.spawnIn(lab.client.ns, [process.execPath, "-e", PIPE_SCRIPT, "192.0.2.2", "179", sock]);
    await pipe.waitFor("pipe listening");

    const [k, v] = LABEL;
    const labels = { [k]: v };
    const selector = [{ matchLabels: labels }];
    const config = [
      {
        apiVersion: "v1",
        kind: "Node",
        metadata: { name: nodeName, labels: { ...labels, "kubernetes.io/hostname": nodeName } },
      },
      { apiVersion: "v1", kind: "Namespace", metadata: { name: serviceNs, labels } },
      {
        apiVersion: "v1",
        kind: "Secret",
        type: "kubernetes.io/basic-auth",
        metadata: { name: `${RUN}-frr`, namespace: NS, labels },
        stringData: { password: PASSWORD },
      },
      {
        apiVersion: "metallb.io/v1beta1",
        kind: "IPAddressPool",
        metadata: { name: `${RUN}-pool`, namespace: NS, labels },
        spec: { addresses: ["198.18.0.0/22"], autoAssign: false },
      },
      {
        apiVersion: "metallb.io/v1beta1",
        kind: "BGPAdvertisement",
        metadata: { name: `${RUN}-adv`, namespace: NS, labels },
        spec: { ipAddressPools: [`${RUN}-pool`] },
      },
      {
        apiVersion: "metallb.io/v1beta2",
        kind: "BGPPeer",
        metadata: { name: `${RUN}-frr`, namespace: NS, labels },
        spec: {
          myASN: NODE_AS,
          peerASN: FRR_AS,
          peerAddress: "192.0.2.1",
          holdTime: "9s",
          passwordSecret: { name: `${RUN}-frr`, namespace: NS },
          nodeSelectors: selector,
        },
      },
      {
        apiVersion: "metallb.io/v1beta2",
        kind: "BGPPeer",
        metadata: { name: `${RUN}-flood`, namespace: NS, labels },
        spec: { myASN: NODE_AS, peerASN: FLOOD_AS, peerAddress: "192.0.2.2", nodeSelectors: selector },
      },
    ];
    await kubectlOk(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: config }));

    // 1,000 Services, each with a ready backend on the node (nothing is announced without one).
    const objects: unknown[] = [];
    for (let i = 0; i < SERVICES; i++) {
      const name = `rb-${i}`;
      objects.push(
        {
          apiVersion: "discovery.k8s.io/v1",
          kind: "EndpointSlice",
          metadata: {
            name: `${name}-lab`,
            namespace: serviceNs,
            labels: { ...labels, "kubernetes.io/service-name": name },
          },
          addressType: "IPv4",
          ports: [{ port: 80, protocol: "TCP" }],
          endpoints: [{ addresses: ["10.244.0.10"], nodeName, conditions: { ready: true } }],
        },
        {
          apiVersion: "v1",
          kind: "Service",
          metadata: {
            name,
            namespace: serviceNs,
            labels,
            annotations: { "metallb.io/address-pool": `${RUN}-pool`, "metallb.io/loadBalancerIPs": serviceIP(i) },
          },
          spec: {
            type: "LoadBalancer",
            ports: [{ port: 80, protocol: "TCP" }],
            ipFamilyPolicy: "SingleStack",
            ipFamilies: ["IPv4"],
          },
        },
      );
    }
    for (let i = 0; i < objects.length; i += 200) {
      await kubectlOk(
        ["apply", "-f", "-"],
        JSON.stringify({ apiVersion: "v1", kind: "List", items: objects.slice(i, i + 200) }),
      );
    }

    const kubeconfig = process.env.KUBECONFIG!;
    const agentKubeconfig = await writeAgentKubeconfig(
      kubeconfig,
      process.env.KUBECTL!,
      join(lab.dir, "agent-kubeconfig"),
    );
    await lab.startApiBridge(nodeName, apiPortFromKubeconfig(kubeconfig));
    const bundle = buildAgent(join(lab.dir, "agent"));
    const agentJs = process.env.MLB_RB_AGENT_JS ?? bundle.agentJs;
    agent = lab.spawnIn(
      nodeName,
      [process.execPath, agentJs],
      { ...agentEnvironment(nodeName, agentKubeconfig, bundle.addon), METALLB_BGP_MAX_PREFIXES: String(MAX_PREFIXES) },
      join(lab.dir, "agent.log"),
    );
    agentPid = agent.pid;
    await agent.waitFor("agent ready", 30_000);
  }, 600_000);

  afterAll(async () => {
    renewalFigures();
    const rows = Object.entries(figures);
    if (rows.length > 0) {
      console.log(
        ["BGP robustness figures", ...rows.map(([k, v]) => `  ${k.padEnd(72)} ${v}`), JSON.stringify(figures)].join(
          "\n",
        ),
      );
      const out = join(process.cwd(), "bench", "results");
      mkdirSync(out, { recursive: true });
      writeFileSync(
        join(out, "bgp-robustness.json"),
        JSON.stringify({ when: new Date().toISOString(), ...figures }, null, 2),
      );
    }
    for (const s of sessions) s.socket.destroy();
    unixServer?.close();
    await frr?.stop();
    await lab?.destroy();
    const [k, v] = LABEL;
    await deleteTestNamespace(serviceNs);
    // A pool whose addresses a Service held is refused deletion unless forced.
    await kubectl([
      "annotate",
      "ipaddresspools,bgppeers",
      "-n",
      NS,
      "-l",
      `${k}=${v}`,
      "metallb.io/force-delete=true",
      "--overwrite",
    ]);
    await kubectl([
      "delete",
      "bgppeers,bgpadvertisements,ipaddresspools,secrets",
      "-n",
      NS,
      "-l",
      `${k}=${v}`,
      "--ignore-not-found",
    ]);
    await kubectl(["delete", "nodes", "-l", `${k}=${v}`, "--ignore-not-found"]);
    await kubectl(["delete", "lease", "-n", NS, `metallb-agent-${nodeName}`, "--ignore-not-found"]);
  }, 120_000);

  it("both peers get the 1,000 routes: FRR over MD5 with the Secret's password, the flooder over plain TCP", async () => {
    await until(
      "FRR Established with 1,000 prefixes",
      async () => ((await pfxRcd()) >= SERVICES ? true : undefined),
      180_000,
      500,
    );
    const flood = await until(
      "the flooding session's initial routes",
      async () => sessions.find((s) => s.eor && s.announced >= SERVICES),
      60_000,
      250,
    );
    expect(flood.announced).toBe(SERVICES);
    figures["agent RSS with 1,000 routes, two sessions (MB)"] = rss("VmRSS");
  }, 240_000);

  it("10,000 ROUTE-REFRESH at once: coalesced answers, FRR stays Established", async () => {
    const flood = sessions.find((s) => s.established && !s.closed)!;
    const before = flood.announced;
    renewals = new LeaseRenewals(NS, `metallb-agent-${nodeName}`);
    const burst = Buffer.concat(
      Array.from({ length: REFRESHES }, () => encodeMessage({ type: "route-refresh", afi: 1, safi: 1 })),
    );
    await frrThroughout("refresh flood", () =>
      measured("refresh flood", async () => {
        await flood.write(burst);
        // The answers: one at once, the coalesced rest when the 5 s interval ends.
        await sleep(8000);
        const status = await bgpSession(floodSessionName);
        expect(status.status?.state).toBe("Established");
      }),
    );
    const answers = (flood.announced - before) / SERVICES;
    figures["refresh flood: answers sent for 10,000 requests"] = answers;
    expect(answers).toBeGreaterThanOrEqual(1);
    expect(answers).toBeLessThanOrEqual(3);
    expect(flood.closed).toBe(false);
  }, 120_000);

  it("1,000,000 prefixes are counted under the limit; one more ends the session with Cease / Maximum Number of Prefixes Reached", async () => {
    const flood = sessions.find((s) => s.established && !s.closed)!;
    const rssBefore = rss("VmRSS");
    figures["flood: agent RSS before (MB)"] = rssBefore;
    const PER_UPDATE = 440; // /64s (9 octets each) that fit one 4,096-octet UPDATE with MP_REACH_NLRI
    const update = (from: number, count: number): Buffer => {
      const nlri: CIDR[] = [];
      for (let i = from; i < from + count; i++) nlri.push(v6Prefix(i));
      const u: UpdateMessage = {
        type: "update",
        withdrawn: [],
        attributes: [
          { type: "mp-reach", afi: 2, safi: 1, nextHops: [parseIP("2001:db8:1::2")!], nlri },
          { type: "origin", origin: 0 },
          { type: "as-path", segments: [{ type: "sequence", asns: [FLOOD_AS] }] },
        ],
        nlri: [],
      };
      return encodeMessage(u, { fourOctetAS: true });
    };
    // Encoded before the clock starts: what is measured is the agent, not this process.
    const messages: Buffer[] = [];
    for (let sent = 0; sent < FLOOD; sent += PER_UPDATE)
      messages.push(update(sent, Math.min(PER_UPDATE, FLOOD - sent)));
    await frrThroughout("1M prefix flood", () =>
      measured("1M prefix flood", async () => {
        for (const m of messages) if (!(await flood.write(m))) break;
        const s = await until(
          "the agent to count 1,000,000 received prefixes",
          async () => {
            const b = await bgpSession(floodSessionName);
            return b.status?.receivedPrefixes === FLOOD ? b : undefined;
          },
          300_000,
          1000,
        );
        expect(s.status?.state).toBe("Established");
      }),
    );
    figures["flood: agent RSS holding 1,000,000 received prefixes (MB)"] = rss("VmRSS");
    figures["flood: agent peak RSS so far (MB)"] = rss("VmHWM");

    await flood.write(update(FLOOD, 1));
    await until("NOTIFICATION from the agent", async () => flood.notification, 30_000, 100);
    // RFC 4486 §4: Cease (6) / Maximum Number of Prefixes Reached (1); data AFI, SAFI, the limit.
    expect(flood.notification).toEqual({ code: 6, subcode: 1, data: Buffer.from("0002" + "01" + "000f4240", "hex") });
    await until("the agent to close the connection", async () => (flood.closed ? true : undefined), 10_000, 100);
    const status = await until(
      "kubectl get bgpsessions to show why",
      async () => {
        const b = await bgpSession(floodSessionName);
        return b.status?.state !== "Established" && /Maximum Number of Prefixes/.test(b.status?.lastError ?? "")
          ? b
          : undefined;
      },
      15_000,
      500,
    );
    figures["flood: BGPSession lastError"] = status.status!.lastError!;
    renewalFigures();
    figures["agent is an L2 voter (no L2Advertisement here; fenced means not a member)"] =
      metric(await metrics(), "metallb_l2_membership_votes") > 0 ? "yes" : "no";
    // Not re-dialled at once: the agent holds off (IdleHold of a minute) before trying again.
    const connections = sessions.length;
    await sleep(10_000);
    expect(sessions.length).toBe(connections);
    figures["flood: agent peak RSS (MB)"] = rss("VmHWM");
    figures["flood: agent RSS 10 s after the session closed (MB)"] = rss("VmRSS");
    expect(rss("VmHWM")).toBeLessThan(LIMIT_MIB);
  }, 600_000);

  it("a Secret the agent cannot read leaves FRR's password-protected session up", async () => {
    const role = JSON.parse(await kubectlOk(["get", "role", AGENT_NAME, "-n", NS, "-o", "json"])) as {
      metadata: Record<string, unknown>;
      rules: Array<{ resources?: string[] }>;
    };
    const { resourceVersion: _rv, uid: _uid, creationTimestamp: _ct, managedFields: _mf, ...metadata } = role.metadata;
    const restore = { ...role, metadata };
    await frrThroughout("Secret unreadable", async () => {
      await kubectlOk(
        ["replace", "-f", "-"],
        JSON.stringify({ ...restore, rules: role.rules.filter((r) => !(r.resources ?? []).includes("secrets")) }),
      );
      try {
        // Any change to the BGPSession makes the agent read its password again; poke until
        // the denied read has happened (RBAC changes reach the authorizer within a moment).
        let poke = 0;
        await until(
          "the agent to log the failed read",
          async () => {
            await kubectlOk([
              "annotate",
              "bgpsession",
              frrSessionName,
              "-n",
              NS,
              "--overwrite",
              `${LABEL[0]}-poke=${++poke}`,
            ]);
            return agent.output().includes("the running session keeps its password") ? true : undefined;
          },
          30_000,
          1000,
        );
        await sleep(5000); // longer than FRR's 3 s hold time
        expect((await bgpSession(frrSessionName)).status?.state).toBe("Established");
      } finally {
        await kubectlOk(["replace", "-f", "-"], JSON.stringify(restore));
      }
    });
    await until(
      "the password read again",
      async () => (agent.output().includes("BGP password read again") ? true : undefined),
      90_000,
      1000,
    );
  }, 180_000);
});
