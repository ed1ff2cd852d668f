/**
 * FRR with BFD as a test peer: zebra, bfdd and bgpd in one namespace, sharing one vty
 * directory (so vtysh reaches all three) and one zserv socket (bgpd asks bfdd for BFD
 * sessions through zebra; the plain Frr harness runs bgpd alone with -Z, which cannot).
 * bfdd and zebra have no --skip_runas: they run as Debian's `frr` user, so the directory
 * is made world-writable. Queries go through an `Frr` over the same directory.
 */
import { ChildProcess, spawn } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BGPD, Frr, execIn, frrConfig, type FrrOptions } from "./frr";
import { atMost, until } from "./wait";

export const BFDD = "/usr/lib/frr/bfdd";
export const ZEBRA = "/usr/lib/frr/zebra";

export interface FrrBfdProfile {
  readonly name: string;
  readonly receiveInterval: number;
  readonly transmitInterval: number;
  readonly detectMultiplier: number;
}

export interface FrrBfdOptions extends FrrOptions {
  readonly bfdProfile: FrrBfdProfile;
  /** BGP neighbours that get `neighbor X bfd profile <name>`. */
  readonly bfdNeighbors: readonly string[];
  /** eBGP neighbours more than one hop away, with FRR's source address (its BFD for them is multihop). */
  readonly multihopNeighbors?: readonly { readonly address: string; readonly updateSource: string }[];
  /** Standalone BFD peers (`bfd / peer X`), for BFD without BGP. */
  readonly bfdPeers?: readonly { readonly address: string; readonly local: string }[];
  /** Without bgpd (BFD only). */
  readonly noBgp?: boolean;
}

export function bfddConfig(dir: string, o: FrrBfdOptions): string {
  const p = o.bfdProfile;
  const timers = [
    `  detect-multiplier ${p.detectMultiplier}`,
    `  receive-interval ${p.receiveInterval}`,
    `  transmit-interval ${p.transmitInterval}`,
  ];
  return [
    `log file ${dir}/bfdd.log`,
    "log timestamp precision 6",
    "debug bfd peer",
    "bfd",
    ` profile ${p.name}`,
    ...timers,
    " !",
    ...(o.bfdPeers ?? []).flatMap((x) => [` peer ${x.address} local-address ${x.local}`, `  profile ${p.name}`, " !"]),
    "!",
    "",
  ].join("\n");
}

export function bgpdBfdConfig(dir: string, o: FrrBfdOptions): string {
  return [
    frrConfig(dir, o),
    // Entering the same instance again adds to it.
    `router bgp ${o.asn}`,
    ...(o.multihopNeighbors ?? []).flatMap((n) => [
      ` neighbor ${n.address} ebgp-multihop 2`,
      ` neighbor ${n.address} update-source ${n.updateSource}`,
    ]),
    ...o.bfdNeighbors.map((n) => ` neighbor ${n} bfd profile ${o.bfdProfile.name}`),
    "!",
    "",
  ].join("\n");
}

export class FrrBfd {
  readonly frr: Frr;
  private readonly procs = new Map<string, { proc: ChildProcess; exited: Promise<void> }>();

  constructor(
    readonly ns: string,
    readonly dir: string,
  ) {
    this.frr = new Frr(ns, dir);
    chmodSync(dir, 0o777);
  }

  private spawnDaemon(name: string, args: string[]): void {
    const proc = spawn("ip", ["netns", "exec", this.ns, ...args], { stdio: ["ignore", "ignore", "ignore"] });
    this.procs.set(name, { proc, exited: new Promise((r) => proc.once("exit", () => r())) });
  }

  private common(name: string): string[] {
    return [
      "--vty_socket",
      this.dir,
      "-A",
      "127.0.0.1",
      "-i",
      join(this.dir, `${name}.pid`),
      "-z",
      join(this.dir, "zserv.api"),
    ];
  }

  async start(o: FrrBfdOptions): Promise<void> {
    writeFileSync(join(this.dir, "zebra.conf"), `hostname frr-bfd\nlog file ${this.dir}/zebra.log\n`);
    writeFileSync(join(this.dir, "bfdd.conf"), bfddConfig(this.dir, o));
    writeFileSync(join(this.dir, "bgpd.conf"), bgpdBfdConfig(this.dir, o));
    this.spawnDaemon("zebra", [ZEBRA, "-f", join(this.dir, "zebra.conf"), ...this.common("zebra")]);
    await until("zebra's vty", async () => ((await this.vtyOf("zebra")) ? true : undefined), 10_000, 100);
    this.startBfdd();
    await until("bfdd's vty", async () => ((await this.vtyOf("bfdd")) ? true : undefined), 10_000, 100);
    if (!o.noBgp) {
      this.spawnDaemon("bgpd", [BGPD, "-S", "-f", join(this.dir, "bgpd.conf"), ...this.common("bgpd")]);
      await until("bgpd's vty", async () => ((await this.vtyOf("bgpd")) ? true : undefined), 10_000, 100);
    }
  }

  startBfdd(): void {
    this.spawnDaemon("bfdd", [
      BFDD,
      "-f",
      join(this.dir, "bfdd.conf"),
      ...this.common("bfdd"),
      "--bfdctl",
      join(this.dir, "bfdd.sock"),
    ]);
  }

  /** Whether a daemon answers on its vty (vtysh -d). */
  private async vtyOf(daemon: string): Promise<boolean> {
    const out = await execIn(this.ns, ["vtysh", "--vty_socket", this.dir, "-d", daemon, "-c", "show version"]);
    return out.code === 0;
  }

  /** FRR's view of one BFD peer (`show bfd peers json`). */
  async bfdPeer(address: string): Promise<FrrBfdPeer | undefined> {
    const peers = await this.frr.json<FrrBfdPeer[]>("show bfd peers json");
    return peers.find((p) => p.peer === address);
  }

  /** SIGKILL one daemon (bfdd: FRR's BFD stops dead, without AdminDown). */
  async kill(daemon: "bfdd" | "bgpd" | "zebra"): Promise<void> {
    const d = this.procs.get(daemon);
    if (!d || d.proc.exitCode !== null) return;
    d.proc.kill("SIGKILL");
    await atMost(d.exited, 2000);
  }

  async stop(): Promise<void> {
    for (const name of ["bgpd", "bfdd", "zebra"] as const) await this.kill(name);
  }
}

export interface FrrBfdPeer {
  peer: string;
  multihop?: boolean;
  local?: string;
  status: string;
  diagnostic?: string;
  "remote-diagnostic"?: string;
  "receive-interval"?: number;
  "transmit-interval"?: number;
  "detect-multiplier"?: number;
  "remote-receive-interval"?: number;
  "remote-transmit-interval"?: number;
  "remote-detect-multiplier"?: number;
  /** FRR's discriminator for the session. */
  id?: number;
  /** Ours, as FRR last heard it. */
  "remote-id"?: number;
}
