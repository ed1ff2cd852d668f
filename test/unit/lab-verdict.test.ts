import { judgeAddress, type AddressObservation } from "../../hack/lab-verdict";

const sets = (o: Record<string, string[]>): Map<string, Set<string>> =>
  new Map(Object.entries(o).map(([k, v]) => [k, new Set(v)]));
const obs = (o: Partial<AddressObservation>): AddressObservation => ({
  l2Owners: [],
  answeredBy: [],
  bgpExpected: new Map(),
  bgpRoutes: new Map(),
  ...o,
});

describe("lab reachability verdict", () => {
  it("L2: reachable when exactly the owner answers", () => {
    expect(judgeAddress(obs({ l2Owners: ["node-0"], answeredBy: ["node-0"] }))).toEqual({
      reachable: true,
      lines: ["L2: node-0 answers"],
    });
  });

  it.each([
    [{ l2Owners: ["node-0"], answeredBy: [] }, "NO: no ARP/NDP answer (owner node-0)"],
    [{ l2Owners: ["node-0"], answeredBy: ["node-1"] }, "NO: node-1 answers, owner is node-0"],
    [{ l2Owners: ["node-0"], answeredBy: ["node-0", "node-1"] }, "NO: several hosts answer (node-0,node-1)"],
    [{ l2Owners: ["node-0", "node-2"], answeredBy: ["node-0"] }, "NO: several L2 owners (node-0,node-2)"],
    [{ answeredBy: ["node-2"] }, "NO: answered by node-2 without an L2 owner"],
    [{}, "NO: neither an L2 owner nor a BGP announcement"],
  ])("L2 failure %#", (o, line) => {
    const v = judgeAddress(obs(o));
    expect(v.reachable).toBe(false);
    expect(v.lines).toContain(line);
  });

  it("BGP: reachable when each router's next hops are exactly the announcing nodes", () => {
    const v = judgeAddress(
      obs({
        bgpExpected: sets({ "router-a": ["node-0", "node-1", "node-2"], "router-b": ["node-1", "node-2"] }),
        bgpRoutes: sets({ "router-a": ["node-2", "node-0", "node-1"], "router-b": ["node-1", "node-2"] }),
      }),
    );
    expect(v).toEqual({ reachable: true, lines: ["BGP: router-a via 3 nodes", "BGP: router-b via 2 nodes"] });
  });

  it("BGP: a missing route, a missing next hop and a stray route are each unreachable", () => {
    expect(judgeAddress(obs({ bgpExpected: sets({ "router-a": ["node-0"] }) })).lines).toEqual([
      "NO: router-a has no route",
    ]);
    expect(
      judgeAddress(
        obs({ bgpExpected: sets({ "router-a": ["node-0", "node-1"] }), bgpRoutes: sets({ "router-a": ["node-0"] }) }),
      ).lines,
    ).toEqual(["NO: router-a via node-0, expected node-0,node-1"]);
    const stray = judgeAddress(
      obs({
        bgpExpected: sets({ "router-a": ["node-0"] }),
        bgpRoutes: sets({ "router-a": ["node-0"], "router-b": ["node-1"] }),
      }),
    );
    expect(stray.reachable).toBe(false);
    expect(stray.lines).toContain("NO: router-b has a route via node-1 nobody announces");
  });

  it("a router no node announces to (no Established session) is not required", () => {
    const v = judgeAddress(
      obs({
        bgpExpected: sets({ "router-a": ["node-0"], "router-b": [] }),
        bgpRoutes: sets({ "router-a": ["node-0"] }),
      }),
    );
    expect(v).toEqual({ reachable: true, lines: ["BGP: router-a via 1 node"] });
  });
});
