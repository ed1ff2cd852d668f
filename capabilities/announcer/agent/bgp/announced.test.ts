/**
 * MetalLB's metallb_speaker_announced for BGP: from the same plan that feeds Adj-RIB-Out,
 * every IP of each Service this node advertises to some peer, and nothing for a Service
 * the plan withdraws; L2's series are left alone.
 */
import { bgpAd, configOf, peer, pool } from "../../../shared/config/testing";
import { planNode, type PlanService } from "../../../shared/bgp";
import { agentRegistry, setAnnounced } from "../metrics";
import { bgpAnnouncements } from "./metrics";

const svc = (name: string, ips: string[]): PlanService => ({ namespace: "web", name, labels: {}, ips });

const rows = async () =>
  (await agentRegistry.getSingleMetric("metallb_speaker_announced")!.get()).values
    .map((v) => [v.labels.protocol, v.labels.service, v.labels.ip, v.labels.node].join(" "))
    .sort();

describe("metallb_speaker_announced{protocol=bgp}", () => {
  const config = configOf({
    pools: [pool("bgp", ["10.0.0.0/24", "2001:db8::/64"]), pool("lan", ["10.9.0.0/24"])],
    bgpPeers: [peer("r1", { peerAddress: "192.0.2.1" })],
    bgpAdvertisements: [bgpAd("ad", { ipAddressPools: ["bgp"] })],
  });
  const services = [svc("a", ["10.0.0.5", "2001:db8::5"]), svc("b", ["10.9.0.7"]), svc("pending", [])];
  const plan = planNode({
    config,
    node: { name: "n1", labels: {}, conditions: [] },
    services,
    endpoints: new Map(services.map((s) => [`web/${s.name}`, { anyServing: true, servingNodes: new Set(["n1"]) }])),
    settings: { ignoreExcludeLBLabel: false },
  });

  it("lists every IP of each advertised Service, and only those", () => {
    expect(bgpAnnouncements(services, plan.services)).toEqual([["web/a", ["10.0.0.5", "2001:db8::5"]]]);
  });

  it("publishes them beside L2's series and replaces only its own", async () => {
    setAnnounced("layer2", "n1", [["web/b", ["10.9.0.7"]]]);
    setAnnounced("bgp", "n1", bgpAnnouncements(services, plan.services));
    expect(await rows()).toEqual(["bgp web/a 10.0.0.5 n1", "bgp web/a 2001:db8::5 n1", "layer2 web/b 10.9.0.7 n1"]);
    setAnnounced("bgp", "n1", bgpAnnouncements(services, new Map()));
    expect(await rows()).toEqual(["layer2 web/b 10.9.0.7 n1"]);
  });
});
