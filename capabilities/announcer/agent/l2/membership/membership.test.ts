import { decodeHeartbeat, encodeHeartbeat, type Heartbeat } from "./heartbeat";
import { Membership, timingProblem, type MembershipTiming } from "./membership";
import { makeRoster, type Roster } from "./roster";
import { roleFor } from "./answering";

const T: MembershipTiming = { fenceMs: 150, downMs: 460, settleMs: 160 };

/** A few agents on one simulated clock; `deliver` passes heartbeats between them. */
function cluster(names: string[], tiebreaker = names.length % 2 === 0) {
  let now = 1000;
  const clock = (): number => now;
  const roster: Roster = makeRoster(names, tiebreaker, new Map());
  const m = new Map(names.map((n, i) => [n, new Membership(n, T, clock, 1_000_000 * (i + 1))]));
  m.forEach((x) => x.setRoster(roster));
  return {
    m,
    advance: (ms: number) => (now += ms),
    get now() {
      return now;
    },
    /** One round: every sender in `from` sends, every receiver in `to` that `link` allows gets it. */
    round(link: (from: string, to: string) => boolean = () => true, senders = names): void {
      const sent: Heartbeat[] = senders.map((n) => m.get(n)!.heartbeat(0));
      for (const hb of sent)
        for (const to of names) if (to !== hb.sender && link(hb.sender, to)) m.get(to)!.receive(hb);
    },
  };
}

describe("membership: quorum", () => {
  it("refuses timings that break the safety inequalities", () => {
    expect(timingProblem({ fenceMs: 150, downMs: 449, settleMs: 170 })).toMatch(/three times the fence window/);
    expect(timingProblem({ fenceMs: 150, downMs: 450, settleMs: 149 })).toMatch(/settle time/);
    expect(timingProblem(T)).toBeUndefined();
  });

  it("three agents that hear each other reach quorum, and serve only after the settle time", () => {
    const c = cluster(["a", "b", "c"]);
    c.round();
    c.round(); // the second round carries the echoes of the first
    const v = c.m.get("a")!.evaluate();
    expect(v.inQuorum).toBe(true);
    expect(v.votes).toBe(3);
    expect(v.serving).toBe(false);
    for (let t = 0; t < 4; t++) {
      c.advance(50);
      c.round();
    }
    expect(c.m.get("a")!.evaluate().serving).toBe(true);
  });

  it("an agent nobody hears loses quorum within the fence window, though it hears everyone", () => {
    const c = cluster(["a", "b", "c"]);
    for (let t = 0; t < 6; t++) (c.advance(50), c.round());
    expect(c.m.get("a")!.evaluate().serving).toBe(true);
    // a's packets are lost; it still hears b and c (and their stale echoes of it).
    const deaf = (from: string) => from !== "a";
    c.advance(50);
    c.round(deaf);
    expect(c.m.get("a")!.evaluate().inQuorum).toBe(true);
    c.advance(150);
    c.round(deaf);
    expect(c.m.get("a")!.evaluate().inQuorum).toBe(false);
  });

  it("a paused agent does not take buffered echoes for fresh ones", () => {
    const c = cluster(["a", "b", "c"]);
    for (let t = 0; t < 6; t++) (c.advance(50), c.round());
    // b and c keep sending while a is stopped; a sends nothing.
    const buffered: Heartbeat[] = [];
    for (let t = 0; t < 20; t++) {
      c.advance(50);
      for (const n of ["b", "c"]) buffered.push(c.m.get(n)!.heartbeat(0));
    }
    for (const hb of buffered) c.m.get("a")!.receive(hb);
    // Everything they echo is a's last heartbeat, sent a second ago.
    expect(c.m.get("a")!.evaluate().inQuorum).toBe(false);
  });

  it("a lone agent of a two-node cluster keeps quorum with the tie-breaker, the other does not", () => {
    const c = cluster(["a", "b"]);
    c.m.get("a")!.setTiebreaker({ since: c.now, until: c.now + 20_000 });
    for (let t = 0; t < 6; t++) (c.advance(50), c.round());
    expect(c.m.get("a")!.evaluate().votes).toBe(3);
    expect(c.m.get("b")!.evaluate().votes).toBe(3); // b sees a's tie-breaker flag
    for (let t = 0; t < 10; t++) (c.advance(50), c.round(() => false));
    expect(c.m.get("a")!.evaluate().serving).toBe(true);
    expect(c.m.get("b")!.evaluate().inQuorum).toBe(false);
  });
});

