/**
 * GoBGP (gobgpd 3.x, Debian package) as a test peer (testinfra.md §2.3): gobgpd in the
 * foreground as our child inside a network namespace, configured by a TOML file in a temp
 * directory, queried with `gobgp -j` over its gRPC port on that namespace's own loopback
 * (every namespace has its own 127.0.0.1, so every gobgpd can use the same port), stopped
 * by pid. Its log (logrus JSON lines) goes to <dir>/gobgpd.log and is parsed for the
 * "Peer Down" reasons GoBGP reports.
 */
import { ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execIn } from "./frr";
import { atMost } from "./wait";

export const GOBGPD = "/usr/bin/gobgpd";
export const GOBGP = "/usr/bin/gobgp";
export const gobgpInstalled = (): boolean => existsSync(GOBGPD) && existsSync(GOBGP);

export interface GoBgpNeighbor {
  readonly address: string;
  readonly asn: number;
  /** "ipv4-unicast" | "ipv6-unicast" (default: the neighbor address's family). */
  readonly families?: readonly string[];
  /** Hold / keepalive seconds (default 3 / 1). */
  readonly hold?: number;
  readonly keepalive?: number;
}

export interface GoBgpOptions {
  readonly asn: number;
  readonly routerId: string;
  readonly neighbors: readonly GoBgpNeighbor[];
  /** gRPC port on the namespace's 127.0.0.1 (default 50051). */
  readonly apiPort?: number;
}

/** GoBGP's session_state numbers (api.PeerState_SessionState). */
export const GOBGP_STATES = ["unknown", "Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established"] as const;

export function gobgpConfig(o: GoBgpOptions): string {
  const lines = ["[global.config]", `  as = ${o.asn}`, `  router-id = "${o.routerId}"`];
  for (const n of o.neighbors) {
    const families = n.families ?? [n.address.includes(":") ? "ipv6-unicast" : "ipv4-unicast"];
    lines.push(
      "[[neighbors]]",
      "  [neighbors.config]",
      `    neighbor-address = "${n.address}"`,
      `    peer-as = ${n.asn}`,
      "  [neighbors.timers.config]",
      "    connect-retry = 1",
      `    hold-time = ${n.hold ?? 3}`,
      `    keepalive-interval = ${n.keepalive ?? 1}`,
      "    idle-hold-time-after-reset = 1",
      // Our speaker only dials (session.ts), so GoBGP need not dial us.
      "  [neighbors.transport.config]",
      "    passive-mode = true",
      ...families.flatMap((f) => [
        "  [[neighbors.afi-safis]]",
        "    [neighbors.afi-safis.config]",
        `      afi-safi-name = "${f}"`,
      ]),
    );
  }
  return `${lines.join("\n")}\n`;
}

/** One path in `gobgp global rib -j` / `gobgp neighbor X adj-in -j`. */
export interface GoBgpPath {
  nlri: { prefix: string };
  best?: boolean;
  stale?: boolean;
  "neighbor-ip"?: string;
  "source-id"?: string;
  attrs: GoBgpAttr[];
}

/** Path attributes as gobgp prints them (type = the attribute type code). */
export type GoBgpAttr =
  | { type: 1; value: number } // ORIGIN
  | { type: 2; as_paths: { segment_type: number; num: number; asns: number[] }[] } // AS_PATH
  | { type: 3; nexthop: string } // NEXT_HOP
  | { type: 4; metric: number } // MULTI_EXIT_DISC
  | { type: 5; value: number } // LOCAL_PREF
  | { type: 8; communities: number[] } // COMMUNITIES
  | { type: 14; nexthop: string; afi: number; safi: number } // MP_REACH_NLRI
  | { type: 32; value: { ASN: number; LocalData1: number; LocalData2: number }[] } // LARGE_COMMUNITY
  | { type: number; [k: string]: unknown };

/** The attribute of a type code, typed by it. */
export function attr<T extends GoBgpAttr["type"]>(p: GoBgpPath, type: T): Extract<GoBgpAttr, { type: T }> | undefined {
  return p.attrs.find((a) => a.type === type) as Extract<GoBgpAttr, { type: T }> | undefined;
}

/** The next hop GoBGP holds for a path: NEXT_HOP (IPv4) or MP_REACH_NLRI's (RFC 4760 §3). */
export function nextHop(p: GoBgpPath): string | undefined {
  const mp = attr(p, 14) as { nexthop?: string } | undefined;
  const nh = attr(p, 3) as { nexthop?: string } | undefined;
  return mp?.nexthop ?? nh?.nexthop;
}

