/**
 * Hold-timer lab: a node whose agent dies without sending anything (power loss, kernel
 * panic, a cable pulled) must lose its routes at the peer when the negotiated hold time
 * runs out (RFC 4271 §4.4, §6.5, §8.2.2 HoldTimer_Expires), and get them back when it
 * returns.
 *
 * Why not just SIGKILL the speaker: the kernel closes a killed process's sockets and sends
 * FIN, so the peer sees the TCP connection close at once and never needs its hold timer
 * (that is what test/lab/bgp-frr.test.ts's SIGKILL case exercises). Here the node's switch
 * port goes down first, so nothing (no KEEPALIVE, no FIN, no RST) reaches FRR, and only then
 * is the speaker SIGKILLed. FRR's own reason for the reset tells which path it took.
 *
 * Topology (test/harness/netlab.ts): FRR in the router namespace (AS 64512, 192.0.2.1,
 * `timers 1 3` for the neighbor, so the negotiated hold time is 3 s) and one node namespace
 * (192.0.2.11, AS 64513) on one bridge. No timing is asserted; the test only waits.
 *
 * Needs root, Linux, FRR (hack/install-deps.sh) and the rawnet addon (hack/build-native.sh).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NetLab } from "../harness/netlab";
import { labDescribe, needs } from "../harness/lab-suite";
import { Frr, bundleSpeaker, until } from "../harness/frr";
import { Speakers } from "../harness/speakers";

const d = labDescribe("BGP hold timer with FRR", needs.lab, needs.frr, needs.addon);

const FRR_AS = 64512;
const NODE = "192.0.2.11";
const VIP = "198.51.100.60/32";

interface FrrNeighborJson {
  bgpState?: string;
  bgpTimerHoldTimeMsecs?: number;
  lastResetDueTo?: string;
  lastNotificationReason?: string;
  lastErrorCodeSubcode?: string;
  connectionsDropped?: number;
}

d("BGP hold timer: FRR drops the routes of a speaker that went silent", () => {
  let lab: NetLab;
  let frr: Frr;
  let dir: string;
  let speakers: Speakers;
  let switchPort: string;

  const neighbor = async (): Promise<FrrNeighborJson> =>
    (await frr.json<Record<string, FrrNeighborJson>>(`show bgp neighbors ${NODE} json`))[NODE] ?? {};
  const start = (): ReturnType<Speakers["start"]> =>
    speakers.start(lab.nodes[0]!.ns, { peerAddress: "192.0.2.1", localAS: 64513, peerAS: FRR_AS, routerId: NODE }, [
      { prefix: VIP },
    ]);
  const ourPath = async () => (await frr.paths(VIP)).find((p) => p.peerId === NODE);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "mlbhold-"));
    speakers = new Speakers(bundleSpeaker(dir));
    lab = await NetLab.create({ nodes: 1, router: true });
    switchPort = `p-${lab.nodes[0]!.ns.slice(lab.prefix.length)}`; // the node's port on br0 (netlab.ts)
    frr = new Frr(lab.router!.ns, join(dir, "frr"));
    frr.start({
      asn: FRR_AS,
      routerId: "192.0.2.1",
      neighbors: [{ address: NODE, asn: 64513, keepalive: 1, hold: 3 }],
    });
    await until("FRR vty", async () => ((await frr.vty("show version")) ? true : undefined), 10_000);
  }, 60_000);

  afterAll(async () => {
    await speakers?.killAll();
    await frr?.stop();
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("FRR has our route over an Established session with a 3 s hold time", async () => {
    const s = start();
    await until("FRR peer Established", async () => ((await frr.peerState(NODE)) === "Established" ? true : undefined));
    const path = await until(`${VIP} from ${NODE} in FRR`, ourPath);
    expect(path.nexthops?.[0]?.ip).toBe(NODE);
    expect((await neighbor()).bgpTimerHoldTimeMsecs).toBe(3000);
    await s.waitFor("EOR");
  });

  it("the node goes silent (link down, then the agent SIGKILLed): the hold timer expires and FRR drops the route", async () => {
    const dropsBefore = (await neighbor()).connectionsDropped ?? 0;
    // Nothing leaves the node from here on: its only link has no carrier.
    await lab.execOk(lab.switchNs, ["ip", "link", "set", "dev", switchPort, "down"]);
    const [s] = speakers.all;
    s!.kill("SIGKILL");
    await s!.exited;

    await until(`${VIP} gone from FRR`, async () => ((await ourPath()) ? undefined : true), 20_000);
    const n = await until(
      "FRR's neighbor out of Established",
      async () => {
        const nb = await neighbor();
        return nb.bgpState !== "Established" ? nb : undefined;
      },
      20_000,
    );
    // FRR ended the session itself because its hold timer expired (RFC 4271 §6.5: it sends
    // NOTIFICATION Hold Timer Expired, which cannot reach us), not because TCP closed.
    expect(n.lastResetDueTo).toMatch(/notification send/i);
    expect(n.lastNotificationReason).toMatch(/hold timer expired/i);
    expect(n.connectionsDropped).toBe(dropsBefore + 1);
  });

  it("the node comes back: a new speaker re-establishes and FRR has the route again", async () => {
    await lab.execOk(lab.switchNs, ["ip", "link", "set", "dev", switchPort, "up"]);
    const s = start();
    await until(
      "FRR peer Established again",
      async () => ((await frr.peerState(NODE)) === "Established" ? true : undefined),
      20_000,
    );
    const path = await until(`${VIP} back in FRR`, ourPath, 20_000);
    expect(path.nexthops?.[0]?.ip).toBe(NODE);
    expect(path.valid).toBe(true);
    await speakers.stop(s);
  });
});
