import { COMBINED_PREFIX, EventAggregator, type EventInput, type EventRecord } from "./event-aggregator";

const MIN = 60_000;

function setup(opts: ConstructorParameters<typeof EventAggregator>[0] = {}) {
  const clock = { t: 1_000_000 };
  let n = 0;
  const agg = new EventAggregator(
    opts,
    () => clock.t,
    () => `s${++n}`,
  );
  return { agg, clock };
}

const ev = (over: Partial<EventInput> & { name?: string; uid?: string } = {}): EventInput => ({
  object: {
    apiVersion: "v1",
    kind: "Service",
    name: over.name ?? "web",
    namespace: "default",
    uid: over.uid ?? "uid-web",
  },
  type: over.type ?? "Warning",
  reason: over.reason ?? "AllocationFailed",
  message: over.message ?? "no available IPs",
  component: over.component ?? "metallb-controller",
});

/** Writes a record and reports success, as the recorder does; returns any follow-up write. */
function writeOk(agg: EventAggregator, r: EventRecord) {
  const w = agg.begin(r);
  return { w, again: agg.finish(r, "ok") };
}

describe("EventAggregator: one Event per (object, type, reason, component, message)", () => {
  it("50 repeats while the first write is in flight cost one create and one patch carrying count 50", () => {
    const { agg, clock } = setup();
    const first = agg.observe(ev())!;
    const create = agg.begin(first);
    expect(create).toMatchObject({ kind: "create", name: "web.s1", namespace: "default" });
    expect(create.body).toMatchObject({
      count: 1,
      reason: "AllocationFailed",
      message: "no available IPs",
      type: "Warning",
    });
    for (let i = 0; i < 49; i++) {
      clock.t += 100;
      expect(agg.observe(ev())).toBeUndefined(); // the pending write will carry it
    }
    const again = agg.finish(first, "ok");
    expect(again).toBe(first);
    const patch = agg.begin(again!);
    expect(patch).toEqual({
      kind: "patch",
      namespace: "default",
      name: "web.s1",
      body: { count: 50, lastTimestamp: new Date(clock.t).toISOString(), message: "no available IPs" },
    });
    expect(agg.finish(first, "ok")).toBeUndefined();
    expect(agg.size).toBe(1);
  });

  it("a repeat within the window patches the same Event; after a silence of the window, a new Event", () => {
    const { agg, clock } = setup();
    writeOk(agg, agg.observe(ev())!);
    clock.t += 9 * MIN;
    const { w } = writeOk(agg, agg.observe(ev())!);
    expect(w).toMatchObject({ kind: "patch", name: "web.s1", body: { count: 2 } });
    clock.t += 10 * MIN;
    const fresh = agg.begin(agg.observe(ev())!);
    expect(fresh).toMatchObject({ kind: "create", name: "web.s2", body: { count: 1 } });
  });

  it("keeps Events apart by object uid, type, reason, component and message", () => {
    const { agg } = setup();
    const keys = [
      ev(),
      ev({ uid: "uid-web-recreated" }),
      ev({ type: "Normal" }),
      ev({ reason: "IPAllocated" }),
      ev({ component: "metallb-speaker" }),
      ev({ message: "other" }),
    ];
    for (const k of keys) expect(agg.observe(k)).toBeDefined();
    expect(agg.size).toBe(keys.length);
  });

  it("the first timestamp stays, the last one moves", () => {
    const { agg, clock } = setup();
    const r = agg.observe(ev())!;
    const t0 = clock.t;
    writeOk(agg, r);
    clock.t += 5000;
    const { w } = writeOk(agg, agg.observe(ev())!);
    expect(w.body.lastTimestamp).toBe(new Date(t0 + 5000).toISOString());
    expect(r.firstMs).toBe(t0);
  });
});

describe("EventAggregator: many messages for one (object, reason) combine", () => {
  it("after 10 distinct messages, one combined Event with the newest message", () => {
    const { agg, clock } = setup();
    for (let i = 0; i < 10; i++) {
      const { w } = writeOk(agg, agg.observe(ev({ message: `m${i}` }))!);
      expect(w).toMatchObject({ kind: "create", body: { message: `m${i}` } });
    }
    const combined = agg.observe(ev({ message: "m10" }))!;
    expect(writeOk(agg, combined).w).toMatchObject({
      kind: "create",
      body: { message: `${COMBINED_PREFIX}m10`, count: 1 },
    });
    // Any further message of the group, an earlier one included, lands there too.
    clock.t += 1000;
    const { w } = writeOk(agg, agg.observe(ev({ message: "m11" }))!);
    expect(w).toMatchObject({
      kind: "patch",
      name: combined.name,
      body: { message: `${COMBINED_PREFIX}m11`, count: 2 },
    });
    const { w: w2 } = writeOk(agg, agg.observe(ev({ message: "m0" }))!);
    expect(w2).toMatchObject({
      kind: "patch",
      name: combined.name,
      body: { message: `${COMBINED_PREFIX}m0`, count: 3 },
    });
    expect(agg.size).toBe(11);
  });

  it("other reasons are not combined with them, and a pause of the window starts over", () => {
    const { agg, clock } = setup();
    for (let i = 0; i < 11; i++) writeOk(agg, agg.observe(ev({ message: `m${i}` }))!);
    expect(agg.begin(agg.observe(ev({ reason: "IPAllocated", message: "x" }))!).body.message).toBe("x");
    clock.t += 10 * MIN;
    expect(agg.begin(agg.observe(ev({ message: "m20" }))!).body.message).toBe("m20");
  });
});