export interface GoBgpLogEntry {
  level?: string;
  msg?: string;
  /** The neighbor address, on per-peer entries. */
  Key?: string;
  Reason?: string;
  [k: string]: unknown;
}

interface NeighborJson {
  state?: {
    session_state?: number;
    messages?: { received?: Record<string, number>; sent?: Record<string, number> };
  };
  timers?: { state?: { negotiated_hold_time?: number } };
}

export class GoBgp {
  private proc?: ChildProcess;
  private exited?: Promise<void>;
  private apiPort = 50051;

  constructor(
    readonly ns: string,
    readonly dir: string,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  get logFile(): string {
    return join(this.dir, "gobgpd.log");
  }

  start(o: GoBgpOptions): void {
    this.apiPort = o.apiPort ?? 50051;
    const conf = join(this.dir, "gobgpd.toml");
    writeFileSync(conf, gobgpConfig(o));
    const log = openSync(this.logFile, "a");
    const proc = spawn(
      "ip",
      ["netns", "exec", this.ns, GOBGPD, "-f", conf, "--api-hosts", `127.0.0.1:${this.apiPort}`, "--pprof-disable"],
      { stdio: ["ignore", log, log] },
    );
    closeSync(log);
    this.proc = proc;
    this.exited = new Promise((r) => proc.once("exit", () => r()));
  }

  get pid(): number {
    return this.proc?.pid ?? -1;
  }

  /** Runs `gobgp -j ARGS` against this daemon and parses the JSON. */
  async json<T>(...args: string[]): Promise<T> {
    const r = await execIn(this.ns, [GOBGP, "-u", "127.0.0.1", "-p", String(this.apiPort), ...args, "-j"]);
    if (r.code !== 0) throw new Error(`gobgp ${args.join(" ")}: ${r.stderr || r.stdout}`);
    return JSON.parse(r.stdout) as T;
  }

  async neighbor(address: string): Promise<NeighborJson> {
    return this.json<NeighborJson>("neighbor", address);
  }

  /** "Idle" … "Established". */
  async peerState(address: string): Promise<string> {
    const n = await this.neighbor(address);
    return GOBGP_STATES[n.state?.session_state ?? 0] ?? "unknown";
  }

  /** The Loc-RIB of a family ("ipv4" | "ipv6"): prefix -> paths. */
  async rib(family: "ipv4" | "ipv6"): Promise<Record<string, GoBgpPath[]>> {
    return this.json<Record<string, GoBgpPath[]>>("global", "rib", "-a", family);
  }

  /** Paths GoBGP holds for one prefix (any neighbor). */
  async paths(prefix: string): Promise<GoBgpPath[]> {
    return (await this.rib(prefix.includes(":") ? "ipv6" : "ipv4"))[prefix] ?? [];
  }

  /** gobgpd's log so far (logrus JSON lines), parsed. */
  log(): GoBgpLogEntry[] {
    if (!existsSync(this.logFile)) return [];
    const out: GoBgpLogEntry[] = [];
    for (const line of readFileSync(this.logFile, "utf8").split("\n")) {
      if (!line.startsWith("{")) continue;
      try {
        out.push(JSON.parse(line) as GoBgpLogEntry);
      } catch {
        /* a partial line */
      }
    }
    return out;
  }

  /** The Reason of every "Peer Down" GoBGP logged for a neighbor, oldest first. */
  peerDownReasons(address: string): string[] {
    return this.log()
      .filter((e) => e.msg === "Peer Down" && e.Key === address)
      .map((e) => String(e.Reason));
  }

  /** What GoBGP logged above info level about a neighbor ("level: msg"), e.g. malformed UPDATEs. */
  complaints(address: string): string[] {
    return this.log()
      .filter((e) => e.Key === address && e.level !== "info" && e.level !== "debug")
      .map((e) => `${e.level}: ${e.msg}`);
  }

  /** SIGTERM by pid, SIGKILL if it lingers. */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    p.kill("SIGTERM");
    await atMost(this.exited!, 3000);
    if (p.exitCode === null && p.signalCode === null) {
      p.kill("SIGKILL");
      await atMost(this.exited!, 2000);
    }
  }
}