describe("membership: down verdicts and takeover", () => {
  it("a killed owner is down for the others after D, and the first standby takes over", () => {
    const c = cluster(["a", "b", "c"]);
    for (let t = 0; t < 6; t++) (c.advance(50), c.round());
    const record = { owner: "a", standbys: ["b", "c"] };
    expect(roleFor("a", record, c.m.get("a")!.evaluate())).toBe("owner");
    expect(roleFor("b", record, c.m.get("b")!.evaluate())).toBe("none");
    let tookOverAfter = 0;
    for (let t = 1; t <= 20 && !tookOverAfter; t++) {
      c.advance(50);
      c.round(() => true, ["b", "c"]);
      if (roleFor("b", record, c.m.get("b")!.evaluate()) === "takeover") tookOverAfter = t * 50;
    }
    // Silence runs from the last exchange, which began at most one fence window before the kill.
    expect(tookOverAfter).toBeGreaterThanOrEqual(T.downMs - T.fenceMs);
    expect(roleFor("c", record, c.m.get("c")!.evaluate())).toBe("none");
  });

  it("names a voter a suspect exactly when our own silence about it reaches D, so the agent can say so at once", () => {
    const c = cluster(["a", "b", "c"]);
    for (let t = 0; t < 6; t++) (c.advance(50), c.round());
    expect(c.m.get("b")!.suspects()).toEqual(new Set());
    // a dies; b's silence about it runs from the send time of b's heartbeat a last echoed.
    let crossedAfter = 0;
    for (let t = 1; t <= 40 && !crossedAfter; t++) {
      c.advance(25);
      if (t % 2 === 0) c.round(() => true, ["b", "c"]);
      if (c.m.get("b")!.suspects().has("a")) crossedAfter = t * 25;
    }
    expect(crossedAfter).toBeGreaterThan(T.downMs - 100);
    expect(crossedAfter).toBeLessThanOrEqual(T.downMs);
    expect(c.m.get("b")!.suspects()).toEqual(new Set(["a"]));
    // The suspect's statement travels in b's next heartbeat: with it, c judges a down at once.
    c.round(() => true, ["b"]);
    expect(c.m.get("c")!.evaluate().down).toEqual(new Set(["a"]));
  });

  it("a node cut off in both directions stops answering before anyone takes over", () => {
    const c = cluster(["a", "b", "c"]);
    for (let t = 0; t < 6; t++) (c.advance(50), c.round());
    const record = { owner: "a", standbys: ["b", "c"] };
    const cut = (from: string, to: string) => from !== "a" && to !== "a";
    let aStopped = -1;
    let bStarted = -1;
    for (let t = 1; t <= 20; t++) {
      c.advance(50);
      c.round(cut);
      if (aStopped < 0 && roleFor("a", record, c.m.get("a")!.evaluate()) === "none") aStopped = t;
      if (bStarted < 0 && roleFor("b", record, c.m.get("b")!.evaluate()) === "takeover") bStarted = t;
    }
    expect(aStopped).toBeGreaterThan(0);
    expect(bStarted).toBeGreaterThan(aStopped);
  });

  it("an owner that others hear but that hears nobody falls silent, and a standby takes over", () => {
    const c = cluster(["a", "b", "c"]);
    for (let t = 0; t < 6; t++) (c.advance(50), c.round());
    const record = { owner: "a", standbys: ["b", "c"] };
    const deafA = (_from: string, to: string) => to !== "a";
    for (let t = 0; t < 14; t++) (c.advance(50), c.round(deafA));
    expect(roleFor("a", record, c.m.get("a")!.evaluate())).toBe("none");
    expect(roleFor("b", record, c.m.get("b")!.evaluate())).toBe("takeover");
  });

  it("a returning owner answers again only after the standby has let go", () => {
    const c = cluster(["a", "b", "c"]);
    for (let t = 0; t < 6; t++) (c.advance(50), c.round());
    const record = { owner: "a", standbys: ["b", "c"] };
    const cut = (from: string, to: string) => from !== "a" && to !== "a";
    for (let t = 0; t < 12; t++) (c.advance(50), c.round(cut));
    expect(roleFor("b", record, c.m.get("b")!.evaluate())).toBe("takeover");
    for (let t = 0; t < 12; t++) {
      c.advance(50);
      c.round();
      const answering = ["a", "b", "c"].filter((n) => roleFor(n, record, c.m.get(n)!.evaluate()) !== "none");
      expect(answering.length).toBeLessThanOrEqual(1);
    }
    expect(roleFor("a", record, c.m.get("a")!.evaluate())).toBe("owner");
  });

  it("heartbeats survive the wire format", () => {
    const c = cluster(["a", "b", "c"]);
    const key = Buffer.alloc(32, 1);
    const hb = c.m.get("a")!.heartbeat(0);
    const back = decodeHeartbeat(encodeHeartbeat(hb, key), key);
    expect(typeof back).toBe("object");
    expect(c.m.get("b")!.receive(back as Heartbeat)).toBe("accepted");
    expect(c.m.get("b")!.receive(back as Heartbeat)).toBe("replay");
  });

  it("a heartbeat from another roster gives no vote", () => {
    const c = cluster(["a", "b", "c"]);
    c.m.get("b")!.setRoster(makeRoster(["a", "b", "c", "d"], true, new Map()));
    for (let t = 0; t < 6; t++) (c.advance(50), c.round());
    expect(c.m.get("a")!.evaluate().supporters).toEqual(new Set(["c"]));
  });
});
