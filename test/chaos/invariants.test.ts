import { type Held, type RoundObservation, type SeenEvent, checkRound, settledProblems } from "./invariants";
import { type ConfigModel, type ServiceView, applyEdit, initialConfig } from "./model";
import { POOLS } from "./scenario";
import { canonical } from "./ip";

const base: ConfigModel = initialConfig(POOLS, "blue"); // pool-a 8, pool-b 4, pool-ns 4 (team blue)

function svc(name: string, ips: string[], extra: Partial<ServiceView> = {}): ServiceView {
  return {
    key: `chaos-plain/${name}`,
    namespace: "chaos-plain",
    policy: "SingleStack",
    families: [4],
    shareKey: "",
    backendKey: "",
    ports: ["TCP/80"],
    foreign: false,
    ips: ips.map(canonical), // as viewOf reads them
    allocatedFrom: ips.length ? "pool-a" : undefined,
    ...extra,
  };
}

function observe(final: ServiceView[], more: Partial<RoundObservation> = {}): RoundObservation {
  return {
    final,
    start: new Map(final.map((s) => [s.key, { ips: s.ips, pool: s.allocatedFrom }])),
    timeline: new Map(),
    configs: [base],
    earlierConfigs: [],
    requestChanged: new Set(),
    events: new Map(),
    ...more,
  };
}

const invariants = (o: RoundObservation) => checkRound(o).map((v) => v.invariant);
const held = (ips: string[], pool = "pool-a"): Held => ({ ips, pool });
const ev = (reason: string): SeenEvent => ({ reason, type: "Normal", message: "" });

describe("invariant 1: no address on two Services", () => {
  it("passes distinct addresses", () => {
    expect(invariants(observe([svc("a", ["198.51.100.0"]), svc("b", ["198.51.100.1"])]))).toEqual([]);
  });

  it("catches one address on two Services without a sharing key", () => {
    const v = checkRound(observe([svc("a", ["198.51.100.0"]), svc("b", ["198.51.100.0"])]));
    expect(v.map((x) => [x.invariant, x.services])).toEqual([[1, ["chaos-plain/a", "chaos-plain/b"]]]);
  });

  it("allows Services sharing one key with different ports", () => {
    const a = svc("a", ["198.51.100.0"], { shareKey: "k", ports: ["TCP/80"] });
    const b = svc("b", ["198.51.100.0"], { shareKey: "k", ports: ["TCP/443"] });
    expect(invariants(observe([a, b]))).toEqual([]);
  });

  it("catches sharers whose ports clash, or whose keys differ", () => {
    const a = svc("a", ["198.51.100.0"], { shareKey: "k", ports: ["TCP/80"] });
    expect(invariants(observe([a, svc("b", ["198.51.100.0"], { shareKey: "k", ports: ["TCP/80"] })]))).toEqual([1]);
    expect(invariants(observe([a, svc("c", ["198.51.100.0"], { shareKey: "other", ports: ["TCP/443"] })]))).toEqual([
      1,
    ]);
  });

  it("compares addresses however they are written", () => {
    const a = svc("a", ["2001:db8:a::1"], { families: [6] });
    const b = svc("b", ["2001:db8:a::1"], { families: [6] });
    expect(invariants(observe([a, b]))).toEqual([1]);
  });
});

describe("invariant 2: inside the named, existing, valid pool, and what the Service asked for", () => {
  it("catches an address outside its pool (pool shrunk past it)", () => {
    const shrunk = applyEdit(base, { kind: "resize-pool", pool: "pool-a", size: 4 }, 10);
    const s = svc("a", ["198.51.100.6"]);
    const v = checkRound(observe([s], { configs: [base, shrunk] }));
    expect(v.find((x) => x.invariant === 2)?.message).toMatch(/outside pool pool-a/);
  });

  it("catches a pool that no longer exists", () => {
    const gone = applyEdit(base, { kind: "delete-pool", pool: "pool-b" }, 10);
    const s = svc("a", ["203.0.113.1"], { allocatedFrom: "pool-b" });
    expect(checkRound(observe([s], { configs: [gone] })).find((x) => x.invariant === 2)?.message).toMatch(
      /does not exist/,
    );
  });

  it("catches an address from the overlapping (newer, so invalid) pool", () => {
    const both = applyEdit(base, { kind: "overlap", present: true }, 10);
    const s = svc("a", ["198.51.100.2"], { allocatedFrom: "pool-0-overlap" });
    expect(checkRound(observe([s], { configs: [both] })).find((x) => x.invariant === 2)?.message).toMatch(/invalid/);
    // ...while the older pool-a keeps serving the same addresses.
    expect(invariants(observe([svc("b", ["198.51.100.2"])], { configs: [both] }))).toEqual([]);
  });

  it("catches a wrong family, a missing family, an unrequested address and the wrong pool", () => {
    const cases: Array<[ServiceView, RegExp]> = [
      [svc("v6", ["198.51.100.1"], { families: [6] }), /is IPv4/],
      [
        svc("dual", ["198.51.100.1"], { policy: "RequireDualStack", families: [4, 6] }),
        /RequireDualStack with one family/,
      ],
      [svc("req", ["198.51.100.1"], { requested: [{ family: 4, value: 0xc6336402n }] }), /not the requested/],
      [svc("pool", ["198.51.100.1"], { pool: "pool-b" }), /asked for pool pool-b/],
      [svc("noannotation", ["198.51.100.1"], { allocatedFrom: undefined }), /no metallb.io\/ip-allocated-from-pool/],
    ];
    for (const [s, message] of cases)
      expect(checkRound(observe([s])).find((x) => x.invariant === 2)?.message).toMatch(message);
  });
});

