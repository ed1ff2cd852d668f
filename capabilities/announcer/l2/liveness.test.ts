import { judgeLiveness, Liveness } from "./liveness";

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

describe("down reports", () => {
  it("a node a live agent reports down is not live; a stale reporter's word does not count", () => {
    const l = new Liveness(30_000, 15_000);
    l.observe({ node: "a", renewTime: "t1", draining: false }, 50);
    l.observe({ node: "b", renewTime: "t1", draining: false, down: ["a", "b"] }, 100);
    expect(l.live(200)).toEqual(new Set(["b"])); // b never reports itself
    expect(l.downReportedAt("a")).toBe(100);
    l.observe({ node: "a", renewTime: "t2", draining: false }, 20_000);
    // b's last renewal is 30.1 s old at 30_200: its report lapses with it.
    expect(l.live(30_200)).toEqual(new Set(["a"]));
    expect(l.downReportedAt("a")).toBeUndefined();
  });
  it("a draining agent's report does not count", () => {
    const l = new Liveness(30_000);
    l.observe({ node: "a", renewTime: "t1", draining: false }, 10);
    l.observe({ node: "b", renewTime: "t1", draining: true, down: ["a"] }, 10);
    expect(l.live(11)).toEqual(new Set(["a"]));
  });
  it("collects heartbeat addresses", () => {
    const l = new Liveness(30_000);
    l.observe({ node: "a", renewTime: "t1", draining: false, heartbeatAddress: "192.0.2.1" }, 0);
    l.observe({ node: "b", renewTime: "t1", draining: false }, 0);
    expect(l.heartbeatAddresses()).toEqual(new Map([["a", "192.0.2.1"]]));
  });
});

describe("no mass unannouncement", () => {
  const DEAD = 30_000;
  const OVERDUE = 15_000;
  const RENEW = 10_000;
  const nodes = ["n1", "n2", "n3", "n4", "n5"];
  /** Agents renewing every RENEW at spread phases; `quiet(node, t)` = that renewal is not seen. */
  function run(
    until: number,
    quiet: (node: string, t: number) => boolean,
    onJudge: (t: number, live: Set<string>, holding: boolean) => void,
  ) {
    const l = new Liveness(DEAD, OVERDUE);
    const renewals = new Map(nodes.map((n) => [n, 0]));
    let live = new Set<string>();
    for (let t = 0; t <= until; t += 100) {
      nodes.forEach((n, i) => {
        const phase = 500 + i * 1900;
        if (t >= phase && (t - phase) % RENEW === 0 && !quiet(n, t)) {
          renewals.set(n, renewals.get(n)! + 1);
          l.observe({ node: n, renewTime: `r${renewals.get(n)}`, draining: false }, t);
        }
      });
      const v = l.judge(t, live);
      live = v.live;
      onJudge(t, live, v.holding);
    }
  }

  it("the Lease watch stalls for 40 s: nobody is declared dead, and expiry resumes after", () => {
    const stall = (_n: string, t: number) => t >= 60_000 && t < 100_000;
    let holdSeen = false;
    run(160_000, stall, (t, live, holding) => {
      if (t >= 10_000) expect({ t, live: [...live].sort() }).toEqual({ t, live: nodes });
      if (holding) holdSeen = true;
      if (t >= 111_000) expect({ t, holding }).toEqual({ t, holding: false });
    });
    expect(holdSeen).toBe(true);
  });

  it("one of five dies: it expires; three of five die at once: hold", () => {
    const deadAt = new Map<string, number>();
    run(
      100_000,
      (n, t) => n === "n2" && t >= 40_000,
      (t, live) => {
        if (!live.has("n2") && !deadAt.has("n2") && t > 10_000) deadAt.set("n2", t);
      },
    );
    // n2 last renewed at 32_400 (phase 2_400): gone 30 s after that.
    expect(deadAt.get("n2")).toBe(62_500);
    run(
      100_000,
      (n, t) => ["n1", "n2", "n3"].includes(n) && t >= 40_000,
      (t, live, holding) => {
        if (t >= 10_000) expect(live.size).toBe(5);
        if (t >= 80_000) expect(holding).toBe(true);
      },
    );
  });

  it("pure: expiry of a minority proceeds; a down report or a drain is never held", () => {
    const a = (seenAt: number, extra: Partial<{ draining: boolean; reportedDown: boolean }> = {}) => ({
      seenAt,
      draining: false,
      reportedDown: false,
      ...extra,
    });
    const prev = new Set(["a", "b", "c"]);
    const now = 100_000;
    expect(
      judgeLiveness(
        new Map([
          ["a", a(60_000)],
          ["b", a(95_000)],
          ["c", a(96_000)],
        ]),
        prev,
        now,
        DEAD,
        OVERDUE,
      ),
    ).toEqual({
      live: new Set(["b", "c"]),
      holding: false,
      held: [],
    });
    const quiet = new Map([
      ["a", a(60_000)],
      ["b", a(80_000)],
      ["c", a(96_000)],
    ]);
    expect(judgeLiveness(quiet, prev, now, DEAD, OVERDUE)).toEqual({
      live: new Set(["a", "b", "c"]),
      holding: true,
      held: ["a"],
    });
    const reported = new Map([
      ["a", a(60_000)],
      ["b", a(80_000, { reportedDown: true })],
      ["c", a(96_000, { draining: true })],
    ]);
    expect(judgeLiveness(reported, prev, now, DEAD, OVERDUE).live).toEqual(new Set(["a"]));
  });
});
