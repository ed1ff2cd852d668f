/**
 * Interop lab: our BGP speaker (capabilities/announcer/agent/bgp/session.ts, driven by the
 * fixture test/lab/fixtures/bgp-speaker.ts) against GoBGP, a second independent BGP
 * implementation next to FRR (test/lab/bgp-frr.test.ts), with no Kubernetes.
 *
 * Topology (test/harness/netlab.ts): router namespace running gobgpd (AS 64512, 192.0.2.1 /
 * 2001:db8:1::1) and one node namespace (192.0.2.11 / 2001:db8:1::11) on one bridge. The
 * speaker uses a 4-byte ASN, 4200000001 (RFC 6793), for eBGP:
 *   192.0.2.11     -> 192.0.2.1      ipv4-unicast only
 *   2001:db8:1::11 -> 2001:db8:1::1  ipv6-unicast only (MP-BGP, RFC 4760)
 * GoBGP's view is read with `gobgp -j` (Loc-RIB, neighbor state) and its log (Peer Down
 * reasons), never from our side.
 *
 * Needs root, Linux, gobgpd/gobgp (hack/install-deps.sh) and the rawnet addon
 * (hack/build-native.sh). Traffic only goes to addresses inside the namespaces created here.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NetLab } from "../harness/netlab";
import { labDescribe, needs } from "../harness/lab-suite";
import { bundleSpeaker, until } from "../harness/frr";
import { GoBgp, attr, gobgpInstalled, nextHop, type GoBgpPath } from "../harness/gobgp";
import { Speakers, community } from "../harness/speakers";

const gobgp = (): string | undefined =>
  gobgpInstalled() ? undefined : "needs GoBGP (gobgpd, gobgp): run hack/install-deps.sh as root";
const d = labDescribe("BGP interop with GoBGP", needs.lab, gobgp, needs.addon);

const GOBGP_AS = 64512;
const OUR_AS = 4200000001; // > 65535: only representable with the 4-octet AS capability (RFC 6793)
const NODE4 = "192.0.2.11";
const NODE6 = "2001:db8:1::11";
const NO_EXPORT = community(65535, 65281); // RFC 1997 well-known community

d("BGP interop with GoBGP (standalone speaker, no Kubernetes)", () => {
  let lab: NetLab;
  let gobgp: GoBgp;
  let dir: string;
  let speakers: Speakers;

  const established = (address: string): Promise<unknown> =>
    until(`GoBGP peer ${address} Established`, async () =>
      (await gobgp.peerState(address)) === "Established" ? true : undefined,
    );
  const pathFrom = (prefix: string, neighbor: string): Promise<GoBgpPath> =>
    until(`${prefix} from ${neighbor} in GoBGP's RIB`, async () =>
      (await gobgp.paths(prefix)).find((p) => p["neighbor-ip"] === neighbor),
    );
  const goneFrom = (prefix: string, neighbor: string): Promise<unknown> =>
    until(`${prefix} from ${neighbor} gone from GoBGP's RIB`, async () =>
      (await gobgp.paths(prefix)).some((p) => p["neighbor-ip"] === neighbor) ? undefined : true,
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "mlbgobgp-"));
    speakers = new Speakers(bundleSpeaker(dir));
    lab = await NetLab.create({ nodes: 1, router: true });
    gobgp = new GoBgp(lab.router!.ns, join(dir, "gobgp"));
    gobgp.start({
      asn: GOBGP_AS,
      routerId: "192.0.2.1",
      neighbors: [
        { address: NODE4, asn: OUR_AS },
        { address: NODE6, asn: OUR_AS },
      ],
    });
    await until("gobgpd answering on its gRPC port", async () => ((await gobgp.neighbor(NODE4)) ? true : undefined));
  }, 60_000);

  afterAll(async () => {
    await speakers?.killAll();
    await gobgp?.stop();
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  describe("IPv4 unicast session", () => {
    const routes = [
      {
        prefix: "198.51.100.10/32",
        communities: [community(65000, 100), NO_EXPORT],
        large: [[OUR_AS, 1, 2]] as [number, number, number][],
      },
      { prefix: "198.51.100.11/32", communities: [community(65000, 200)] },
      // Not negotiated on this session (GoBGP offers ipv4-unicast only): must not be sent.
      { prefix: "2001:db8:100::99/128" },
    ];
    let s: ReturnType<Speakers["start"]>;

    it("reaches Established with a 4-byte ASN", async () => {
      s = speakers.start(
        lab.nodes[0]!.ns,
        { peerAddress: "192.0.2.1", localAS: OUR_AS, peerAS: GOBGP_AS, routerId: NODE4 },
        routes,
      );
      await established(NODE4);
      const n = await gobgp.neighbor(NODE4);
      expect(n.timers?.state?.negotiated_hold_time).toBe(3);
      await s.waitFor("STATE Established");
    });

    it("GoBGP holds our prefixes with our next hop, AS_PATH, ORIGIN and both kinds of community", async () => {
      const p = await pathFrom("198.51.100.10/32", NODE4);
      expect(nextHop(p)).toBe(NODE4);
      // eBGP: AS_PATH is one AS_SEQUENCE (segment type 2) of our AS (RFC 4271 §5.1.2), carried
      // as a 4-octet AS because both sides sent the capability (RFC 6793 §4.1).
      expect(attr(p, 2)?.as_paths).toEqual([{ segment_type: 2, num: 1, asns: [OUR_AS] }]);
      expect(attr(p, 1)?.value).toBe(0); // ORIGIN IGP
      expect(attr(p, 8)?.communities).toEqual([community(65000, 100), NO_EXPORT]); // RFC 1997
      expect(attr(p, 32)?.value).toEqual([{ ASN: OUR_AS, LocalData1: 1, LocalData2: 2 }]); // RFC 8092
      expect(attr(p, 5)).toBeUndefined(); // no LOCAL_PREF over eBGP (RFC 4271 §5.1.5)

      const q = await pathFrom("198.51.100.11/32", NODE4);
      expect(nextHop(q)).toBe(NODE4);
      expect(attr(q, 8)?.communities).toEqual([community(65000, 200)]);
      expect(attr(q, 32)).toBeUndefined();

      // An IPv6 prefix is not sent on a session that negotiated only IPv4 unicast (RFC 4760 §7).
      await s.waitFor("EOR");
      expect(await gobgp.paths("2001:db8:100::99/128")).toEqual([]);
      expect(await gobgp.peerState(NODE4)).toBe("Established");
    });

    it("a withdrawal removes the prefix from GoBGP and leaves the other", async () => {
      s.send({ routes: routes.filter((r) => r.prefix !== "198.51.100.11/32") });
      await goneFrom("198.51.100.11/32", NODE4);
      expect((await gobgp.paths("198.51.100.10/32")).map((p) => p["neighbor-ip"])).toEqual([NODE4]);
      expect(await gobgp.peerState(NODE4)).toBe("Established");
    });

    it("a clean stop sends NOTIFICATION Cease / Administrative Shutdown and GoBGP drops the routes", async () => {
      await speakers.stop(s);
      await goneFrom("198.51.100.10/32", NODE4);
      // RFC 4486 §3: Cease, subcode 2 (Administrative Shutdown), as GoBGP decoded it.
      const reasons = await until("GoBGP's Peer Down for our IPv4 session", async () => {
        const r = gobgp.peerDownReasons(NODE4);
        return r.length ? r : undefined;
      });
      expect(reasons).toEqual(["notification-received code 6(cease) subcode 2(administrative shutdown)"]);
      expect(await gobgp.peerState(NODE4)).not.toBe("Established");
      expect((await gobgp.neighbor(NODE4)).state?.messages?.received?.notification).toBe(1);
      // Over the whole session GoBGP found nothing to complain about but that Cease (a
      // malformed attribute would be logged as a warning, RFC 7606).
      expect(gobgp.complaints(NODE4)).toEqual(["warning: received notification"]);
    });
  });

  describe("IPv6 unicast session (MP-BGP)", () => {
    const routes = [
      {
        prefix: "2001:db8:100::10/128",
        communities: [community(65000, 6)],
        large: [[OUR_AS, 6, 6]] as [number, number, number][],
      },
      { prefix: "2001:db8:100::11/128" },
      // Not negotiated on this session (GoBGP offers ipv6-unicast only).
      { prefix: "198.51.100.99/32" },
    ];
    let s: ReturnType<Speakers["start"]>;

    it("reaches Established over IPv6 with a 4-byte ASN", async () => {
      s = speakers.start(
        lab.nodes[0]!.ns,
        { peerAddress: "2001:db8:1::1", localAS: OUR_AS, peerAS: GOBGP_AS, routerId: NODE4 },
        routes,
      );
      await established(NODE6);
      await s.waitFor("STATE Established");
    });

    it("GoBGP holds our IPv6 prefixes with our global address as MP_REACH_NLRI next hop", async () => {
      const p = await pathFrom("2001:db8:100::10/128", NODE6);
      expect(attr(p, 14)).toMatchObject({ afi: 2, safi: 1, nexthop: NODE6 }); // RFC 4760 §3, RFC 2545 §3
      expect(attr(p, 2)?.as_paths).toEqual([{ segment_type: 2, num: 1, asns: [OUR_AS] }]);
      expect(attr(p, 1)?.value).toBe(0);
      expect(attr(p, 8)?.communities).toEqual([community(65000, 6)]);
      expect(attr(p, 32)?.value).toEqual([{ ASN: OUR_AS, LocalData1: 6, LocalData2: 6 }]);
      expect(nextHop(await pathFrom("2001:db8:100::11/128", NODE6))).toBe(NODE6);
      await s.waitFor("EOR");
      expect(await gobgp.paths("198.51.100.99/32")).toEqual([]);
      expect(await gobgp.peerState(NODE6)).toBe("Established");
    });

    it("a withdrawal (MP_UNREACH_NLRI) removes the prefix from GoBGP", async () => {
      s.send({ routes: routes.filter((r) => r.prefix !== "2001:db8:100::10/128") });
      await goneFrom("2001:db8:100::10/128", NODE6);
      expect((await gobgp.paths("2001:db8:100::11/128")).map((p) => p["neighbor-ip"])).toEqual([NODE6]);
    });

    it("a clean stop sends NOTIFICATION Cease and GoBGP drops the routes", async () => {
      await speakers.stop(s);
      await goneFrom("2001:db8:100::11/128", NODE6);
      const reasons = await until("GoBGP's Peer Down for our IPv6 session", async () => {
        const r = gobgp.peerDownReasons(NODE6);
        return r.length ? r : undefined;
      });
      expect(reasons).toEqual(["notification-received code 6(cease) subcode 2(administrative shutdown)"]);
      expect(await gobgp.peerState(NODE6)).not.toBe("Established");
      expect(gobgp.complaints(NODE6)).toEqual(["warning: received notification"]);
    });
  });
});
