import { Liveness } from "./liveness";

describe("Liveness", () => {
  it("a node is live until deadAfter passes without a new renewal", () => {
    const l = new Liveness(1500);
    l.observe({ node: "a", renewTime: "t1", draining: false }, 1000);
    expect(l.isLive("a", 2400)).toBe(true);
    l.observe({ node: "a", renewTime: "t1", draining: false }, 2400); // same renewTime: no sign of life
    expect(l.isLive("a", 2600)).toBe(false);
    l.observe({ node: "a", renewTime: "t2", draining: false }, 2600);
    expect(l.live(3000)).toEqual(new Set(["a"]));
  });
  it("draining is not live; unknown nodes are not live", () => {
    const l = new Liveness(1500);
    l.observe({ node: "a", renewTime: "t1", draining: true }, 0);
    expect(l.isLive("a", 1)).toBe(false);
    expect(l.isLive("b", 1)).toBe(false);
  });
  it("at start-up, an old renewTime is not life", () => {
    const l = new Liveness(1500);
    const now = Date.parse("2026-01-01T00:00:10.000000Z");
    l.observe({ node: "old", renewTime: "2026-01-01T00:00:00.000000Z", draining: false }, now, true);
    l.observe({ node: "new", renewTime: "2026-01-01T00:00:09.500000Z", draining: false }, now, true);
    expect(l.live(now)).toEqual(new Set(["new"]));
  });
});
