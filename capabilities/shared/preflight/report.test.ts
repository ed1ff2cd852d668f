import { bgpAd, bfd, input, l2, peer, pool } from "../config/testing";
import { formatReport, preflight } from "./report";

const verdicts = (r: ReturnType<typeof preflight>) => r.objects.map((o) => `${o.kind}/${o.name}:${o.verdict}`);

describe("preflight: existing metallb.io objects -> what will work", () => {
  it("a configuration MetalLB and metallb-pepr both accept is all ok", () => {
    const r = preflight(
      input({
        pools: [pool("web", ["198.51.100.0/28"])],
        l2Advertisements: [l2("lan", { ipAddressPools: ["web"] })],
      }),
    );
    expect(verdicts(r)).toEqual(["IPAddressPool/web:ok", "L2Advertisement/lan:ok"]);
    expect(r.counts).toEqual({ ok: 2, warning: 0, refused: 0 });
  });

  it("refuses the BGPPeer fields the native speaker does not implement, saying why and what to do", () => {
    const r = preflight(
      input({
        pools: [pool("web", ["198.51.100.0/28"])],
        bgpPeers: [peer("in-vrf", { vrf: "red" }), peer("plain", { peerAddress: "192.0.2.2" })],
        bgpAdvertisements: [bgpAd("to-vrf", { peers: ["in-vrf"] })],
      }),
    );
    expect(verdicts(r)).toEqual([
      "IPAddressPool/web:ok",
      "BGPAdvertisement/to-vrf:warning",
      "BGPPeer/in-vrf:refused",
      "BGPPeer/plain:ok",
    ]);
    const refused = r.objects.find((o) => o.name === "in-vrf")!;
    expect(refused.reasons).toEqual([
      expect.stringMatching(/^spec\.vrf: vrf "red" is not supported by metallb-pepr; .*remove spec\.vrf/),
    ]);
    // Once the peer is gone, the advertisement naming it announces to nobody: said, not hidden.
    expect(r.objects.find((o) => o.name === "to-vrf")!.reasons).toEqual([
      expect.stringContaining('BGPPeer "in-vrf" does not exist'),
    ]);
    expect(r.counts).toEqual({ ok: 2, warning: 1, refused: 1 });
  });

  it("refuses BFD echo mode and a pool no Service could be reached at", () => {
    const r = preflight(
      input({ pools: [pool("everything", ["0.0.0.0/0"])], bfdProfiles: [bfd("echo", { echoMode: true })] }),
    );
    expect(verdicts(r)).toEqual(["IPAddressPool/everything:refused", "BFDProfile/echo:refused"]);
  });

  it("prints one line per object, reasons under it, and the totals", () => {
    const text = formatReport(
      preflight(input({ pools: [pool("web", ["198.51.100.0/28"])], bgpPeers: [peer("old", { vrf: "red" })] })),
    );
    const lines = text.trimEnd().split("\n");
    expect(lines[0]).toBe("IPAddressPool/web: ok");
    expect(lines[1]).toBe("BGPPeer/old: REFUSED");
    expect(lines[2]).toMatch(/^ {4}spec\.vrf: vrf "red" is not supported/);
    expect(lines).toContain("2 objects in metallb-system: 1 ok, 0 with warnings, 1 refused");
  });

  it("says so when there is nothing to check", () => {
    expect(formatReport(preflight(input({})))).toBe(
      "no metallb.io configuration objects in namespace metallb-system: nothing to check\n",
    );
  });
});
