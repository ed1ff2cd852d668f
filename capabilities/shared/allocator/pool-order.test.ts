import { candidatePools, poolAdmits } from "./pool-order";
import { pool, svc } from "./test-helpers";

const names = (pools: { name: string }[]) => pools.map((p) => p.name);

describe("poolAdmits", () => {
  const web = svc("team-a/web", { labels: { app: "web" }, namespaceLabels: { team: "a" } });

  it("admits everyone without serviceAllocation or with a priority only", () => {
    expect(poolAdmits(pool("p", []), web)).toBe(true);
    expect(poolAdmits(pool("p", [], { serviceAllocation: { priority: 5 } }), web)).toBe(true);
  });

  it("checks namespaces given as a list or a set", () => {
    expect(poolAdmits(pool("p", [], { serviceAllocation: { namespaces: ["team-a"] } }), web)).toBe(true);
    expect(poolAdmits(pool("p", [], { serviceAllocation: { namespaces: new Set(["team-b"]) } }), web)).toBe(false);
  });

  it("admits a namespace by name or by its labels", () => {
    const bySelector = pool("p", [], { serviceAllocation: { namespaceSelectors: [{ matchLabels: { team: "a" } }] } });
    expect(poolAdmits(bySelector, web)).toBe(true);
    expect(poolAdmits(bySelector, svc("team-b/web", { namespaceLabels: { team: "b" } }))).toBe(false);
    const either = pool("p", [], {
      serviceAllocation: { namespaces: ["team-b"], namespaceSelectors: [{ matchLabels: { team: "a" } }] },
    });
    expect(poolAdmits(either, web)).toBe(true);
  });

  it("ORs service selectors and ANDs them with the namespace rule", () => {
    const sel = { serviceSelectors: [{ matchLabels: { app: "db" } }, { matchLabels: { app: "web" } }] };
    expect(poolAdmits(pool("p", [], { serviceAllocation: sel }), web)).toBe(true);
    expect(poolAdmits(pool("p", [], { serviceAllocation: { ...sel, namespaces: ["team-b"] } }), web)).toBe(false);
    expect(
      poolAdmits(pool("p", [], { serviceAllocation: { serviceSelectors: [{ matchLabels: { app: "db" } }] } }), web),
    ).toBe(false);
  });
});

describe("candidatePools", () => {
  it("orders pinned pools by priority (0/unset last, ties by name), then default pools by name", () => {
    const pools = [
      pool("zeta", []),
      pool("alpha", []),
      pool("p-unset", [], { serviceAllocation: { namespaces: ["default"] } }),
      pool("p-zero", [], { serviceAllocation: { priority: 0, namespaces: ["default"] } }),
      pool("p2-b", [], { serviceAllocation: { priority: 2 } }),
      pool("p2-a", [], { serviceAllocation: { priority: 2 } }),
      pool("p1", [], { serviceAllocation: { priority: 1 } }),
      pool("other-ns", [], { serviceAllocation: { priority: 1, namespaces: ["elsewhere"] } }),
      pool("manual", [], { autoAssign: false }),
      pool("manual-pinned", [], { autoAssign: false, serviceAllocation: { priority: 1 } }),
    ];
    expect(names(candidatePools(pools, svc("web")))).toEqual([
      "p1",
      "p2-a",
      "p2-b",
      "p-unset",
      "p-zero",
      "alpha",
      "zeta",
    ]);
  });
});