describe("EventAggregator: a token bucket per object", () => {
  it("drops new Events beyond the burst of 25, per object, and lets one more through per 5 minutes", () => {
    const { agg, clock } = setup();
    const allowed = Array.from({ length: 30 }, (_, i) => agg.observe(ev({ reason: `R${i}` }))).filter(Boolean);
    expect(allowed).toHaveLength(25);
    expect(agg.rateLimited).toBe(5);
    expect(agg.observe(ev({ uid: "another", reason: "R0" }))).toBeDefined(); // another object's bucket
    clock.t += 5 * MIN - 1000;
    expect(agg.observe(ev({ reason: "late" }))).toBeUndefined();
    clock.t += 1000;
    expect(agg.observe(ev({ reason: "late" }))).toBeDefined();
  });

  it("a rate-limited repeat is not lost: its patch waits for the next token and carries the whole count", () => {
    const { agg, clock } = setup({ burst: 2, refillMs: 1000 });
    const r = agg.observe(ev())!;
    writeOk(agg, r); // token 1
    writeOk(agg, agg.observe(ev())!); // token 2: count 2 written
    clock.t += 100;
    expect(agg.observe(ev())).toBeUndefined(); // count 3: no token
    expect(agg.observe(ev())).toBeUndefined(); // count 4
    const due = agg.nextDueMs()!;
    expect(due).toBeGreaterThan(clock.t);
    expect(due - clock.t).toBeLessThanOrEqual(1000);
    expect(agg.takeDue()).toEqual([]);
    clock.t = due;
    expect(agg.takeDue()).toEqual([r]);
    expect(agg.begin(r)).toMatchObject({ kind: "patch", body: { count: 4 } });
    expect(agg.nextDueMs()).toBeUndefined();
  });
});

describe("EventAggregator: write outcomes", () => {
  it("a PATCH answered 404 creates the Event again, under a new name, with the count so far", () => {
    const { agg } = setup();
    const r = agg.observe(ev())!;
    writeOk(agg, r);
    agg.begin(agg.observe(ev())!);
    const again = agg.finish(r, "missing");
    expect(again).toBe(r);
    expect(agg.begin(r)).toMatchObject({
      kind: "create",
      name: "web.s2",
      body: { count: 2, metadata: { name: "web.s2" } },
    });
  });

  it("a failed write is not retried by itself; the next repeat writes the whole count", () => {
    const { agg } = setup();
    const r = agg.observe(ev())!;
    agg.begin(r);
    expect(agg.finish(r, "failed")).toBeUndefined();
    expect(agg.begin(agg.observe(ev())!)).toMatchObject({ kind: "create", name: "web.s1", body: { count: 2 } });
  });

  it("a write dropped from a full queue is written by the next repeat", () => {
    const { agg } = setup();
    const r = agg.observe(ev())!;
    agg.unqueued(r);
    expect(agg.observe(ev())).toBe(r);
    expect(agg.begin(r)).toMatchObject({ kind: "create", body: { count: 2 } });
  });
});

describe("EventAggregator: bounded memory", () => {
  it("remembers at most maxKeys Events, forgetting the least recently used", () => {
    const { agg } = setup({ maxKeys: 100 });
    for (let i = 0; i < 1000; i++) {
      const r = agg.observe(ev({ uid: `u${i}`, name: `s${i}` }));
      if (r) writeOk(agg, r);
    }
    expect(agg.size).toBe(100);
  });

  it("a forgotten Event no longer waits for a token", () => {
    const { agg } = setup({ maxKeys: 2, burst: 1, refillMs: 1000 });
    const r = agg.observe(ev())!;
    writeOk(agg, r);
    expect(agg.observe(ev())).toBeUndefined(); // deferred
    expect(agg.nextDueMs()).toBeDefined();
    agg.observe(ev({ uid: "a" }));
    agg.observe(ev({ uid: "b" })); // evicts the first
    expect(agg.nextDueMs()).toBeUndefined();
  });
});
