import {
  ALLOCATED_FROM_POOL_ANNOTATION,
  addressesTakenAway,
  poolMayShrink,
  poolsInUse,
  type HolderService,
} from "./pool-holders";
import { pool } from "./testing";

const svc = (ns: string, name: string, ips: string[], spec: HolderService["spec"] = {}): HolderService => ({
  metadata: { namespace: ns, name },
  spec: { type: "LoadBalancer", ...spec },
  status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } },
});

describe("addressesTakenAway", () => {
  const before = pool("p", ["192.0.2.0/28", "2001:db8:6a::10-2001:db8:6a::1f"]);
  const services = [
    svc("b", "web", ["192.0.2.9", "2001:db8:6a::10"]),
    svc("a", "api", ["192.0.2.1"]),
    svc("a", "elsewhere", ["198.51.100.1"]),
    svc("a", "cluster-ip", ["192.0.2.2"], { type: "ClusterIP" }),
    svc("a", "other-class", ["192.0.2.3"], { loadBalancerClass: "example.com/other" }),
  ];

  it("a deleted pool takes every address ours Services hold from it, sorted", () => {
    expect(addressesTakenAway(before, undefined, services)).toEqual([
      { service: "a/api", ip: "192.0.2.1", field: "spec.addresses" },
      { service: "b/web", ip: "192.0.2.9", field: "spec.addresses" },
      { service: "b/web", ip: "2001:db8:6a::10", field: "spec.addresses" },
    ]);
  });

  it("a shrunk pool takes only the addresses it no longer covers", () => {
    const after = pool("p", ["192.0.2.8/29", "2001:db8:6a::10/124"]);
    expect(addressesTakenAway(before, after, services)).toEqual([
      { service: "a/api", ip: "192.0.2.1", field: "spec.addresses" },
    ]);
  });

  it("a grown or reworded pool takes nothing", () => {
    const after = pool("p", ["192.0.2.0-192.0.2.31", "2001:db8:6a::/120"]);
    expect(addressesTakenAway(before, after, services)).toEqual([]);
  });

  it("turning avoidBuggyIPs on takes .0 and .255", () => {
    const holders = [svc("a", "zero", ["192.0.2.0"]), svc("a", "one", ["192.0.2.1"])];
    const after = pool("p", ["192.0.2.0/28"], { avoidBuggyIPs: true });
    expect(addressesTakenAway(before, after, holders)).toEqual([
      { service: "a/zero", ip: "192.0.2.0", field: "spec.avoidBuggyIPs" },
    ]);
  });

  it("counts only Services of the class this controller serves", () => {
    expect(addressesTakenAway(before, undefined, services, "example.com/other")).toEqual([
      { service: "a/other-class", ip: "192.0.2.3", field: "spec.addresses" },
    ]);
  });
});

describe("poolMayShrink", () => {
  const before = pool("p", ["192.0.2.0/28"]);

  it("is false when neither the addresses nor avoidBuggyIPs change", () => {
    expect(poolMayShrink(before, pool("p", ["192.0.2.0/28"], {}, { a: "b" }))).toBe(false);
    expect(poolMayShrink(before, pool("p", ["192.0.2.0/28"], { autoAssign: false }))).toBe(false);
  });

  it("is true for a delete, an address edit or avoidBuggyIPs turned on", () => {
    expect(poolMayShrink(before, undefined)).toBe(true);
    expect(poolMayShrink(before, pool("p", ["192.0.2.0/29"]))).toBe(true);
    expect(poolMayShrink(before, pool("p", ["192.0.2.0/28"], { avoidBuggyIPs: true }))).toBe(true);
  });
});

describe("poolsInUse", () => {
  const held = (name: string, pool: string | undefined, ips: string[]): HolderService => ({
    metadata: { name, namespace: "a", annotations: pool ? { [ALLOCATED_FROM_POOL_ANNOTATION]: pool } : undefined },
    status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } },
  });
  it("names each pool a Service still holds an address from, once", () => {
    const services = [
      held("x", "web", ["198.51.100.1"]),
      held("y", "web", ["198.51.100.2"]),
      held("z", "lan", []), // released: it holds nothing
      held("w", undefined, ["192.0.2.9"]), // not ours to count
      held("v", "dmz", ["203.0.113.4"]),
    ];
    expect(poolsInUse(services)).toEqual(["dmz", "web"]);
  });
});
