/**
 * FRR bgpd as a test peer (testinfra.md §2.2): bgpd alone (-Z, no zebra), as root (-S),
 * in the foreground as our child inside a network namespace, queried with vtysh over its
 * own vty socket directory. Plus a helper that runs the BGP speaker fixture
 * (test/lab/fixtures/bgp-speaker.ts) in a namespace with a stdin for commands.
 */
import { ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildSync } from "esbuild";
import { run, type ExecResult } from "./netlab";

export const BGPD = "/usr/lib/frr/bgpd";
/** The repository (benchmarks run from a bundle elsewhere: bench.sh sets METALLB_PEPR_ROOT). */
export const ROOT = process.env.METALLB_PEPR_ROOT ?? resolve(__dirname, "../..");

export interface FrrNeighbor {
  /** An IP address, or with `unnumbered` the name of FRR's interface. */
  readonly address: string;
  readonly asn: number;
  /** BGP unnumbered (`neighbor <interface> interface`): both families over IPv6 link-local (needs zebra). */
  readonly unnumbered?: boolean;
  readonly password?: string;
  /** Keepalive/hold seconds (default 1/3, so a dead speaker is noticed in 3 s). */
  readonly keepalive?: number;
  readonly hold?: number;
}

export interface FrrOptions {
  readonly asn: number;
  readonly routerId: string;
  readonly neighbors: readonly FrrNeighbor[];
  /** Networks FRR itself originates (so the speaker receives something). */
  readonly networks4?: readonly string[];
  /** `bgp graceful-restart` (restarting-speaker mode; helper mode is FRR's default anyway). */
  readonly gracefulRestart?: boolean;
  /** Log every received prefix with microsecond timestamps (`debug bgp updates in`): benchmarks. */
  readonly logReceivedPrefixes?: boolean;
}

export function frrConfig(dir: string, o: FrrOptions): string {
  const v4 = o.neighbors.filter((n) => n.unnumbered || !n.address.includes(":"));
  const v6 = o.neighbors.filter((n) => n.unnumbered || n.address.includes(":"));
  const lines = [
    "frr defaults datacenter",
    "hostname frr-peer",
    `log file ${dir}/bgpd.log`,
    ...(o.logReceivedPrefixes ? ["log timestamp precision 6", "debug bgp updates in"] : []),
    `router bgp ${o.asn}`,
    ` bgp router-id ${o.routerId}`,
    " coalesce-time 50",
    " no bgp ebgp-requires-policy",
    " no bgp network import-check",
    " no bgp default ipv4-unicast",
    " bgp bestpath as-path multipath-relax",
    ...(o.gracefulRestart ? [" bgp graceful-restart"] : []),
    ...o.neighbors.flatMap((n) => [
      ` neighbor ${n.address}${n.unnumbered ? " interface" : ""} remote-as ${n.asn}`,
      ...(n.password ? [` neighbor ${n.address} password ${n.password}`] : []),
      ` neighbor ${n.address} timers ${n.keepalive ?? 1} ${n.hold ?? 3}`,
      ` neighbor ${n.address} timers connect 1`,
    ]),
    " address-family ipv4 unicast",
    ...(o.networks4 ?? []).map((p) => `  network ${p}`),
    ...v4.map((n) => `  neighbor ${n.address} activate`),
    "  maximum-paths 8",
    "  maximum-paths ibgp 8",
    " exit-address-family",
    " address-family ipv6 unicast",
    ...v6.map((n) => `  neighbor ${n.address} activate`),
    "  maximum-paths 8",
    " exit-address-family",
    "",
  ];
  return lines.join("\n");
}

/** A command inside a network namespace (`ip netns exec`). */
export function execIn(ns: string, cmd: string[], timeoutMs = 10_000): Promise<ExecResult> {
  return run("ip", ["netns", "exec", ns, ...cmd], { timeoutMs });
}

import { atMost, sleep, until } from "./wait";
export { sleep, until };

export class Frr {
  private proc?: ChildProcess;
  private exited?: Promise<void>;