describe("invariants 3 and 4: nothing moves or vanishes without the user's reason and an Event", () => {
  it("catches an address replaced while the configuration still allowed it", () => {
    const now = svc("a", ["198.51.100.5"]);
    const v = checkRound(observe([now], { start: new Map([[now.key, held(["198.51.100.1"])]]) }));
    expect(v.map((x) => x.invariant)).toEqual([3]);
    expect(v[0].message).toMatch(/198.51.100.1 was replaced by 198.51.100.5/);
  });

  it("catches an address dropped for no reason (and, with room in the pool, an unserved Service)", () => {
    const now = svc("a", []);
    expect(invariants(observe([now], { start: new Map([[now.key, held(["198.51.100.1"])]]) }))).toEqual([4, 5]);
  });

  it("catches an address that vanished for a while and came back (a restart that cleared it)", () => {
    const now = svc("a", ["198.51.100.1"]);
    const timeline = new Map([[now.key, [held([], undefined), held(["198.51.100.1"])]]]);
    expect(invariants(observe([now], { timeline }))).toEqual([4]);
  });

  it("accepts a move the user's shrink required, with a ClearAssignment Event", () => {
    const shrunk = applyEdit(base, { kind: "resize-pool", pool: "pool-a", size: 4 }, 10);
    const now = svc("a", ["198.51.100.0"]);
    const o = observe([now], {
      start: new Map([[now.key, held(["198.51.100.6"])]]),
      configs: [base, shrunk],
      events: new Map([[now.key, [ev("ClearAssignment"), ev("IPAllocated")]]]),
    });
    expect(invariants(o)).toEqual([]);
    // The same move with no Event that says why:
    expect(
      checkRound({ ...o, events: new Map([[now.key, [ev("IPAllocated")]]]) }).map((x) => [
        x.invariant,
        /no Event/.test(x.message),
      ]),
    ).toEqual([[3, true]]);
  });

  it("accepts a loss when the pool was deleted and recreated within the round", () => {
    const gone = applyEdit(base, { kind: "delete-pool", pool: "pool-a" }, 10);
    const back = applyEdit(gone, { kind: "create-pool", pool: "pool-a", size: 8 }, 11);
    const now = svc("a", ["198.51.100.3"]);
    const o = observe([now], {
      start: new Map([[now.key, held(["198.51.100.1"])]]),
      configs: [base, gone, back],
      events: new Map([[now.key, [ev("AllocationFailed")]]]),
    });
    expect(invariants(o)).toEqual([]);
  });

  it("accepts a move a request edit asked for, explained by the new allocation's Event", () => {
    const now = svc("a", ["198.51.100.4"], { requested: [{ family: 4, value: 0xc6336404n }] });
    const o = observe([now], {
      start: new Map([[now.key, held(["198.51.100.1"])]]),
      requestChanged: new Set([now.key]),
      events: new Map([[now.key, [ev("IPAllocated")]]]),
    });
    expect(invariants(o)).toEqual([]);
  });

  it("accepts a move for a namespace selector that no longer admits the Service", () => {
    const blue = svc("a", ["198.51.100.0"], { namespace: "chaos-blue", key: "chaos-blue/a" });
    const green = applyEdit(base, { kind: "select-team", team: "green" }, 10);
    const o = observe([blue], {
      start: new Map([[blue.key, held(["192.0.2.0"], "pool-ns")]]),
      configs: [base, green],
      events: new Map([[blue.key, [ev("ClearAssignment")]]]),
    });
    expect(invariants(o)).toEqual([]);
  });

  it("lets an edit of the round before explain a late move of an address held since then", () => {
    const shrunk = applyEdit(base, { kind: "resize-pool", pool: "pool-a", size: 4 }, 10);
    const now = svc("a", ["198.51.100.0"]);
    const o = observe([now], {
      start: new Map([[now.key, held(["198.51.100.6"])]]),
      configs: [shrunk],
      earlierConfigs: [base, shrunk],
      events: new Map([[now.key, [ev("ClearAssignment")]]]),
    });
    expect(invariants(o)).toEqual([]);
  });

  it("catches an address given to a Service of a foreign loadBalancerClass", () => {
    const f = svc("f", ["198.51.100.3"], { foreign: true });
    expect(invariants(observe([f]))).toEqual([4]);
    expect(invariants(observe([svc("g", [], { foreign: true, allocatedFrom: "pool-a" })]))).toEqual([4]);
  });

  it("ignores Services deleted in the round (they are not in the final list)", () => {
    expect(invariants(observe([], { start: new Map([["chaos-plain/gone", held(["198.51.100.1"])]]) }))).toEqual([]);
  });
});

