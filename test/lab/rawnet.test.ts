/**
 * Lab test for the rawnet addon and the L2 codec on real sockets: two network namespaces
 * joined by a veth pair. A Node responder (test/lab/fixtures/l2-responder.ts, bundled with
 * esbuild) answers ARP/NDP in namespace A for VIPs configured on no interface; the stock
 * tools (arping, ping, ndisc6, ip neigh) check it from namespace B. Then TCP MD5: an echo
 * server on md5Listen in A, md5Connect clients in B.
 *
 * Needs root (namespaces, CAP_NET_RAW), Linux, and: iproute2 iputils-arping iputils-ping ndisc6.
 * Only addresses inside the namespaces created here receive traffic.
 */
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildSync } from "esbuild";
import { until } from "../harness/wait";
import { run } from "../harness/netlab";
import {
  L2_NEEDS_LINUX,
  locateAddon,
  loadRawnet,
  MD5_NEEDS_LINUX,
  ADDON_ENV,
} from "../../capabilities/announcer/agent/native";

const ROOT = resolve(__dirname, "../..");
const ADDON = join(ROOT, "build", "Release", "rawnet.node");
const SOURCE = join(ROOT, "native", "rawnet.c");

const skipReason =
  process.platform !== "linux"
    ? "needs Linux"
    : process.getuid?.() !== 0
      ? "needs root (network namespaces and CAP_NET_RAW); run the suite as root"
      : undefined;

/** Builds the addon when it is missing or older than its source. */
function ensureAddon(): void {
  if (existsSync(ADDON) && statSync(ADDON).mtimeMs >= statSync(SOURCE).mtimeMs) return;
  execFileSync("bash", [join(ROOT, "hack", "build-native.sh")], { cwd: ROOT, stdio: "pipe" });
}

async function sh(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args, { timeoutMs: 10000 });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.code}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** A child process whose stdout is kept as lines, with a way to wait for a line. */
class Child {
  readonly lines: string[] = [];
  readonly proc: ChildProcess;
  private stderr = "";
  private waiters: Array<() => void> = [];
  readonly exited: Promise<number | null>;

