/**
 * Interop lab: our BGP speaker (capabilities/announcer/agent/bgp/session.ts, driven by the
 * fixture test/lab/fixtures/bgp-speaker.ts) against FRR bgpd, with no Kubernetes.
 *
 * Topology (test/harness/netlab.ts): router namespace (FRR, AS 64512, 192.0.2.1 /
 * 2001:db8:1::1) and three node namespaces on one bridge (192.0.2.11..13). Extra addresses
 * give one node several identities towards FRR:
 *   192.0.2.11 AS 64513, 192.0.2.12 AS 64514, 192.0.2.13 AS 64515   eBGP (ECMP trio)
 *   2001:db8:1::11 AS 64513                                          eBGP over IPv6 (MP-BGP)
 *   192.0.2.42 (on n1) AS 64512, MD5 "s3cret"                        iBGP, source address
 *   192.0.2.43 (on n2) AS 64516, MD5 "right"                          speaker uses "wrong"
 *   192.0.2.44 (on n0) AS 64517                                       dynamicASN (no peerAS)
 * FRR timers 1/3 s, so a speaker that dies silently is noticed in 3 s.
 *
 * Needs root, Linux, FRR (hack/install-deps.sh) and the rawnet addon (hack/build-native.sh).
 * Traffic only goes to addresses inside the namespaces created here.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NetLab } from "../harness/netlab";
import { labDescribe, needs } from "../harness/lab-suite";
import { Frr, Speaker, bundleSpeaker, until, sleep, type FrrPath } from "../harness/frr";
import { atMost } from "../harness/wait";

const d = labDescribe("BGP interop with FRR", needs.lab, needs.frr, needs.addon);

const FRR_AS = 64512;
const VIP = "198.51.100.50/32";
const community = (asn: number, value: number): number => asn * 65536 + value;

d("BGP interop with FRR (standalone speaker, no Kubernetes)", () => {
  let lab: NetLab;
  let frr: Frr;
  let dir: string;
  let bundle: string;
  const speakers: Speaker[] = [];

  const speaker = (ns: string, session: Record<string, unknown>, routes: unknown[] = []): Speaker => {
    const s = new Speaker(ns, bundle, {
      session: { routerId: "0.0.0.0", holdTime: 3, connectRetryTime: 2, backoff: { initial: 0.2, max: 1 }, ...session },
      routes,
    });
    speakers.push(s);
    return s;
  };
  const established = (address: string, timeoutMs = 10_000): Promise<unknown> =>
    until(
      `FRR peer ${address} Established`,
      async () => ((await frr.peerState(address)) === "Established" ? true : undefined),
      timeoutMs,
    );
  const pathsFrom = (paths: FrrPath[], peer: string): FrrPath[] => paths.filter((p) => p.peerId === peer);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "mlbbgp-"));
    bundle = bundleSpeaker(dir);
    lab = await NetLab.create({ nodes: 3, router: true });
    const [n0, n1, n2] = lab.nodes;
    await lab.execOk(n1!.ns, ["ip", "addr", "add", "192.0.2.42/24", "dev", "eth0"]);
    await lab.execOk(n2!.ns, ["ip", "addr", "add", "192.0.2.43/24", "dev", "eth0"]);
    await lab.execOk(n0!.ns, ["ip", "addr", "add", "192.0.2.44/24", "dev", "eth0"]);
    frr = new Frr(lab.router!.ns, join(dir, "frr"));
    frr.start({
      asn: FRR_AS,
      routerId: "192.0.2.1",
      networks4: ["203.0.113.0/24"],
      neighbors: [
        { address: "192.0.2.11", asn: 64513 },
        { address: "192.0.2.12", asn: 64514 },
        { address: "192.0.2.13", asn: 64515 },
        { address: "2001:db8:1::11", asn: 64513 },
        { address: "192.0.2.42", asn: FRR_AS, password: "s3cret" },
        { address: "192.0.2.43", asn: 64516, password: "right" },
        { address: "192.0.2.44", asn: 64517 },
      ],
    });
    await until("FRR vty", async () => ((await frr.vty("show version")) ? true : undefined), 10_000, 100);
  }, 60_000);

  afterAll(async () => {
    for (const s of speakers) s.kill("SIGKILL");
    await atMost(Promise.all(speakers.map((s) => s.exited)), 3000);
    await frr?.stop();
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("eBGP over IPv4: Established, COMMUNITIES and LARGE_COMMUNITIES reach FRR, FRR's route is counted", async () => {
    const s = speaker(
      lab.nodes[0]!.ns,
      { peerAddress: "192.0.2.1", localAS: 64513, peerAS: FRR_AS, routerId: "192.0.2.11" },
      [
        {
          prefix: "198.51.100.10/32",
          communities: [community(64513, 100), community(65535, 65281)],
          large: [[64513, 1, 2]],
        },
      ],
    );
    await established("192.0.2.11");
    const path = await until("198.51.100.10/32 in FRR", async () => (await frr.paths("198.51.100.10/32"))[0]);
    expect(path.path).toBe("64513");
    expect(path.nexthops?.[0]?.ip).toBe("192.0.2.11");
    const detail = await frr.json<{
      paths: Array<{ community?: { string: string }; largeCommunity?: { string: string }; origin?: string }>;
    }>("show bgp ipv4 unicast 198.51.100.10/32 json");
    expect(detail.paths[0]!.community?.string).toBe("64513:100 no-export");
    expect(detail.paths[0]!.largeCommunity?.string).toBe("64513:1:2");
    expect(detail.paths[0]!.origin).toBe("IGP");
    // FRR's own 203.0.113.0/24 arrives and is counted, not installed.
    s.send({
      routes: [
        {
          prefix: "198.51.100.10/32",
          communities: [community(64513, 100), community(65535, 65281)],
          large: [[64513, 1, 2]],
        },
      ],
    });
    await until(
      "receivedPrefixes",
      async () => {
        s.send({});
        const snap = [...s.lines].reverse().find((l) => l.startsWith("SNAPSHOT "));
        const parsed = snap
          ? (JSON.parse(snap.slice(9)) as { receivedPrefixes: number; state: string; capabilities: string[] })
          : undefined;
        return parsed && parsed.receivedPrefixes >= 1 ? parsed : undefined;
      },
      5000,
      200,
    );
    // A withdrawal: the route list shrinks, FRR drops the prefix.
    s.send({ routes: [] });
    await until("198.51.100.10/32 withdrawn", async () =>
      (await frr.paths("198.51.100.10/32")).length === 0 ? true : undefined,
    );
    await s.send({ stop: true });
    await s.waitFor("STOPPED", 5000);
  });

  it("eBGP over IPv6 (MP-BGP): Established, the prefix arrives with our global next hop", async () => {
    const s = speaker(
      lab.nodes[0]!.ns,
      { peerAddress: "2001:db8:1::1", localAS: 64513, peerAS: FRR_AS, routerId: "192.0.2.11" },
      [{ prefix: "2001:db8:100::10/128", communities: [community(64513, 6)] }],
    );
    await established("2001:db8:1::11");
    const path = await until("2001:db8:100::10/128 in FRR", async () => (await frr.paths("2001:db8:100::10/128"))[0]);
    expect(path.path).toBe("64513");
    expect(path.nexthops?.some((n) => n.ip === "2001:db8:1::11")).toBe(true);
    s.send({ stop: true });
    await s.waitFor("STOPPED", 5000);
  });

  it("iBGP with TCP MD5 and a source address: LOCAL_PREF reaches FRR", async () => {
    const s = speaker(
      lab.nodes[1]!.ns,
      {
        peerAddress: "192.0.2.1",
        localAS: FRR_AS,
        peerAS: FRR_AS,
        routerId: "192.0.2.42",
        sourceAddress: "192.0.2.42",
        password: "s3cret",
      },
      [{ prefix: "198.51.100.20/32", localPref: 250, communities: [community(64512, 7)] }],
    );
    await established("192.0.2.42");
    const path = await until("198.51.100.20/32 in FRR", async () => (await frr.paths("198.51.100.20/32"))[0]);
    expect(path.locPrf).toBe(250);
    expect(path.path).toBe("");
    expect(path.nexthops?.[0]?.ip).toBe("192.0.2.42");
    s.send({ stop: true });
    await s.waitFor("STOPPED", 5000);
  });

  it("a wrong MD5 key never establishes", async () => {
    const s = speaker(lab.nodes[2]!.ns, {
      peerAddress: "192.0.2.1",
      localAS: 64516,
      peerAS: FRR_AS,
      routerId: "192.0.2.43",
      sourceAddress: "192.0.2.43",
      password: "wrong",
    });
    await sleep(4000);
    expect(await frr.peerState("192.0.2.43")).not.toBe("Established");
    expect(s.has("STATE Established")).toBe(false);
    expect(s.has("STATE OpenSent")).toBe(false); // the SYN is dropped: TCP never comes up
    s.kill("SIGKILL");
  });

  it("dynamicASN: external accepts FRR's AS; internal refuses it with Bad Peer AS", async () => {
    const dyn = (dynamicASN: "internal" | "external"): Speaker =>
      speaker(lab.nodes[0]!.ns, {
        peerAddress: "192.0.2.1",
        localAS: 64517,
        dynamicASN,
        routerId: "192.0.2.44",
        sourceAddress: "192.0.2.44",
      });
    // internal: FRR says AS 64512, not ours (64517): we refuse its OPEN (RFC 4271 §6.2, 2/2).
    const internal = dyn("internal");
    await until(
      "our OPEN error",
      async () => (internal.lines.some((l) => /dynamicASN internal/.test(l)) ? true : undefined),
      10_000,
      100,
    );
    expect(await frr.peerState("192.0.2.44")).not.toBe("Established");
    expect(internal.has("STATE Established")).toBe(false);
    internal.kill("SIGKILL");
    await internal.exited;
    // external: any AS but ours, so FRR's 64512 is accepted.
    const external = dyn("external");
    await established("192.0.2.44");
    expect(external.has("STATE Established")).toBe(true);
    external.kill("SIGKILL");
  });

  describe("three eBGP speakers advertising one /32", () => {
    const ecmp: Speaker[] = [];
    const start = (i: number, restarting = false): Speaker => {
      const addr = `192.0.2.${11 + i}`;
      return speaker(
        lab.nodes[i]!.ns,
        {
          peerAddress: "192.0.2.1",
          localAS: 64513 + i,
          peerAS: FRR_AS,
          routerId: addr,
          gracefulRestart: i === 0,
          restartTime: 30,
          restarting,
        },
        [{ prefix: VIP }],
      );
    };

    it("FRR installs three ECMP paths", async () => {
      for (let i = 0; i < 3; i++) ecmp.push(start(i));
      for (let i = 0; i < 3; i++) await established(`192.0.2.${11 + i}`);
      const paths = await until("3 paths", async () => {
        const p = await frr.paths(VIP);
        return p.length === 3 && p.filter((x) => x.multipath || x.bestpath).length === 3 ? p : undefined;
      });
      expect(paths.map((p) => p.nexthops?.[0]?.ip).sort()).toEqual(["192.0.2.11", "192.0.2.12", "192.0.2.13"]);
    });

    // "At once" is shown by the reason, not a stopwatch: FRR dropped the session on our Cease
    // (RFC 4486), not on hold-timer expiry or a TCP close. Timings are in `npm run bench`.
    it("a clean stop (NOTIFICATION Cease / Administrative Shutdown) withdraws at once", async () => {
      ecmp[2]!.send({ stop: true });
      await until(
        "n2's path gone",
        async () => (pathsFrom(await frr.paths(VIP), "192.0.2.13").length === 0 ? true : undefined),
        5000,
        20,
      );
      const nb = await frr.json<Record<string, { lastNotificationReason?: string; lastResetDueTo?: string }>>(
        "show bgp neighbors 192.0.2.13 json",
      );
      expect(JSON.stringify(nb["192.0.2.13"])).toMatch(/Administrative Shutdown|Admin/i);
    });

    // A killed process's sockets are closed by the kernel (FIN), so FRR sees the session
    // close at once; the hold timer plays no part here (see test/lab/bgp-hold-timer.test.ts
    // for a speaker that goes silent).
    it("SIGKILL: the kernel closes our TCP connection and FRR drops the routes", async () => {
      ecmp[1]!.kill("SIGKILL");
      await until(
        "n1's path gone",
        async () => (pathsFrom(await frr.paths(VIP), "192.0.2.12").length === 0 ? true : undefined),
        6000,
        50,
      );
      const nb = await frr.json<Record<string, { lastResetDueTo?: string }>>("show bgp neighbors 192.0.2.12 json");
      expect(nb["192.0.2.12"]?.lastResetDueTo).toBe("Peer closed the session");
    });

    it("graceful restart: after SIGKILL FRR keeps the route as stale, and refreshes it after our End-of-RIB", async () => {
      const nb = await frr.json<
        Record<string, { gracefulRestartInfo?: unknown; neighborCapabilities?: Record<string, unknown> }>
      >("show bgp neighbors 192.0.2.11 json");
      expect(JSON.stringify(nb["192.0.2.11"]?.neighborCapabilities ?? {})).toMatch(/gracefulRestart/);
      ecmp[0]!.kill("SIGKILL");
      await ecmp[0]!.exited;
      const stale = await until(
        "stale path from n0",
        async () => {
          const p = pathsFrom(await frr.paths(VIP), "192.0.2.11")[0];
          return p?.stale ? p : undefined;
        },
        6000,
      );
      // RFC 4724 §4.2: the session is down, yet the route stays (marked stale) until our End-of-RIB.
      expect(stale.stale).toBe(true);
      expect(await frr.peerState("192.0.2.11")).not.toBe("Established");
      const again = start(0, true);
      await again.waitFor("EOR", 15_000);
      const fresh = await until(
        "fresh path from n0",
        async () => {
          const p = pathsFrom(await frr.paths(VIP), "192.0.2.11")[0];
          return p && !p.stale ? p : undefined;
        },
        5000,
      );
      expect(fresh.stale).toBeFalsy();
      again.send({ stop: true });
      await again.waitFor("STOPPED", 5000);
    });
  });
});