describe("invariant 5: served when there is room", () => {
  it("catches a pending Service while its pool has free addresses", () => {
    expect(invariants(observe([svc("a", [])]))).toEqual([5]);
  });

  it("accepts a pending Service when every address it could use is taken", () => {
    const full = Array.from({ length: 8 }, (_, i) => svc(`h${i}`, [`198.51.100.${i}`]));
    expect(invariants(observe([...full, svc("a", [])]))).toEqual([]);
    // ...but not a sharer that may join a holder with its key and another port.
    const sharers = full.map((s, i) => (i === 0 ? { ...s, shareKey: "k" } : s));
    expect(invariants(observe([...sharers, svc("b", [], { shareKey: "k", ports: ["TCP/443"] })]))).toEqual([5]);
  });

  it("knows RequireDualStack needs both families in one pool", () => {
    const v6full = Array.from({ length: 8 }, (_, i) => svc(`h${i}`, [`2001:db8:a::${i}`], { families: [6] }));
    const dual = svc("d", [], { policy: "RequireDualStack", families: [4, 6] });
    expect(invariants(observe([...v6full, dual]))).toEqual([]);
    const prefer = svc("p", [], { policy: "PreferDualStack", families: [6, 4] });
    expect(invariants(observe([...v6full, prefer]))).toEqual([5]);
  });

  it("follows pools, autoAssign, namespace selectors and requests", () => {
    const cases: Array<[ServiceView, boolean]> = [
      [svc("b-named", [], { pool: "pool-b" }), true], // autoAssign false, but named
      [svc("ns-green", [], { pool: "pool-ns", namespace: "chaos-green", key: "chaos-green/ns" }), false],
      [svc("ns-blue", [], { pool: "pool-ns", namespace: "chaos-blue", key: "chaos-blue/ns" }), true],
      [svc("req-free", [], { requested: [{ family: 4, value: 0xc6336405n }] }), true],
      [svc("req-outside", [], { requested: [{ family: 4, value: 0xc6336464n }] }), false],
      [svc("req-in-b", [], { requested: [{ family: 4, value: 0xcb007101n }] }), true], // a requested address needs no autoAssign
    ];
    for (const [s, serveable] of cases)
      expect({ s: s.key, v: invariants(observe([s])) }).toEqual({ s: s.key, v: serveable ? [5] : [] });
    const holder = svc("holder", ["198.51.100.5"]);
    expect(
      invariants(observe([holder, svc("req-taken", [], { requested: [{ family: 4, value: 0xc6336405n }] })])),
    ).toEqual([]);
  });

  it("counts no pool that was deleted", () => {
    const gone = applyEdit(base, { kind: "delete-pool", pool: "pool-b" }, 10);
    expect(invariants(observe([svc("b", [], { pool: "pool-b" })], { configs: [gone] }))).toEqual([]);
  });
});

describe("what settling waits for", () => {
  it("is the state-only invariants (1, 2, 5)", () => {
    expect(settledProblems([svc("a", [])], base).map((v) => v.invariant)).toEqual([5]);
    expect(settledProblems([svc("a", ["198.51.100.0"])], base)).toEqual([]);
  });
});

describe("a dual-stack assignment goes as one", () => {
  it("lets a RequireDualStack Service lose its IPv6 address when a shrink took its IPv4 one", () => {
    const shrunk = applyEdit(base, { kind: "resize-pool", pool: "pool-a", size: 4 }, 10);
    const now = svc("d", ["198.51.100.1", "2001:db8:a::3"], { policy: "RequireDualStack", families: [4, 6] });
    const o = observe([now], {
      start: new Map([[now.key, held(["198.51.100.6", "2001:db8:a::2"])]]),
      configs: [base, shrunk],
      events: new Map([[now.key, [ev("ClearAssignment")]]]),
    });
    expect(invariants(o)).toEqual([]);
    // With nothing shrunk, the same move is a violation.
    expect(invariants({ ...o, configs: [base] })).toEqual([3, 3]);
  });
});
