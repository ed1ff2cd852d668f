/**
 * L2 mode end to end: three node namespaces running real agents, the controller in
 * `pepr dev`, a client namespace probing with arping, ping, ip neigh and tcpdump.
 * Needs root; skips with the reason otherwise. Only lab addresses receive traffic.
 */
import { kubectlOk } from "../harness/kubectl";
import { L2Lab } from "../harness/l2lab";
import { labSkipReason } from "../harness/netlab";
import { sleep, until } from "../harness/wait";

const skip = labSkipReason();
const d = skip ? describe.skip : describe;
if (skip) console.warn(`test/lab/l2.test.ts skipped: ${skip}`);

d("L2 mode (network namespaces, real agents)", () => {
  let lab: L2Lab;
  const V4 = "192.0.2.160";
  const V6 = "2001:db8:1::160";
  const LOCAL = "192.0.2.161";

  beforeAll(async () => {
    lab = await L2Lab.create({ nodes: 3 });
  }, 120_000);

  afterAll(async () => {
    await lab?.destroy();
  }, 60_000);

  it("the client resolves a VIP to the owner's MAC (arping, then ip neigh after ping)", async () => {
    await lab.createService("web", V4);
    const owner = await lab.waitOwner("web");
    const mac = lab.host(owner).mac;
    expect(await until("arping answer", () => lab.arping(V4))).toBe(mac);
    await lab.net.exec(lab.net.client.ns, ["ping", "-c", "1", "-W", "1", V4]);
    expect(await lab.neighbour(V4)).toBe(mac);
  });

  it("IPv6: NDP answers from the owner (ping -6, ip -6 neigh)", async () => {
    await lab.createService("web6", V6);
    const owner = await lab.waitOwner("web6");
    const mac = lab.host(owner).mac;
    const got = await until("NDP neighbour entry", async () => {
      await lab.net.exec(lab.net.client.ns, ["ping", "-6", "-c", "1", "-W", "1", V6]);
      return lab.neighbour(V6);
    });
    expect(got).toBe(mac);
    // RFC 4861 §7.2.1: the owner joined the VIP's solicited-node group (a real NIC filters
    // multicast it was not asked for; veth does not, so check the membership itself).
    const group = "33:33:ff:00:01:60"; // solicited-node MAC of 2001:db8:1::160
    const maddr = (node: string) => lab.net.execOk(node, ["ip", "maddr", "show", "dev", lab.host(node).ifname]);
    expect(await maddr(owner)).toContain(group);
    for (const other of lab.nodeNames.filter((n) => n !== owner)) expect(await maddr(other)).not.toContain(group);
  });

  it("externalTrafficPolicy Local: the owner follows the serving endpoint", async () => {
    await lab.createService("local", LOCAL, { local: true });
    const [a, b] = [lab.nodeNames[2], lab.nodeNames[0]];
    await lab.setEndpoints("local", [a]);
    expect(await lab.waitOwner("local", (n) => n === a)).toBe(a);
    expect(
      await until("arping from a", async () => ((await lab.arping(LOCAL)) === lab.host(a).mac ? true : undefined)),
    ).toBe(true);
    await lab.setEndpoints("local", [b]);
    expect(await lab.waitOwner("local", (n) => n === b)).toBe(b);
    expect(
      await until("arping from b", async () => ((await lab.arping(LOCAL)) === lab.host(b).mac ? true : undefined)),
    ).toBe(true);
    // Its only eligible node may be the one a later test drains: it must not outlive this test.
    await kubectlOk(["delete", "service", "local", "-n", lab.serviceNamespace]);
  });

  it("SIGKILL of the owner moves the VIP and the client's neighbour entry follows the GARP", async () => {
    const old = await lab.waitOwner("web");
    expect(await lab.neighbour(V4)).toBe(lab.host(old).mac);
    lab.agents.get(old)!.kill("SIGKILL");
    const next = await lab.waitOwner("web", (n) => n !== old, 15_000);
    // No probe from the client: only the new owner's gratuitous ARP can update the entry.
    const mac = await until(
      "neighbour entry updated by GARP",
      async () => {
        const m = await lab.neighbour(V4);
        return m === lab.host(next).mac ? m : undefined;
      },
      10_000,
    );
    expect(mac).toBe(lab.host(next).mac);
    await lab.startAgent(old);
  });

  it("an agent cut off from the API server falls silent before another node answers", async () => {
    const old = await lab.waitOwner("web");
    const c = lab.net.client;
    const dump = lab.net.spawnIn(c.ns, ["tcpdump", "-i", c.ifname, "-n", "-e", "-l", "-tt", "arp"]);
    await dump.waitFor("listening on", 10_000);
    const probe = lab.net.spawnIn(c.ns, ["arping", "-b", "-c", "12", "-I", c.ifname, V4]);
    await sleep(500);
    lab.net.cutApi(old);
    const next = await lab.waitOwner("web", (n) => n !== old, 15_000);
    await sleep(2000);
    // The old agent gets its API back: it must learn it lost the IP, not resume answering.
    await lab.net.restoreApi(old);
    await sleep(2500);
    probe.kill("SIGINT");
    dump.kill("SIGINT");
    await dump.exited;
    // Who claimed V4 (ARP replies, and gratuitous requests "who-has V4 tell V4"), in time order.
    const claims: Array<{ t: number; mac: string }> = [];
    for (const line of dump.output().split("\n")) {
      const m = /^(\d+\.\d+) ([0-9a-f:]{17}) > .*?(?:Reply (\S+) is-at|Request who-has ([0-9.]+) tell ([0-9.]+))/.exec(
        line,
      );
      if (!m) continue;
      const ip = m[3] ?? (m[4] === m[5] ? m[4] : undefined);
      if (ip === V4) claims.push({ t: Number(m[1]), mac: m[2] });
    }
    const oldMac = lab.host(old).mac;
    const newMac = lab.host(next).mac;
    const lastOld = Math.max(...claims.filter((x) => x.mac === oldMac).map((x) => x.t));
    const firstNew = Math.min(...claims.filter((x) => x.mac === newMac).map((x) => x.t));
    expect(claims.some((x) => x.mac === oldMac)).toBe(true);
    expect(claims.some((x) => x.mac === newMac)).toBe(true);
    // Never two MACs for one IP: the old owner's last claim precedes the new owner's first.
    expect(lastOld).toBeLessThan(firstNew);
    expect(new Set(claims.map((x) => x.mac))).toEqual(new Set([oldMac, newMac]));
  });

  it("SIGTERM hands over make-before-break: the old agent answers until the new owner is written, then exits 0", async () => {
    const old = await lab.waitOwner("web");
    const agent = lab.agents.get(old)!;
    agent.kill("SIGTERM");
    const next = await lab.waitOwner("web", (n) => n !== old, 10_000);
    expect(await agent.exited).toBe(0);
    expect(agent.output()).toContain("SIGTERM: draining");
    expect(agent.output()).not.toContain("drain timeout");
    expect(
      await until("arping from the new owner", async () =>
        (await lab.arping(V4)) === lab.host(next).mac ? true : undefined,
      ),
    ).toBe(true);
    await lab.startAgent(old);
  });
});
