import { cidr } from "./fixtures";
import {
  GRACEFUL_SHUTDOWN,
  drainRoutes,
  nodeDrain,
  remainingWait,
  shutdownAttributes,
  type NodeDrainState,
} from "./graceful-shutdown";

const WAIT = 15_000;
const peers = (entries: Record<string, string[]>): Map<string, Set<string>> =>
  new Map(Object.entries(entries).map(([k, v]) => [k, new Set(v)]));
const facts = (o: { cordoned?: boolean; excluded?: boolean; announced?: Map<string, Set<string>> } = {}) => ({
  cordoned: o.cordoned ?? false,
  excluded: o.excluded ?? false,
  announced: o.announced ?? peers({ rtr: ["192.0.2.10/32"] }),
});

describe("shutdownAttributes (RFC 8326)", () => {
  const ebgp = { asPath: [{ type: "sequence" as const, asns: [64513] }], communities: [64512 * 65536 + 100] };

  it("adds 65535:0 to the route's own communities on eBGP and sends no LOCAL_PREF (RFC 4271 §5.1.5)", () => {
    const a = shutdownAttributes(ebgp, false);
    expect(GRACEFUL_SHUTDOWN).toBe(65535 * 65536 + 0);
    expect(a.communities).toEqual([64512 * 65536 + 100, GRACEFUL_SHUTDOWN]);
    expect(a.localPref).toBeUndefined();
    expect(a.asPath).toEqual(ebgp.asPath);
  });

  it("sets LOCAL_PREF 0 on iBGP, whatever the advertisement's localPref was", () => {
    const a = shutdownAttributes({ asPath: [], localPref: 300 }, true);
    expect(a.localPref).toBe(0);
    expect(a.communities).toEqual([GRACEFUL_SHUTDOWN]);
  });

  it("does not add the community twice (a user may already send it)", () => {
    expect(shutdownAttributes({ asPath: [], communities: [GRACEFUL_SHUTDOWN] }, false).communities).toEqual([
      GRACEFUL_SHUTDOWN,
    ]);
  });
});

describe("nodeDrain", () => {
  it("a plain node tags nothing and remembers nothing", () => {
    const d = nodeDrain({}, facts(), 1000, WAIT);
    expect(d).toEqual({ state: {}, tag: false });
  });

  it("a cordoned node tags its routes for as long as it is cordoned, and holds nothing back", () => {
    let d = nodeDrain({}, facts({ cordoned: true }), 1000, WAIT);
    expect(d).toMatchObject({ tag: true, reason: "cordoned", state: { taggedSince: 1000 } });
    expect(d.hold).toBeUndefined();
    // Long after the wait: still tagged, since when unchanged.
    d = nodeDrain(d.state, facts({ cordoned: true }), 1000 + 10 * WAIT, WAIT);
    expect(d).toMatchObject({ tag: true, reason: "cordoned", state: { taggedSince: 1000 } });
    // Uncordoned: untagged, forgotten.
    d = nodeDrain(d.state, facts(), 1000 + 11 * WAIT, WAIT);
    expect(d).toEqual({ state: {}, tag: false });
  });

  it("an excluded node keeps what it announced when the label appeared, tagged, until the wait ends", () => {
    const before = peers({ rtr: ["192.0.2.10/32", "192.0.2.11/32"] });
    let d = nodeDrain({}, facts({ excluded: true, announced: before }), 1000, WAIT);
    expect(d).toMatchObject({ tag: true, reason: "excluded", recheckAt: 1000 + WAIT });
    expect(d.hold).toEqual(before);
    // Later looks (the plan now withdraws everything, so nothing is "announced") keep the first hold.
    d = nodeDrain(d.state, facts({ excluded: true, announced: peers({}) }), 1000 + WAIT - 1, WAIT);
    expect(d.hold).toEqual(before);
    expect(d.tag).toBe(true);
    // The wait is over: nothing held, nothing tagged; the plan's withdraw goes out.
    d = nodeDrain(d.state, facts({ excluded: true, announced: peers({}) }), 1000 + WAIT, WAIT);
    expect(d.tag).toBe(false);
    expect(d.hold).toBeUndefined();
    expect(d.recheckAt).toBeUndefined();
    // The label removed: a later exclusion starts a new wait.
    d = nodeDrain(d.state, facts(), 1000 + 2 * WAIT, WAIT);
    expect(d.state).toEqual({});
    d = nodeDrain(d.state, facts({ excluded: true }), 1000 + 3 * WAIT, WAIT);
    expect(d).toMatchObject({ tag: true, recheckAt: 1000 + 4 * WAIT });
  });

  it("an agent starting on an already excluded node holds nothing (it announced nothing)", () => {
    const d = nodeDrain({}, facts({ excluded: true, announced: peers({}) }), 1000, WAIT);
    expect(d.tag).toBe(false);
    expect(d.hold).toBeUndefined();
  });

  it("with a wait of 0 the exclusion withdraws at once, as before", () => {
    const d = nodeDrain({}, facts({ excluded: true }), 1000, 0);
    expect(d.tag).toBe(false);
    expect(d.hold).toBeUndefined();
  });

  it("cordoned and excluded: the routes stay tagged after the exclusion's wait, but are no longer held", () => {
    const s: NodeDrainState = {};
    let d = nodeDrain(s, facts({ cordoned: true, excluded: true }), 1000, WAIT);
    expect(d).toMatchObject({ tag: true, reason: "cordoned" });
    expect(d.hold).toBeDefined();
    d = nodeDrain(d.state, facts({ cordoned: true, excluded: true, announced: peers({}) }), 1000 + WAIT, WAIT);
    expect(d.tag).toBe(true);
    expect(d.hold).toBeUndefined();
    expect(d.state.taggedSince).toBe(1000);
  });
});

describe("remainingWait", () => {
  it("is the whole wait for routes tagged just now", () => {
    expect(remainingWait(WAIT, 5000, true)).toBe(WAIT);
  });

  it("counts the time the routes were already tagged (a cordon before the stop)", () => {
    expect(remainingWait(WAIT, 5000, true, 5000 - 4000)).toBe(WAIT - 4000);
    expect(remainingWait(WAIT, 5000 + WAIT, true, 5000)).toBe(0);
  });

  it("is 0 when no session advertises anything, or when draining is off", () => {
    expect(remainingWait(WAIT, 5000, false)).toBe(0);
    expect(remainingWait(0, 5000, true)).toBe(0);
  });
});

describe("drainRoutes", () => {
  const routes = [{ prefix: cidr("192.0.2.10/32"), communities: [1] }, { prefix: cidr("192.0.2.20/32") }];

  it("marks every route when tagging, keeping its own attributes", () => {
    expect(drainRoutes(routes, true)).toEqual([
      { prefix: cidr("192.0.2.10/32"), communities: [1], gracefulShutdown: true },
      { prefix: cidr("192.0.2.20/32"), gracefulShutdown: true },
    ]);
  });

  it("passes routes through untouched when not tagging", () => {
    expect(drainRoutes(routes, false)).toEqual(routes);
  });

  it("while an excluded node waits, keeps only the prefixes it announced before the label", () => {
    expect(drainRoutes(routes, true, new Set(["192.0.2.20/32"]))).toEqual([
      { prefix: cidr("192.0.2.20/32"), gracefulShutdown: true },
    ]);
    expect(drainRoutes(routes, true, new Set())).toEqual([]);
  });
});
