import { ANNOUNCED_LINGER_MS } from "./release";
import { HANDOVER_GRACE_MS, handOver, ownedByNode, ownedElsewhere, type ServiceLike, type StatusLike } from "./desired";

const st = (node: string, name: string, interfaces: string[] = []): StatusLike => ({
  status: { node, serviceName: name, serviceNamespace: "ns", interfaces: interfaces.map((n) => ({ name: n })) },
});
const svc = (name: string, ips: string[]): [string, ServiceLike] => [
  `ns/${name}`,
  {
    metadata: { name, namespace: "ns" },
    spec: { type: "LoadBalancer" },
    status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } },
  },
];

describe("ownedByNode", () => {
  const services = new Map([svc("a", ["192.0.2.1", "2001:db8::1"]), svc("b", ["192.0.2.1"]), svc("c", ["192.0.2.3"])]);
  it("joins this node's statuses with the Services' IPs, merging shared IPs", () => {
    const own = ownedByNode("n1", [st("n1", "a", ["eth0"]), st("n1", "b", ["eth1"]), st("n2", "c")], services);
    expect(own.desired.map((d) => d.interfaces)).toEqual([["eth0", "eth1"], ["eth0"]]);
    expect([...own.services.keys()]).toEqual(["ns/a", "ns/b"]);
  });
  it("an empty interface list means all, and wins over named ones", () => {
    const own = ownedByNode("n1", [st("n1", "a", ["eth0"]), st("n1", "b")], services);
    expect(own.desired[0].interfaces).toEqual([]);
  });
  it("ignores statuses for missing Services and Services without IPs", () => {
    expect(ownedByNode("n1", [st("n1", "zzz")], services).desired).toEqual([]);
  });
  it("ownedElsewhere lists Services another node holds", () => {
    expect(ownedElsewhere("n1", [st("n1", "a"), st("n2", "b")])).toEqual(new Set(["ns/b"]));
  });
  it("falls back to labels while status is not yet written", () => {
    const s: StatusLike = {
      metadata: {
        labels: { "metallb.io/node": "n1", "metallb.io/service-name": "c", "metallb.io/service-namespace": "ns" },
      },
    };
    expect(ownedByNode("n1", [s], services).services.get("ns/c")).toEqual(["192.0.2.3"]);
  });
});

describe("handOver (draining, make-before-break)", () => {
  const frozen = new Map([
    ["ns/a", ["192.0.2.1", "2001:db8::1"]],
    ["ns/b", ["192.0.2.2"]],
  ]);
  const keys = (h: ReturnType<typeof handOver>): string[] => [...h.remaining.keys()];

  it("keeps answering a Service no other node owns yet", () => {
    expect(keys(handOver(frozen, new Set(), new Map(), new Map(), 0))).toEqual(["ns/a", "ns/b"]);
  });

  it("keeps a moved Service until shortly after the new owner has announced every one of its IPs", () => {
    const moved = new Map([["ns/a", 1000]]);
    const partly = handOver(frozen, new Set(["ns/a"]), moved, new Map([["192.0.2.1", 1050]]), 1100);
    expect(keys(partly)).toEqual(["ns/a", "ns/b"]);
    expect(partly.recheckAt).toBe(1000 + HANDOVER_GRACE_MS);
    const both = new Map([
      ["192.0.2.1", 1050],
      ["2001:db8::1", 1080],
    ]);
    // Announced: still answered for the linger after the last announcement, then let go.
    const lingering = handOver(frozen, new Set(["ns/a"]), moved, both, 1100);
    expect(keys(lingering)).toEqual(["ns/a", "ns/b"]);
    expect(lingering.recheckAt).toBe(1080 + ANNOUNCED_LINGER_MS);
    const fully = handOver(frozen, new Set(["ns/a"]), moved, both, 1080 + ANNOUNCED_LINGER_MS);
    expect(keys(fully)).toEqual(["ns/b"]);
    expect(fully.recheckAt).toBeUndefined();
  });

  it("lets go after the grace period when no announcement reaches us", () => {
    const moved = new Map([
      ["ns/a", 1000],
      ["ns/b", 1500],
    ]);
    const G = HANDOVER_GRACE_MS;
    expect(keys(handOver(frozen, new Set(["ns/a", "ns/b"]), moved, new Map(), 1000 + G))).toEqual(["ns/b"]);
    expect(keys(handOver(frozen, new Set(["ns/a", "ns/b"]), moved, new Map(), 1500 + G))).toEqual([]);
  });

  it("an announcement alone, without the ownership change, does not end our answering", () => {
    expect(keys(handOver(frozen, new Set(), new Map(), new Map([["192.0.2.2", 4000]]), 5000))).toEqual([
      "ns/a",
      "ns/b",
    ]);
  });
});
