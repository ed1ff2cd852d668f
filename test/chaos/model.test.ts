import { addressesOf, canonical, formatAddr, parseAddr, parseBlock } from "./ip";
import { applyEdit, entitled, initialConfig, validPools, viewOf } from "./model";
import { POOLS } from "./scenario";

describe("chaos address math", () => {
  it.each([
    ["192.0.2.1", "192.0.2.1"],
    ["2001:db8::0", "2001:db8::"],
    ["2001:0db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["::1", "::1"],
    ["2001:db8:a:b:c:d:e:f", "2001:db8:a:b:c:d:e:f"],
  ])("%s reads back as %s", (text, want) => expect(formatAddr(parseAddr(text)!)).toBe(want));

  it("refuses what is not an address", () => {
    for (const bad of ["192.0.2", "192.0.2.256", "2001:db8::1::2", "1:2:3:4:5:6:7:8:9", "x"])
      expect(parseAddr(bad)).toBeUndefined();
  });

  it("reads ranges and CIDRs", () => {
    expect([...addressesOf(parseBlock("198.51.100.0-198.51.100.2")!)].map(formatAddr)).toEqual([
      "198.51.100.0",
      "198.51.100.1",
      "198.51.100.2",
    ]);
    const b = parseBlock("2001:db8:d::/126")!;
    expect([formatAddr({ family: 6, value: b.first }), formatAddr({ family: 6, value: b.last })]).toEqual([
      "2001:db8:d::",
      "2001:db8:d::3",
    ]);
    expect(canonical("2001:DB8::0001")).toBe("2001:db8::1");
  });
});

describe("chaos configuration model", () => {
  const base = initialConfig(POOLS, "blue");

  it("takes the newer of two overlapping pools as the bad one", () => {
    const both = applyEdit(base, { kind: "overlap", present: true }, 10);
    expect(
      validPools(both)
        .map((p) => p.name)
        .sort(),
    ).toEqual(["pool-a", "pool-b", "pool-ns"]);
    const without = applyEdit(both, { kind: "overlap", present: false }, 11);
    expect(
      validPools(without)
        .map((p) => p.name)
        .sort(),
    ).toEqual(["pool-a", "pool-b", "pool-ns"]);
  });

  it("resizes, deletes, recreates and re-selects", () => {
    const shrunk = applyEdit(base, { kind: "resize-pool", pool: "pool-a", size: 4 }, 10);
    const pa = shrunk.pools.find((p) => p.name === "pool-a")!;
    expect(pa.blocks.map((b) => Number(b.last - b.first + 1n))).toEqual([4, 4]);
    expect(pa.createdSeq).toBe(base.pools.find((p) => p.name === "pool-a")!.createdSeq);
    const gone = applyEdit(shrunk, { kind: "delete-pool", pool: "pool-b" }, 11);
    expect(gone.pools.map((p) => p.name)).not.toContain("pool-b");
    const back = applyEdit(gone, { kind: "create-pool", pool: "pool-b", size: 2 }, 12);
    expect(back.pools.find((p) => p.name === "pool-b")!.createdSeq).toBe(12);
    const green = applyEdit(back, { kind: "select-team", team: "green" }, 13);
    expect(green.pools.find((p) => p.name === "pool-ns")!.team).toBe("green");
    expect(green.pools.find((p) => p.name === "pool-a")!.team).toBeUndefined();
  });

  it("reads a Service as the checker needs it", () => {
    const v = viewOf({
      metadata: {
        name: "s1",
        namespace: "chaos-blue",
        annotations: {
          "metallb.io/loadBalancerIPs": "2001:db8:a::0",
          "metallb.io/allow-shared-ip": "k",
          "metallb.io/ip-allocated-from-pool": "pool-a",
        },
      },
      spec: {
        ipFamilyPolicy: "SingleStack",
        ipFamilies: ["IPv6"],
        ports: [{ port: 80 }],
        externalTrafficPolicy: "Cluster",
      },
      status: { loadBalancer: { ingress: [{ ip: "2001:db8:a:0::0" }] } },
    });
    expect(v).toMatchObject({
      key: "chaos-blue/s1",
      families: [6],
      shareKey: "k",
      ips: ["2001:db8:a::"],
      ports: ["TCP/80"],
      foreign: false,
    });
    expect(entitled(base, v, "2001:db8:a::")).toBe(true);
    expect(entitled(base, v, "2001:db8:a::1")).toBe(false); // not the requested one
  });

  it("entitles an address only while a valid pool that admits the Service holds it", () => {
    const blue = viewOf({ metadata: { name: "s", namespace: "chaos-blue" }, spec: { ipFamilies: ["IPv4"] } });
    expect(entitled(base, blue, "192.0.2.1")).toBe(true);
    expect(entitled(applyEdit(base, { kind: "select-team", team: "green" }, 9), blue, "192.0.2.1")).toBe(false);
    expect(entitled(applyEdit(base, { kind: "resize-pool", pool: "pool-ns", size: 2 }, 9), blue, "192.0.2.3")).toBe(
      false,
    );
    expect(entitled(base, blue, "2001:db8:c::1")).toBe(false); // not its family
  });
});