  constructor(
    readonly ns: string,
    readonly dir: string,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  start(o: FrrOptions): void {
    writeFileSync(join(this.dir, "frr.conf"), frrConfig(this.dir, o));
    const proc = spawn(
      "ip",
      [
        "netns",
        "exec",
        this.ns,
        BGPD,
        "-S",
        "-Z",
        "-f",
        join(this.dir, "frr.conf"),
        "--vty_socket",
        this.dir,
        "-A",
        "127.0.0.1",
        "-i",
        join(this.dir, "bgpd.pid"),
      ],
      { stdio: ["ignore", "ignore", "ignore"] },
    );
    this.proc = proc;
    this.exited = new Promise((r) => proc.once("exit", () => r()));
  }

  async vty(...commands: string[]): Promise<string> {
    const r = await execIn(this.ns, ["vtysh", "--vty_socket", this.dir, ...commands.flatMap((c) => ["-c", c])]);
    if (r.code !== 0) throw new Error(`vtysh ${commands.join(" / ")}: ${r.stderr || r.stdout}`);
    return r.stdout;
  }

  async json<T = Record<string, unknown>>(command: string): Promise<T> {
    return JSON.parse(await this.vty(command)) as T;
  }

  /** Peer state from `show bgp summary json` (any family), or undefined. */
  async peerState(address: string): Promise<string | undefined> {
    const s = await this.json<Record<string, { peers?: Record<string, { state?: string }> }>>("show bgp summary json");
    for (const fam of Object.values(s)) {
      const st = fam?.peers?.[address]?.state;
      if (st) return st;
    }
    return undefined;
  }

  /** Paths FRR holds for a prefix (`show bgp ipv4|ipv6 unicast json`). */
  async paths(prefix: string): Promise<FrrPath[]> {
    const fam = prefix.includes(":") ? "ipv6" : "ipv4";
    const rib = await this.json<{ routes?: Record<string, FrrPath[]> }>(`show bgp ${fam} unicast json`);
    return rib.routes?.[prefix] ?? [];
  }

  async stop(): Promise<void> {
    if (!this.proc || this.proc.exitCode !== null) return;
    this.proc.kill("SIGKILL");
    await atMost(this.exited!, 2000);
  }
}

export interface FrrPath {
  valid?: boolean;
  bestpath?: boolean;
  multipath?: boolean;
  stale?: boolean;
  path?: string;
  locPrf?: number;
  peerId?: string;
  nexthops?: { ip?: string; scope?: string }[];
}

/** Bundles the speaker fixture (addon external: found via $METALLB_PEPR_RAWNET). */
export function bundleSpeaker(outDir: string): string {
  const outfile = join(outDir, "bgp-speaker.js");
  buildSync({
    entryPoints: [join(ROOT, "test/lab/fixtures/bgp-speaker.ts")],
    bundle: true,
    platform: "node",
    target: "node20",
    outfile,
    logLevel: "warning",
  });
  return outfile;
}

export const ADDON = join(ROOT, "build", "Release", "rawnet.node");
export const addonBuilt = (): boolean => existsSync(ADDON);

/** A speaker fixture process in a namespace: stdout lines kept, stdin for commands. */
export class Speaker {
  readonly proc: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  private partial = "";
  stderr = "";

  constructor(ns: string, bundle: string, config: unknown) {
    this.proc = spawn("ip", ["netns", "exec", ns, process.execPath, bundle, JSON.stringify(config)], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, METALLB_PEPR_RAWNET: ADDON },
    });
    this.proc.stdout!.on("data", (d: Buffer) => {
      this.partial += d.toString();
      const parts = this.partial.split("\n");
      this.partial = parts.pop() ?? "";
      this.lines.push(...parts);
    });
    this.proc.stderr!.on("data", (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-20000);
    });
    this.exited = new Promise((r) => this.proc.once("exit", (code) => r(code)));
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  send(cmd: unknown): void {
    this.proc.stdin!.write(`${JSON.stringify(cmd)}\n`);
  }

  has(line: string | RegExp): boolean {
    return this.lines.some((l) => (typeof line === "string" ? l === line : line.test(l)));
  }

  waitFor(line: string | RegExp, timeoutMs = 10_000): Promise<void> {
    return until(
      `speaker line ${String(line)} (got: ${this.lines.slice(-5).join(" | ")}; stderr: ${this.stderr.slice(-300)})`,
      async () => (this.has(line) ? true : undefined),
      timeoutMs,
      20,
    ).then(() => undefined);
  }

  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
  }
}