  constructor(cmd: string, args: string[], env: NodeJS.ProcessEnv) {
    this.proc = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let partial = "";
    this.proc.stdout!.on("data", (d: Buffer) => {
      partial += d.toString();
      const parts = partial.split("\n");
      partial = parts.pop()!;
      this.lines.push(...parts);
      this.waiters.forEach((w) => w());
    });
    this.proc.stderr!.on("data", (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((done) => this.proc.on("exit", (code) => done(code)));
  }

  async waitFor(prefix: string, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.find((l) => l.startsWith(prefix));
      if (line !== undefined) return line;
      if (this.proc.exitCode !== null || Date.now() > deadline) {
        throw new Error(
          `no "${prefix}" line (exit ${this.proc.exitCode}); stdout: ${this.lines.join(" | ")}; stderr: ${this.stderr}`,
        );
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, 100);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
      this.waiters = [];
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null if killed). */
  async stop(graceMs = 2000): Promise<number | null> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return this.proc.exitCode;
    this.proc.kill("SIGTERM");
    const t = setTimeout(() => this.proc.kill("SIGKILL"), graceMs);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }
}

describe("rawnet wrapper (no privileges needed)", () => {
  it("refuses non-Linux platforms with a clear message", () => {
    expect(() => loadRawnet("l2", "darwin")).toThrow(`${L2_NEEDS_LINUX} (this platform is darwin)`);
    expect(() => loadRawnet("md5", "win32")).toThrow(MD5_NEEDS_LINUX);
  });

  it("honours the explicit addon path and searches parents otherwise", () => {
    const missing = locateAddon({ [ADDON_ENV]: "/nonexistent/rawnet.node" });
    expect(missing).toEqual({ found: undefined, searched: ["/nonexistent/rawnet.node"] });
    const fromSource = locateAddon({}, join(ROOT, "capabilities", "announcer", "agent"));
    expect(fromSource.searched).toContain(ADDON);
    const nowhere = locateAddon({}, "/");
    expect(nowhere.found).toBeUndefined();
  });
});

const lab = skipReason ? describe.skip : describe;
if (skipReason) {
  // Jest only shows skipped tests by name; say why once.
  console.warn(`rawnet lab tests skipped: ${skipReason}`);
}

lab(`rawnet lab (network namespaces)${skipReason ? ` [skipped: ${skipReason}]` : ""}`, () => {
  const tag = `${process.pid}`;
  const NS_A = `mlbt-raw-${tag}-a`;
  const NS_B = `mlbt-raw-${tag}-b`;
  // Interface names are limited to 15 characters.
  const IF_A = `mra${tag}`.slice(0, 15);
  const IF_B = `mrb${tag}`.slice(0, 15);
  const VIP4 = "192.0.2.100";
  const VIP6 = "2001:db8:1::100";
  const children: Child[] = [];
  const created: string[] = [];
  let dir = "";
  let responderJs = "";
  let md5Js = "";
  let env: NodeJS.ProcessEnv = {};
  let responder: Child;
  let responderMac = "";

  const inNs = (ns: string, cmd: string, args: string[], timeoutMs?: number) =>
    run("ip", ["netns", "exec", ns, cmd, ...args], { timeoutMs });
  const startNode = (ns: string, script: string, args: string[]) => {
    const c = new Child("ip", ["netns", "exec", ns, process.execPath, script, ...args], env);
    children.push(c);
    return c;
  };

  beforeAll(async () => {
    const missing = ["ip", "arping", "ping", "ndisc6"].filter((t) => {
      try {
        execFileSync("sh", ["-c", `command -v ${t}`], { stdio: "pipe" });
        return false;
      } catch {
        return true;
      }
    });
    if (missing.length) {
      throw new Error(
        `missing tools: ${missing.join(", ")}; apt-get install -y iproute2 iputils-arping iputils-ping ndisc6`,
      );
    }
    ensureAddon();
    dir = mkdtempSync(join(tmpdir(), "mlbt-raw-"));
    responderJs = join(dir, "l2-responder.js");
    md5Js = join(dir, "md5-peer.js");
    for (const [src, out] of [
      ["l2-responder.ts", responderJs],
      ["md5-peer.ts", md5Js],
    ]) {
      buildSync({
        entryPoints: [join(__dirname, "fixtures", src)],
        bundle: true,
        platform: "node",
        target: "node20",
        outfile: out,
        external: ["*.node"],
        logLevel: "error",
      });
    }
    env = { ...process.env, [ADDON_ENV]: ADDON };

    for (const ns of [NS_A, NS_B]) {
      await sh("ip", ["netns", "add", ns]);
      created.push(ns);
      await sh("ip", ["-n", ns, "link", "set", "lo", "up"]);
    }
    await sh("ip", ["link", "add", IF_A, "netns", NS_A, "type", "veth", "peer", "name", IF_B, "netns", NS_B]);
    await sh("ip", ["-n", NS_A, "addr", "add", "192.0.2.11/24", "dev", IF_A]);
    await sh("ip", ["-n", NS_B, "addr", "add", "192.0.2.12/24", "dev", IF_B]);
    await sh("ip", ["-n", NS_A, "addr", "add", "2001:db8:1::11/64", "dev", IF_A, "nodad"]);
    await sh("ip", ["-n", NS_B, "addr", "add", "2001:db8:1::12/64", "dev", IF_B, "nodad"]);
    // Let B learn from gratuitous ARP and unsolicited NA (testinfra.md §3).
    await sh("ip", ["netns", "exec", NS_B, "sysctl", "-qw", `net.ipv4.conf.${IF_B}.arp_accept=1`]);
    await sh("ip", ["netns", "exec", NS_B, "sysctl", "-qw", `net.ipv6.conf.${IF_B}.accept_untracked_na=1`]);
    await sh("ip", ["netns", "exec", NS_B, "sysctl", "-qw", `net.ipv6.conf.${IF_B}.forwarding=1`]);
    await sh("ip", ["-n", NS_A, "link", "set", IF_A, "up"]);
    await sh("ip", ["-n", NS_B, "link", "set", IF_B, "up"]);
    // The kernel applies carrier changes asynchronously (linkwatch); frames sent before both
    // ends report LOWER_UP can be dropped, so wait for it.
    for (const [ns, ifname] of [
      [NS_A, IF_A],
      [NS_B, IF_B],
    ]) {
      await until(
        `${ifname} to come up`,
        async () => {
          const [link] = JSON.parse(await sh("ip", ["-n", ns, "-j", "link", "show", ifname])) as Array<{
            flags: string[];
            operstate: string;
          }>;
          return link.flags.includes("LOWER_UP") && link.operstate === "UP" ? true : undefined;
        },
        5000,
      );
    }

    responder = startNode(NS_A, responderJs, [IF_A, VIP4, VIP6]);
    const ready = JSON.parse((await responder.waitFor("READY ", 10000)).slice("READY ".length)) as {
      index: number;
      mac: string;
      type: number;
    };
    responderMac = ready.mac;
  });

  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop(1000)));
    for (const ns of created) await run("ip", ["netns", "del", ns]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe("L2", () => {
    it("interfaceInfo reports the interface's index and MAC", async () => {
      const link = JSON.parse(await sh("ip", ["-n", NS_A, "-j", "link", "show", IF_A])) as Array<{
        ifindex: number;
        address: string;
      }>;
      const ready = JSON.parse(responder.lines.find((l) => l.startsWith("READY "))!.slice(6)) as {
        index: number;
        mac: string;
        type: number;
      };
      expect(ready).toEqual({ index: link[0].ifindex, mac: link[0].address, type: 1 });
    });

    it("joins the IPv6 VIP's solicited-node multicast group on the interface", async () => {
      const out = await sh("ip", ["-n", NS_A, "maddr", "show", "dev", IF_A]);
      expect(out).toContain("link  33:33:ff:00:01:00");
    });

    it("the gratuitous ARP puts the VIP in the client's ARP cache", async () => {
      const entry = await until(
        "the GARP entry",
        async () => {
          const out = await sh("ip", ["-n", NS_B, "neigh", "show", VIP4, "dev", IF_B]);
          return out.includes(responderMac) ? out : undefined;
        },
        3000,
      );
      expect(entry).toContain(`lladdr ${responderMac}`);
    });

    it("the unsolicited NA puts the VIP in the client's neighbour cache", async () => {
      const entry = await until(
        "the unsolicited NA entry",
        async () => {
          const out = await sh("ip", ["-6", "-n", NS_B, "neigh", "show", VIP6, "dev", IF_B]);
          return out.includes(responderMac) ? out : undefined;
        },
        3000,
      );
      expect(entry).toContain(`lladdr ${responderMac}`);
    });

    it("answers arping for the IPv4 VIP with its MAC", async () => {
      await sh("ip", ["-n", NS_B, "-4", "neigh", "flush", "dev", IF_B]);
      const r = await inNs(NS_B, "arping", ["-c", "2", "-w", "3", "-I", IF_B, VIP4]);
      expect(r.stdout).toContain(`[${responderMac.toUpperCase()}]`);
      expect(r.stdout).toMatch(/Received 2 response\(s\)/);
      expect(r.code).toBe(0);
    });

    it("does not answer ARP for an IP it does not announce", async () => {
      const r = await inNs(NS_B, "arping", ["-c", "1", "-w", "1", "-I", IF_B, "192.0.2.101"]);
      expect(r.stdout).toMatch(/Received 0 response\(s\)/);
      expect(r.code).not.toBe(0);
    });

    it("answers the kernel's Neighbor Solicitation for the IPv6 VIP (ping -6, then ip -6 neigh)", async () => {
      await sh("ip", ["-n", NS_B, "-6", "neigh", "flush", "dev", IF_B]);
      // Nothing answers the echo itself; the point is the neighbour resolution before it.
      await inNs(NS_B, "ping", ["-6", "-c1", "-W1", VIP6]);
      const out = await sh("ip", ["-6", "-n", NS_B, "neigh", "show", VIP6, "dev", IF_B]);
      expect(out).toContain(`lladdr ${responderMac}`);
      expect(out).not.toMatch(/FAILED|INCOMPLETE/);
    });

    it("ndisc6 accepts the advertisement (sourced from the target)", async () => {
      const r = await inNs(NS_B, "ndisc6", ["-1", "-r", "2", "-w", "1000", VIP6, IF_B]);
      expect(r.stdout.toLowerCase()).toContain(responderMac);
      expect(r.code).toBe(0);
    });

    it("does not answer NDP for an IPv6 address it does not announce", async () => {
      const r = await inNs(NS_B, "ndisc6", ["-1", "-r", "1", "-w", "500", "2001:db8:1::101", IF_B]);
      expect(r.code).not.toBe(0);
      expect(r.stdout.toLowerCase()).not.toContain(responderMac);
    });

    it("never receives its own frames (PACKET_IGNORE_OUTGOING) and hears only requests (BPF)", () => {
      const decisions = responder.lines.filter((l) => l.startsWith("DECISION ")).map((l) => l.slice(9));
      expect(decisions).toContain("arp-reply");
      expect(decisions).toContain("na-solicited");
      expect(decisions).not.toContain("own-frame");
      expect(decisions).not.toContain("arp-not-request");
      expect(decisions).not.toContain("not-ns");
      expect(responder.lines.filter((l) => l.startsWith("SEND-ERROR"))).toEqual([]);
    });

    it("closePacket releases the event loop: the responder exits on its own after SIGTERM", async () => {
      responder.proc.kill("SIGTERM");
      const code = await Promise.race([
        responder.exited,
        new Promise<string>((r) => setTimeout(() => r("still running"), 3000)),
      ]);
      expect(responder.lines).toContain("CLOSED");
      expect(code).toBe(0);
    });
  });

  describe("TCP MD5", () => {
    const KEY = "s3cret";
    const connect = (ip: string, port: number, key: string, source = "-", ttl = "-") =>
      run(
        "ip",
        ["netns", "exec", NS_B, process.execPath, md5Js, "connect", ip, String(port), key, source, ttl, "2000"],
        { timeoutMs: 10000, env },
      );

    it("a keyed listener accepts a client with the right key and data flows (IPv4 and IPv6)", async () => {
      const peers = [
        { ip: "192.0.2.12", key: KEY },
        { ip: "2001:db8:1::12", key: KEY },
      ];
      const server = startNode(NS_A, md5Js, ["listen", "::", "1179", JSON.stringify(peers)]);
      await server.waitFor("LISTENING", 10000);

      const v4 = await connect("192.0.2.11", 1179, KEY, "192.0.2.12", "1");
      expect(v4.stdout.trim()).toBe("ECHO");
      expect(v4.code).toBe(0);
      const v6 = await connect("2001:db8:1::11", 1179, KEY);
      expect(v6.stdout.trim()).toBe("ECHO");

      // A wrong key and no key at all: the SYNs are dropped, nothing connects within 2 s.
      const [wrong, none] = await Promise.all([connect("192.0.2.11", 1179, "wrong"), connect("192.0.2.11", 1179, "")]);
      expect(wrong.stdout.trim()).toBe("TIMEOUT");
      expect(wrong.code).toBe(3);
      expect(none.stdout.trim()).toBe("TIMEOUT");
      expect(server.lines.filter((l) => l.startsWith("ACCEPTED"))).toHaveLength(2);
      await server.stop();
    });

    it("setMd5 adds a key to a listening socket", async () => {
      const server = startNode(NS_A, md5Js, [
        "listen",
        "192.0.2.11",
        "1180",
        "[]",
        JSON.stringify([{ ip: "192.0.2.12", key: KEY }]),
      ]);
      await server.waitFor("LISTENING", 10000);
      const [right, wrong] = await Promise.all([
        connect("192.0.2.11", 1180, KEY),
        connect("192.0.2.11", 1180, "other"),
      ]);
      expect(right.stdout.trim()).toBe("ECHO");
      expect(wrong.stdout.trim()).toBe("TIMEOUT");
      await server.stop();
    });

    it("reports bind failures with errno and a hint", () => {
      const addon = loadRawnet("md5");
      // Not an address of this (root) namespace: bind fails before any packet is sent.
      expect(() => addon.md5Listen("192.0.2.250", 1181, [])).toThrow(/EADDRNOTAVAIL.*not an address of this node/);
      expect(() => addon.md5Connect("192.0.2.11", 179, KEY, "192.0.2.250")).toThrow(/bind.*EADDRNOTAVAIL/);
      expect(() => addon.md5Connect("192.0.2.11", 179, KEY, "2001:db8::1")).toThrow(/same address family/);
      expect(() => addon.md5Connect("192.0.2.11", 0, KEY)).toThrow(/port must be an integer/);
      expect(() => addon.md5Connect("192.0.2.11", 179, "k".repeat(81))).toThrow(/at most 80/);
    });
  });
});
