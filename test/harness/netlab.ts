/**
 * A network lab of Linux network namespaces for L2 and BGP tests and benchmarks:
 *
 *   <prefix>sw   switch: one bridge (br0), a port per host
 *   <prefix>n0.. nodes, each with eth0 (a veth end) on the bridge
 *   <prefix>cli  client (arping, ping, ndisc6, tcpdump)
 *   <prefix>rtr  optional router (FRR, BIRD, GoBGP)
 *
 * Addresses: 192.0.2.0/24 and 2001:db8:1::/64 (documentation ranges): router .1, client .2,
 * node i .11+i (IPv6 ::1, ::2, ::11+i in hex digits as written). VIPs for tests: .100-.199.
 *
 * The test kube-apiserver listens on 127.0.0.1 in the root namespace, which a namespace
 * cannot reach (its 127.0.0.1 is its own loopback). The API bridge gives a node namespace
 * a TCP listener on its own 127.0.0.1:<apiPort> that pipes each connection over a Unix
 * socket (a filesystem object, so it crosses namespaces) to a listener in this process,
 * which pipes it to the real API server. The agent then uses the unchanged kubeconfig,
 * and `cutApi(node)` severs exactly that node from the API server.
 *
 * Everything this lab starts is killed by pid and every namespace it created is deleted by
 * name in `destroy()`, which also runs on process exit. Needs root.
 */
import { ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, mkdtempSync, rmSync, type WriteStream } from "node:fs";
import { createServer, connect, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface LabHost {
  /** Network namespace name. */
  readonly ns: string;
  /** The host's interface on the lab link. */
  readonly ifname: string;
  readonly ipv4: string;
  readonly ipv6: string;
  /** Filled in after creation: the interface MAC, lower case. */
  mac: string;
}

export interface LabOptions {
  /** Number of node namespaces (default 3). */
  nodes?: number;
  /** Add a router namespace (default false). */
  router?: boolean;
  /** Short id for the namespace prefix; random by default. */
  runId?: string;
}

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface LabProcess {
  readonly pid: number;
  readonly proc: ChildProcess;
  /** Resolves with the exit code (or null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** stdout+stderr so far. */
  output(): string;
  /** Resolves when the output contains `text` (rejects on exit or timeout). */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
}

export const LAB_V4_PREFIX = "192.0.2.";
export const LAB_V6_PREFIX = "2001:db8:1::";

/** The API server port from a kubeconfig's server URL (https://127.0.0.1:PORT). */
export function apiPortFromKubeconfig(path: string): number {
  const text = execFileSync("cat", [path], { encoding: "utf8" });
  const m = /server:\s*https?:\/\/[^:\s]+:(\d+)/.exec(text);
  if (!m) throw new Error(`no server port in ${path}`);
  return Number(m[1]);
}

/** Why lab tests cannot run here, or undefined when they can. */
export function labSkipReason(): string | undefined {
  if (process.platform !== "linux") return "needs Linux network namespaces";
  if (process.getuid?.() !== 0) return "needs root (network namespaces, CAP_NET_RAW); run the suite as root";
  return undefined;
}

export interface RunOptions {
  /** Default 20 s. */
  timeoutMs?: number;
  /** Fed on stdin. */
  input?: string;
  /** Default: this process's environment. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs a command and resolves with its exit code (null when a signal or the timeout ended
 * it) and output; never rejects. The one runner the harness, the labs and `npm run lab` use.
 */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<ExecResult> {
  return new Promise((done) => {
    const options = { timeout: opts.timeoutMs ?? 20_000, maxBuffer: 64 << 20, env: opts.env ?? process.env };
    const child = execFile(cmd, args, options, (err, stdout, stderr) => {
      const code = err
        ? typeof (err as { code?: unknown }).code === "number"
          ? (err as { code: number }).code
          : null
        : 0;
      done({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

async function must(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.code}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** The in-namespace half of the API bridge: TCP 127.0.0.1:port -> Unix socket. */
const BRIDGE_SCRIPT = `
const net = require("net");
const [port, path] = process.argv.slice(1);
net.createServer((c) => {
  const u = net.connect(path);
  c.pipe(u); u.pipe(c);
  const end = () => { c.destroy(); u.destroy(); };
  c.on("error", end); u.on("error", end); c.on("close", end); u.on("close", end);
}).listen(Number(port), "127.0.0.1", () => console.log("bridge listening"));
`;

interface RootBridge {
  server: Server;
  sockets: Set<Socket>;
  path: string;
}

export class NetLab {
  readonly prefix: string;
  readonly switchNs: string;
  readonly nodes: LabHost[] = [];
  readonly client: LabHost;
  readonly router?: LabHost;
  /** Scratch directory (Unix sockets, logs); removed by destroy(). */
  readonly dir: string;
  private readonly namespaces: string[] = [];
  private readonly processes = new Set<LabProcess>();
  private readonly bridges = new Map<string, { root: RootBridge; inner?: LabProcess; apiPort: number }>();
  private destroyed = false;
  private readonly exitHook = (): void => this.destroySync();

  private constructor(opts: Required<LabOptions>) {
    this.prefix = `mlb-${opts.runId}-`;
    this.switchNs = `${this.prefix}sw`;
    this.dir = mkdtempSync(join(tmpdir(), this.prefix));
    const host = (suffix: string, octet: number, v6: string): LabHost => ({
      ns: `${this.prefix}${suffix}`,
      ifname: "eth0",
      ipv4: `${LAB_V4_PREFIX}${octet}`,
      ipv6: `${LAB_V6_PREFIX}${v6}`,
      mac: "",
    });
    for (let i = 0; i < opts.nodes; i++) this.nodes.push(host(`n${i}`, 11 + i, String(11 + i)));
    this.client = host("cli", 2, "2");
    if (opts.router) this.router = host("rtr", 1, "1");
    process.once("exit", this.exitHook);
  }

  /** Creates the namespaces, bridge and links; on failure removes what it made. */
  static async create(options: LabOptions = {}): Promise<NetLab> {
    const lab = new NetLab({
      nodes: options.nodes ?? 3,
      router: options.router ?? false,
      runId: options.runId ?? randomBytes(3).toString("hex"),
    });
    try {
      await lab.build();
    } catch (err) {
      await lab.destroy();
      throw err;
    }
    return lab;
  }

  /** Every host: nodes, client, router. */
  get hosts(): LabHost[] {
    return [...this.nodes, this.client, ...(this.router ? [this.router] : [])];
  }

  private async addNs(name: string): Promise<void> {
    await must("ip", ["netns", "add", name]);
    this.namespaces.push(name);
    await must("ip", ["-n", name, "link", "set", "lo", "up"]);
  }

  private async build(): Promise<void> {
    await this.addNs(this.switchNs);
    await must("ip", ["-n", this.switchNs, "link", "add", "br0", "type", "bridge", "stp_state", "0"]);
    // No multicast snooping: NS to solicited-node groups must reach every port.
    await must("ip", ["-n", this.switchNs, "link", "set", "br0", "type", "bridge", "mcast_snooping", "0"]);
    await must("ip", ["-n", this.switchNs, "link", "set", "br0", "up"]);
    for (const h of this.hosts) {
      await this.addNs(h.ns);
      const port = `p-${h.ns.slice(this.prefix.length)}`;
      await must("ip", [
        "link",
        "add",
        h.ifname,
        "netns",
        h.ns,
        "type",
        "veth",
        "peer",
        "name",
        port,
        "netns",
        this.switchNs,
      ]);
      await must("ip", ["-n", this.switchNs, "link", "set", port, "master", "br0"]);
      await must("ip", ["-n", this.switchNs, "link", "set", port, "up"]);
      await must("ip", ["-n", h.ns, "link", "set", h.ifname, "up"]);
      await must("ip", ["-n", h.ns, "addr", "add", `${h.ipv4}/24`, "dev", h.ifname]);
      await must("ip", ["-n", h.ns, "addr", "add", `${h.ipv6}/64`, "dev", h.ifname, "nodad"]);
      const link = JSON.parse(await must("ip", ["-j", "-n", h.ns, "link", "show", h.ifname])) as Array<{
        address: string;
      }>;
      h.mac = link[0].address.toLowerCase();
    }
    // The client learns from gratuitous ARP and unsolicited NA (testinfra.md §3).
    const c = this.client;
    for (const kv of [
      `net.ipv4.conf.${c.ifname}.arp_accept=1`,
      `net.ipv6.conf.${c.ifname}.accept_untracked_na=1`,
      `net.ipv6.conf.${c.ifname}.forwarding=1`,
    ]) {
      await this.exec(c.ns, ["sysctl", "-q", "-w", kv]);
    }
  }

  /** Runs a command inside a namespace to completion; never rejects on non-zero exit. */
  exec(ns: string, cmd: string[], timeoutMs = 20_000): Promise<ExecResult> {
    return run("ip", ["netns", "exec", ns, ...cmd], { timeoutMs });
  }

  /** Like exec, but throws on a non-zero exit; returns stdout. */
  async execOk(ns: string, cmd: string[], timeoutMs = 20_000): Promise<string> {
    const r = await this.exec(ns, cmd, timeoutMs);
    if (r.code !== 0) throw new Error(`[${ns}] ${cmd.join(" ")} failed (${r.code}): ${r.stderr || r.stdout}`);
    return r.stdout;
  }

  /**
   * Starts a long-running process inside a namespace (`ip netns exec` execs, so the pid is
   * the command's own). Output is kept in memory and, with `logFile`, written there too.
   */
  spawnIn(ns: string, cmd: string[], env: NodeJS.ProcessEnv = {}, logFile?: string): LabProcess {
    const proc = spawn("ip", ["netns", "exec", ns, ...cmd], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // its own process group: kill() reaches helpers it forks
    });
    let out = "";
    const log: WriteStream | undefined = logFile ? createWriteStream(logFile, { flags: "a" }) : undefined;
    const waiters = new Set<() => void>();
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (out.length > 4_000_000) out = out.slice(-2_000_000);
      log?.write(d);
      waiters.forEach((w) => w());
    };
    proc.stdout!.on("data", onData);
    proc.stderr!.on("data", onData);
    let exitCode: number | null | undefined;
    const exited = new Promise<number | null>((resolve) =>
      proc.on("close", (code) => {
        exitCode = code;
        log?.end();
        waiters.forEach((w) => w());
        resolve(code);
      }),
    );
    const handle: LabProcess = {
      pid: proc.pid!,
      proc,
      exited,
      output: () => out,
      waitFor: (text, timeoutMs = 15_000) =>
        new Promise<void>((resolve, reject) => {
          const matches = (): boolean => (typeof text === "string" ? out.includes(text) : text.test(out));
          const timer = setTimeout(() => {
            waiters.delete(check);
            reject(
              new Error(
                `[${ns}] ${cmd.join(" ")}: no ${String(text)} within ${timeoutMs} ms; output:\n${out.slice(-3000)}`,
              ),
            );
          }, timeoutMs);
          const check = (): void => {
            if (matches()) {
              clearTimeout(timer);
              waiters.delete(check);
              resolve();
            } else if (exitCode !== undefined) {
              clearTimeout(timer);
              waiters.delete(check);
              reject(
                new Error(
                  `[${ns}] ${cmd.join(" ")} exited (${exitCode}) before ${String(text)}; output:\n${out.slice(-3000)}`,
                ),
              );
            }
          };
          waiters.add(check);
          check();
        }),
      kill: (signal: NodeJS.Signals = "SIGTERM") => {
        if (exitCode !== undefined) return;
        try {
          process.kill(-proc.pid!, signal);
        } catch {
          try {
            process.kill(proc.pid!, signal);
          } catch {
            /* already gone */
          }
        }
      },
    };
    this.processes.add(handle);
    void exited.then(() => this.processes.delete(handle));
    return handle;
  }

  /**
   * Makes 127.0.0.1:apiPort inside `ns` reach 127.0.0.1:apiPort in the root namespace.
   * Resolves once the in-namespace listener is up.
   */
  async startApiBridge(ns: string, apiPort: number): Promise<void> {
    if (this.bridges.get(ns)?.inner) return;
    let entry = this.bridges.get(ns);
    if (!entry) {
      const path = join(this.dir, `api-${ns.slice(this.prefix.length)}.sock`);
      const sockets = new Set<Socket>();
      const server = createServer((c) => {
        const up = connect(apiPort, "127.0.0.1");
        sockets.add(c).add(up);
        c.pipe(up);
        up.pipe(c);
        const end = (): void => {
          c.destroy();
          up.destroy();
          sockets.delete(c);
          sockets.delete(up);
        };
        for (const s of [c, up]) {
          s.on("error", end);
          s.on("close", end);
        }
      });
      await new Promise<void>((resolve, reject) => server.listen(path, resolve).once("error", reject));
      entry = { root: { server, sockets, path }, apiPort };
      this.bridges.set(ns, entry);
    }
    const inner = this.spawnIn(ns, [process.execPath, "-e", BRIDGE_SCRIPT, String(apiPort), entry.root.path]);
    entry.inner = inner;
    await inner.waitFor("bridge listening", 10_000);
  }

  /** Severs `ns` from the API server at once: the listener goes and open connections drop. */
  cutApi(ns: string): void {
    const entry = this.bridges.get(ns);
    if (!entry) return;
    entry.inner?.kill("SIGKILL");
    entry.inner = undefined;
    for (const s of entry.root.sockets) s.destroy();
    entry.root.sockets.clear();
  }

  /** Undoes cutApi. */
  async restoreApi(ns: string): Promise<void> {
    const entry = this.bridges.get(ns);
    if (!entry) throw new Error(`no API bridge was started in ${ns}`);
    await this.startApiBridge(ns, entry.apiPort);
  }

  /** Kills every process started here (by pid) and deletes every namespace created here. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    const procs = [...this.processes];
    for (const p of procs) p.kill("SIGKILL");
    await Promise.race([Promise.all(procs.map((p) => p.exited)), new Promise((r) => setTimeout(r, 3000))]);
    for (const { root } of this.bridges.values()) {
      for (const s of root.sockets) s.destroy();
      await new Promise((r) => root.server.close(() => r(undefined)));
    }
    this.bridges.clear();
    for (const ns of [...this.namespaces].reverse()) await run("ip", ["netns", "del", ns]);
    this.finish();
  }

  private destroySync(): void {
    if (this.destroyed) return;
    for (const p of this.processes) p.kill("SIGKILL");
    for (const ns of [...this.namespaces].reverse()) {
      try {
        execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" });
      } catch {
        /* already gone */
      }
    }
    this.finish();
  }

  private finish(): void {
    this.destroyed = true;
    this.namespaces.length = 0;
    this.processes.clear();
    // METALLB_LAB_KEEP_LOGS=1 keeps the agents' logs and captures for a failure to be read later.
    if (process.env.METALLB_LAB_KEEP_LOGS === "1") console.log(`lab logs kept in ${this.dir}`);
    else rmSync(this.dir, { recursive: true, force: true });
    process.removeListener("exit", this.exitHook);
  }
}
