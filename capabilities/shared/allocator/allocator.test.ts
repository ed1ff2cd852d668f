import { formatIP } from "../net/ip";
import { Allocator } from "./allocator";
import { MAX_INT64 } from "./capacity";
import { backendKeyFor } from "./sharing";
import { ip, ips, pool, svc } from "./test-helpers";
import type { Pool, ServiceRequest } from "./types";

function allocatorWith(...pools: Pool[]): Allocator {
  const a = new Allocator();
  a.setPools(pools);
  return a;
}

const errorCode = (r: ReturnType<Allocator["allocate"]>) => (r.ok ? "ok" : r.error.code);

describe("lowest free address", () => {
  it("hands out addresses from the bottom, CIDRs in listed order", () => {
    const a = allocatorWith(pool("p", ["192.0.2.8/30", "192.0.2.0/31"]));
    expect(["s1", "s2", "s3", "s4", "s5", "s6"].map((s) => ips(a.allocate(svc(s))))).toEqual([
      ["192.0.2.8"],
      ["192.0.2.9"],
      ["192.0.2.10"],
      ["192.0.2.11"],
      ["192.0.2.0"],
      ["192.0.2.1"],
    ]);
    expect(ips(a.allocate(svc("s7")))).toBe("no available IPs");
  });

  it("reuses a released address before higher ones", () => {
    const a = allocatorWith(pool("p", ["192.0.2.0/24"]));
    for (const s of ["s1", "s2", "s3"]) a.allocate(svc(s));
    expect(formatIP(a.release("default/s2")!.ips[0])).toBe("192.0.2.1");
    expect(a.assignmentOf("default/s2")).toBeUndefined();
    expect(ips(a.allocate(svc("s4")))).toEqual(["192.0.2.1"]);
    expect(ips(a.allocate(svc("s5")))).toEqual(["192.0.2.3"]);
    expect(a.release("default/unknown")).toBeUndefined();
  });

  it("skips .0 and .255 with avoidBuggyIPs, IPv4 only", () => {
    const a = allocatorWith(pool("p", ["192.0.2.254/31", "192.0.3.0/31", "2001:db8::/127"], { avoidBuggyIPs: true }));
    expect(ips(a.allocate(svc("s1")))).toEqual(["192.0.2.254"]);
    expect(ips(a.allocate(svc("s2")))).toEqual(["192.0.3.1"]);
    expect(ips(a.allocate(svc("s3")))).toBe("no available IPs");
    expect(ips(a.allocate(svc("v6", { ipFamilies: [6] })))).toEqual(["2001:db8::"]);
    expect(ips(a.assign(svc("s4"), [ip("192.0.3.0")]))).toBe('"192.0.3.0" is not allowed in config');
  });

  it("keeps an existing assignment on allocate (no move) and refreshes its ports", () => {
    const a = allocatorWith(pool("p", ["192.0.2.0/24"]));
    a.allocate(svc("s1"));
    a.allocate(svc("s2"));
    a.release("default/s1");
    const again = a.allocate(svc("s2", { ports: [{ protocol: "UDP", port: 53 }] }));
    expect(ips(again)).toEqual(["192.0.2.1"]);
    expect(again.ok && again.value.ports).toEqual([{ protocol: "UDP", port: 53 }]);
  });
});

describe("pool choice", () => {
  it("never auto-assigns from an autoAssign=false pool, but honours explicit requests", () => {
    const a = allocatorWith(pool("manual", ["192.0.2.0/24"], { autoAssign: false }));
    expect(ips(a.allocate(svc("s1")))).toBe("no available IPs");
    expect(ips(a.allocate(svc("s2", { pool: "manual" })))).toEqual(["192.0.2.0"]);
    expect(ips(a.allocate(svc("s3", { requestedIPs: [ip("192.0.2.50")] })))).toEqual(["192.0.2.50"]);
    expect(a.assignmentOf("default/s3")?.pool).toBe("manual");
  });

  it("orders default pools by name, whatever order they were configured in", () => {
    const a = allocatorWith(
      pool("zz", ["192.0.2.0/24"]),
      pool("bb", ["198.51.100.0/31"]),
      pool("mm", ["203.0.113.0/24"]),
    );
    expect(["s1", "s2", "s3"].map((s) => ips(a.allocate(svc(s))))).toEqual([
      ["198.51.100.0"],
      ["198.51.100.1"],
      ["203.0.113.0"],
    ]);
    expect(a.assignmentOf("default/s3")?.pool).toBe("mm");
  });

  it("prefers pinned pools by priority, 0/unset last and ties by name, before default pools", () => {
    const a = allocatorWith(
      pool("default-pool", ["10.0.0.0/24"]),
      pool("unset", ["10.9.0.0/32"], { serviceAllocation: { namespaces: ["default"] } }),
      pool("prio-2", ["10.2.0.0/32"], { serviceAllocation: { priority: 2 } }),
      pool("prio-1-b", ["10.1.1.0/32"], { serviceAllocation: { priority: 1 } }),
      pool("prio-1-a", ["10.1.0.0/32"], { serviceAllocation: { priority: 1 } }),
    );
    expect(["s1", "s2", "s3", "s4", "s5"].map((s) => ips(a.allocate(svc(s))))).toEqual([
      ["10.1.0.0"],
      ["10.1.1.0"],
      ["10.2.0.0"],
      ["10.9.0.0"],
      ["10.0.0.0"],
    ]);
  });

  it("restricts pinned pools to their namespaces, namespace selectors and service selectors", () => {
    const a = allocatorWith(
      pool("shared", ["10.0.0.0/24"]),
      pool("team-a", ["10.1.0.0/24"], { serviceAllocation: { namespaces: ["team-a"] } }),
      pool("prod", ["10.2.0.0/24"], { serviceAllocation: { namespaceSelectors: [{ matchLabels: { env: "prod" } }] } }),
      pool("dbs", ["10.3.0.0/24"], {
        serviceAllocation: {
          serviceSelectors: [{ matchExpressions: [{ key: "app", operator: "In", values: ["db"] }] }],
        },
      }),
    );
    expect(ips(a.allocate(svc("team-a/web")))).toEqual(["10.1.0.0"]);
    expect(ips(a.allocate(svc("shop/web", { namespaceLabels: { env: "prod" } })))).toEqual(["10.2.0.0"]);
    expect(ips(a.allocate(svc("shop/db", { labels: { app: "db" } })))).toEqual(["10.3.0.0"]);
    expect(ips(a.allocate(svc("other/web", { labels: { app: "web" } })))).toEqual(["10.0.0.0"]);
  });

  it("takes the annotated pool: unknown, incompatible and exhausted pools are errors", () => {
    const a = allocatorWith(
      pool("a", ["192.0.2.0/32"]),
      pool("b", ["198.51.100.0/24"]),
      pool("team", ["203.0.113.0/24"], { serviceAllocation: { namespaces: ["team"] } }),
    );
    expect(ips(a.allocate(svc("s1", { pool: "b" })))).toEqual(["198.51.100.0"]);
    expect(ips(a.allocate(svc("s2", { pool: "x" })))).toBe('unknown pool "x"');
    expect(ips(a.allocate(svc("s3", { pool: "team" })))).toBe('pool "team" not compatible for ip assignment');
    expect(ips(a.allocate(svc("s4", { pool: "a" })))).toEqual(["192.0.2.0"]);
    expect(ips(a.allocate(svc("s5", { pool: "a" })))).toBe('no available IPs in pool "a" for IPv4 IPFamily');
    expect(ips(a.allocate(svc("s6", { pool: "a", ipFamilies: [6] })))).toBe(
      'no available IPs in pool "a" for IPv6 IPFamily',
    );
  });

  it("moves a Service whose pool annotation changed", () => {
    const a = allocatorWith(pool("a", ["192.0.2.0/24"]), pool("b", ["198.51.100.0/24"]));
    expect(ips(a.allocate(svc("s1")))).toEqual(["192.0.2.0"]);
    expect(ips(a.allocate(svc("s1", { pool: "b" })))).toEqual(["198.51.100.0"]);
    expect(a.poolStats("a")?.assignedIPv4).toBe(0n);
  });

  it("reports a missing family", () => {
    const a = allocatorWith(pool("v4", ["192.0.2.0/24"]));
    expect(ips(a.allocate(svc("s1", { ipFamilies: [6] })))).toBe("no suitable pool for IPv6 IPFamily");
    expect(ips(a.allocate(svc("s2", { ipFamilyPolicy: "RequireDualStack", ipFamilies: [4, 6] })))).toBe(
      "no suitable pool for DualStack IPFamily",
    );
    expect(ips(new Allocator().allocate(svc("s3")))).toBe("no available IPs");
  });
});

describe("requested IPs", () => {
  const a = () =>
    allocatorWith(
      pool("a", ["192.0.2.0/24", "2001:db8::/120"]),
      pool("b", ["198.51.100.0/24"]),
      pool("team", ["203.0.113.0/24"], { serviceAllocation: { namespaces: ["team"] } }),
    );

  it("assigns addresses inside a pool and refuses the rest", () => {
    const alloc = a();
    expect(ips(alloc.allocate(svc("s1", { requestedIPs: [ip("192.0.2.77")] })))).toEqual(["192.0.2.77"]);
    expect(ips(alloc.allocate(svc("s2", { requestedIPs: [ip("10.0.0.1")] })))).toBe(
      '"10.0.0.1" is not allowed in config',
    );
    expect(ips(alloc.allocate(svc("s3", { requestedIPs: [ip("203.0.113.5")] })))).toBe(
      'pool "team" not compatible for ip assignment',
    );
    expect(ips(alloc.allocate(svc("team/s4", { requestedIPs: [ip("203.0.113.5")] })))).toEqual(["203.0.113.5"]);
  });

  it("requires the addresses to be in the annotated pool", () => {
    const alloc = a();
    expect(ips(alloc.allocate(svc("s1", { pool: "b", requestedIPs: [ip("192.0.2.7")] })))).toBe(
      'requested loadBalancer IP(s) "192.0.2.7" is not compatible with requested address pool "b"',
    );
    expect(ips(alloc.allocate(svc("s2", { pool: "nope", requestedIPs: [ip("192.0.2.7")] })))).toBe(
      'unknown pool "nope"',
    );
    expect(ips(alloc.allocate(svc("s3", { pool: "a", requestedIPs: [ip("192.0.2.7")] })))).toEqual(["192.0.2.7"]);
  });

  it("refuses an address held by a Service that does not share", () => {
    const alloc = a();
    alloc.allocate(svc("s1", { requestedIPs: [ip("192.0.2.7")] }));
    const r = alloc.allocate(svc("s2", { requestedIPs: [ip("192.0.2.7")] }));
    expect(errorCode(r)).toBe("sharingConflict");
    expect(ips(r)).toBe('can\'t change sharing key for "default/s2", address also in use by default/s1');
  });

  it("follows a changed request and checks families and count", () => {
    const alloc = a();
    alloc.allocate(svc("s1", { requestedIPs: [ip("192.0.2.7")] }));
    expect(ips(alloc.allocate(svc("s1", { requestedIPs: [ip("192.0.2.8")] })))).toEqual(["192.0.2.8"]);
    expect(ips(alloc.allocate(svc("s2")))).toEqual(["192.0.2.0"]);
    expect(ips(alloc.allocate(svc("s3", { requestedIPs: [ip("2001:db8::5")] })))).toBe(
      'requested loadBalancer IP(s) "2001:db8::5" does not match the ipFamily of the service',
    );
    const dual = svc("s4", {
      ipFamilyPolicy: "RequireDualStack",
      ipFamilies: [6, 4],
      requestedIPs: [ip("192.0.2.9"), ip("2001:db8::9")],
    });
    expect(ips(alloc.allocate(dual))).toEqual(["2001:db8::9", "192.0.2.9"]);
    expect(ips(alloc.allocate(svc("s5", { ipFamilies: [] })))).toBe('service "default/s5" has no cluster IPs');
  });

  it("accepts a pair only from one pool", () => {
    const alloc = allocatorWith(pool("v4", ["192.0.2.0/24"]), pool("v6", ["2001:db8::/120"]));
    const dual = svc("s1", {
      ipFamilyPolicy: "RequireDualStack",
      ipFamilies: [4, 6],
      requestedIPs: [ip("192.0.2.1"), ip("2001:db8::1")],
    });
    expect(ips(alloc.allocate(dual))).toBe('"192.0.2.1,2001:db8::1" is not allowed in config');
  });
});

describe("assign (re-claiming)", () => {
  it("is idempotent for the same Service and never moves the address", () => {
    const a = allocatorWith(pool("p", ["192.0.2.0/24"]));
    expect(ips(a.assign(svc("s1"), [ip("192.0.2.40")]))).toEqual(["192.0.2.40"]);
    expect(ips(a.assign(svc("s1"), [ip("192.0.2.40")]))).toEqual(["192.0.2.40"]);
    expect(a.poolStats("p")?.assignedIPv4).toBe(1n);
    expect(ips(a.allocate(svc("s1")))).toEqual(["192.0.2.40"]);
    expect(ips(a.allocate(svc("s2")))).toEqual(["192.0.2.0"]);
  });

  it("leaves the current assignment in place when the new one is refused", () => {
    const a = allocatorWith(pool("p", ["192.0.2.0/24"]));
    a.assign(svc("s1"), [ip("192.0.2.1")]);
    a.assign(svc("s2"), [ip("192.0.2.2")]);
    expect(errorCode(a.assign(svc("s1"), [ip("192.0.2.2")]))).toBe("sharingConflict");
    expect(a.assignmentOf("default/s1")?.ips.map(formatIP)).toEqual(["192.0.2.1"]);
  });

  it("after a restart, replayed assignments are never handed out again", () => {
    const before = allocatorWith(pool("p", ["192.0.2.0/28"]));
    const keys = Array.from({ length: 10 }, (_, i) => `s${i}`);
    for (const k of keys) before.allocate(svc(k));
    for (const k of ["s2", "s5", "s6"]) before.release(`default/${k}`);
    const status = [...before.allAssignments()].map((x) => ({ key: x.serviceKey, ips: x.ips }));

    const after = allocatorWith(pool("p", ["192.0.2.0/28"]));
    for (const s of status) expect(after.assign(svc(s.key), s.ips).ok).toBe(true);
    const fresh = ["n1", "n2", "n3", "n4", "n5", "n6", "n7"].map((k) => ips(after.allocate(svc(k))));
    expect(fresh).toEqual([
      ["192.0.2.2"],
      ["192.0.2.5"],
      ["192.0.2.6"],
      ["192.0.2.10"],
      ["192.0.2.11"],
      ["192.0.2.12"],
      ["192.0.2.13"],
    ]);
    const all = [...after.allAssignments()].flatMap((x) => x.ips.map(formatIP));
    expect(new Set(all).size).toBe(all.length);
  });
});

describe("IP families", () => {
  const dualPool = pool("dual", ["192.0.2.0/24", "2001:db8::/120"]);

  it("SingleStack takes the cluster IP's family", () => {
    const a = allocatorWith(dualPool);
    expect(ips(a.allocate(svc("s4")))).toEqual(["192.0.2.0"]);
    expect(ips(a.allocate(svc("s6", { ipFamilies: [6] })))).toEqual(["2001:db8::"]);
  });

  it("RequireDualStack takes one of each from the same pool, primary first", () => {
    const a = allocatorWith(pool("a-v4", ["198.51.100.0/24"]), pool("b-v6", ["2001:db8:1::/120"]), dualPool);
    const r = a.allocate(svc("s1", { ipFamilyPolicy: "RequireDualStack", ipFamilies: [6, 4] }));
    expect(ips(r)).toEqual(["2001:db8::", "192.0.2.0"]);
    expect(r.ok && r.value.pool).toBe("dual");
    expect(ips(a.allocate(svc("s2", { ipFamilyPolicy: "RequireDualStack", ipFamilies: [4] })))).toBe(
      'not enough cluster IPs for RequireDualStack on service "default/s2"',
    );
  });

  it("RequireDualStack fails when the only dual pool lacks one family", () => {
    const a = allocatorWith(pool("dual", ["192.0.2.0/32", "2001:db8::/120"]));
    a.allocate(svc("s1"));
    const r = a.allocate(svc("s2", { ipFamilyPolicy: "RequireDualStack", ipFamilies: [4, 6] }));
    expect(ips(r)).toBe("no available IPs");
    expect(ips(a.allocate(svc("s3", { pool: "dual", ipFamilyPolicy: "RequireDualStack", ipFamilies: [4, 6] })))).toBe(
      'no available IPs in pool "dual" for IPv4 IPFamily',
    );
  });

  it("PreferDualStack prefers a pool giving both, even a lower-ranked one", () => {
    const a = allocatorWith(pool("a-v4", ["198.51.100.0/24"]), dualPool);
    expect(ips(a.allocate(svc("s1", { ipFamilyPolicy: "PreferDualStack", ipFamilies: [4, 6] })))).toEqual([
      "192.0.2.0",
      "2001:db8::",
    ]);
  });

  it("PreferDualStack falls back to the primary family, then the other", () => {
    const a = allocatorWith(pool("v4", ["198.51.100.0/32"]), pool("v6", ["2001:db8:1::/120"]));
    const prefer = (name: string) => svc(name, { ipFamilyPolicy: "PreferDualStack", ipFamilies: [4] });
    expect(ips(a.allocate(prefer("s1")))).toEqual(["198.51.100.0"]);
    expect(ips(a.allocate(prefer("s2")))).toEqual(["2001:db8:1::"]);
  });

  it("PreferDualStack gains the missing family when its pool gets one, and stays in its pool", () => {
    const a = allocatorWith(pool("p", ["192.0.2.0/24"]), pool("q", ["198.51.100.0/24", "2001:db8:2::/120"]));
    const prefer = svc("s1", { ipFamilyPolicy: "PreferDualStack", ipFamilies: [4, 6], pool: undefined });
    a.setPools([pool("p", ["192.0.2.0/24"])]);
    expect(ips(a.allocate(prefer))).toEqual(["192.0.2.0"]);
    a.setPools([pool("p", ["192.0.2.0/24", "2001:db8::/120"]), pool("q", ["198.51.100.0/24", "2001:db8:2::/120"])]);
    expect(ips(a.allocate(prefer))).toEqual(["192.0.2.0", "2001:db8::"]);
    expect(a.assignmentOf("default/s1")?.pool).toBe("p");
  });

  it("addMissingFamily adds from the same pool or says why not", () => {
    const a = allocatorWith(pool("p", ["192.0.2.0/24"]));
    a.allocate(svc("s1", { ipFamilyPolicy: "PreferDualStack", ipFamilies: [6, 4] }));
    expect(ips(a.addMissingFamily("default/s1"))).toBe('no available IPs in pool "p" for IPv6 IPFamily');
    a.setPools([pool("p", ["192.0.2.0/24", "2001:db8::/120"])]);
    expect(ips(a.addMissingFamily("default/s1"))).toEqual(["2001:db8::", "192.0.2.0"]);
    expect(errorCode(a.addMissingFamily("default/s1"))).toBe("invalidRequest");
    expect(errorCode(a.addMissingFamily("default/none"))).toBe("invalidRequest");
  });
});

describe("sharing", () => {
  const shared = (name: string, port: number, extra: Partial<ServiceRequest> = {}) =>
    svc(name, { sharingKey: "k", ports: [{ protocol: "TCP", port }], ...extra });

  it("puts Services with the same key and distinct ports on one address", () => {
    const a = allocatorWith(pool("p", ["192.0.2.0/24"]));
    expect(ips(a.allocate(shared("s1", 80)))).toEqual(["192.0.2.0"]);
    expect(ips(a.allocate(shared("s2", 443)))).toEqual(["192.0.2.0"]);
    expect(ips(a.allocate(svc("plain")))).toEqual(["192.0.2.1"]);
    expect(a.poolStats("p")?.assignedIPv4).toBe(2n);
  });

  it("moves on to another address on a port clash, and refuses a pinned one", () => {
    const a = allocatorWith(pool("p", ["192.0.2.0/24"]));
    a.allocate(shared("s1", 80));
    expect(ips(a.allocate(shared("s2", 80)))).toEqual(["192.0.2.1"]);
    const r = a.allocate(shared("s3", 80, { requestedIPs: [ip("192.0.2.0")] }));
    expect(errorCode(r)).toBe("portInUse");
    expect(ips(r)).toBe('port TCP/80 is already in use on "192.0.2.0"');
    expect(
      ips(a.allocate(shared("s4", 80, { ports: [{ protocol: "UDP", port: 80 }], requestedIPs: [ip("192.0.2.0")] }))),
    ).toEqual(["192.0.2.0"]);
  });

  it("needs equal backend keys: Local services share only with identical selectors", () => {
    const a = allocatorWith(pool("p", ["192.0.2.0/24"]));
    const local = (name: string, port: number, selector: Record<string, string>) =>
      shared(name, port, { backendKey: backendKeyFor("Local", selector), requestedIPs: [ip("192.0.2.9")] });
    expect(ips(a.allocate(local("s1", 80, { b: "2", a: "1" })))).toEqual(["192.0.2.9"]);
    expect(ips(a.allocate(local("s2", 443, { a: "1", b: "2" })))).toEqual(["192.0.2.9"]);
    expect(errorCode(a.allocate(local("s3", 8080, { a: "1" })))).toBe("sharingConflict");
    expect(
      errorCode(
        a.allocate(
          shared("s4", 8081, { backendKey: backendKeyFor("Cluster", { a: "1" }), requestedIPs: [ip("192.0.2.9")] }),
        ),
      ),
    ).toBe("sharingConflict");
    expect(ips(a.allocate(shared("s5", 8082, { backendKey: backendKeyFor("Cluster", { a: "1" }) })))).toEqual([
      "192.0.2.0",
    ]);
  });

  it("refuses different or missing keys", () => {
    const a = allocatorWith(pool("p", ["192.0.2.0/24"]));
    a.allocate(shared("s1", 80, { requestedIPs: [ip("192.0.2.5")] }));
    expect(errorCode(a.allocate(shared("s2", 81, { sharingKey: "other", requestedIPs: [ip("192.0.2.5")] })))).toBe(
      "sharingConflict",
    );
    expect(
      errorCode(a.allocate(svc("s3", { ports: [{ protocol: "TCP", port: 82 }], requestedIPs: [ip("192.0.2.5")] }))),
    ).toBe("sharingConflict");
    expect(ips(a.allocate(shared("s4", 81, { sharingKey: "other" })))).toEqual(["192.0.2.0"]);
  });

  it("frees a shared address only when its last holder leaves", () => {
    const a = allocatorWith(pool("p", ["192.0.2.0/24"]));
    a.allocate(shared("s1", 80));
    a.allocate(shared("s2", 443));
    a.release("default/s1");
    expect(ips(a.allocate(svc("plain")))).toEqual(["192.0.2.1"]);
    a.release("default/s2");
    expect(a.poolStats("p")?.assignedIPv4).toBe(1n);
    expect(ips(a.allocate(svc("plain2")))).toEqual(["192.0.2.0"]);
  });

  it("lets the only holder change its own sharing key in place", () => {
    const a = allocatorWith(pool("p", ["192.0.2.0/24"]));
    a.allocate(shared("s1", 80));
    expect(ips(a.allocate(shared("s1", 80, { sharingKey: "" })))).toEqual(["192.0.2.0"]);
    expect(ips(a.allocate(shared("s2", 443)))).toEqual(["192.0.2.1"]);
  });
});

describe("setPools", () => {
  it("drops assignments no pool covers any more and reports them", () => {
    const a = allocatorWith(pool("p", ["192.0.2.0/30"]), pool("q", ["198.51.100.0/24"]));
    for (const s of ["s1", "s2", "s3", "s4"]) a.allocate(svc(s));
    a.allocate(svc("s5", { pool: "q" }));
    const change = a.setPools([pool("p", ["192.0.2.0/31"])]);
    expect([...change.released].sort()).toEqual(["default/s3", "default/s4", "default/s5"]);
    expect(change.moved).toEqual([]);
    expect(a.assignmentOf("default/s3")).toBeUndefined();
    expect(a.poolStats("p")?.assignedIPv4).toBe(2n);
    expect(a.poolStats("q")).toBeUndefined();
    expect(ips(a.allocate(svc("s3")))).toBe("no available IPs");
  });

  it("re-accounts addresses that now belong to a differently named pool", () => {
    const a = allocatorWith(pool("old", ["192.0.2.0/24"]));
    a.allocate(svc("s1"));
    a.allocate(svc("s2"));
    const change = a.setPools([pool("new", ["192.0.2.0/25"])]);
    expect(change.released).toEqual([]);
    expect(change.moved).toEqual([
      { serviceKey: "default/s1", from: "old", to: "new" },
      { serviceKey: "default/s2", from: "old", to: "new" },
    ]);
    expect(a.assignmentOf("default/s2")?.pool).toBe("new");
    expect(a.poolStats("new")?.assignedIPv4).toBe(2n);
    expect(ips(a.allocate(svc("s3")))).toEqual(["192.0.2.2"]);
  });

  it("drops a dual-stack assignment when its pool loses a family, and addresses turned buggy", () => {
    const a = allocatorWith(pool("p", ["192.0.2.0/24", "2001:db8::/120"]));
    a.allocate(svc("dual", { ipFamilyPolicy: "RequireDualStack", ipFamilies: [4, 6] }));
    a.allocate(svc("buggy", { requestedIPs: [ip("192.0.2.255")] }));
    a.allocate(svc("fine"));
    const change = a.setPools([pool("p", ["192.0.2.0/24"], { avoidBuggyIPs: true })]);
    expect([...change.released].sort()).toEqual(["default/buggy", "default/dual"]);
    expect(a.assignmentOf("default/fine")?.ips.map(formatIP)).toEqual(["192.0.2.1"]);
  });

  it("re-checks serviceAllocation when the Service is next processed", () => {
    const a = allocatorWith(pool("p", ["192.0.2.0/24"]), pool("z", ["198.51.100.0/24"]));
    a.allocate(svc("s1"));
    a.setPools([
      pool("p", ["192.0.2.0/24"], { serviceAllocation: { namespaces: ["team"] } }),
      pool("z", ["198.51.100.0/24"]),
    ]);
    expect(ips(a.allocate(svc("s1")))).toEqual(["198.51.100.0"]);
  });
});

describe("big pools and statistics", () => {
  it("serves a /8 and a /64 without enumerating them", () => {
    const a = allocatorWith(pool("v4", ["10.0.0.0/8"], { avoidBuggyIPs: true }), pool("v6", ["2001:db8::/64"]));
    for (let i = 0; i < 300; i++) a.allocate(svc(`s${i}`));
    expect(ips(a.allocate(svc("next")))).toEqual(["10.0.1.47"]);
    expect(ips(a.allocate(svc("six", { ipFamilies: [6] })))).toEqual(["2001:db8::"]);
    expect(
      ips(a.allocate(svc("pinned6", { ipFamilies: [6], requestedIPs: [ip("2001:db8::ffff:ffff:ffff:ffff")] }))),
    ).toEqual(["2001:db8::ffff:ffff:ffff:ffff"]);
    expect(a.poolStats("v4")).toEqual({
      assignedIPv4: 301n,
      assignedIPv6: 0n,
      availableIPv4: 16777216n - 131072n - 301n,
      availableIPv6: 0n,
    });
    expect(a.poolStats("v6")).toEqual({
      assignedIPv4: 0n,
      assignedIPv6: 2n,
      availableIPv4: 0n,
      availableIPv6: MAX_INT64 - 2n,
    });
    expect(a.poolStats("nope")).toBeUndefined();
  });

  it("counts a shared address once and a dual-stack pair per family", () => {
    const a = allocatorWith(pool("p", ["192.0.2.0/24", "2001:db8::/120"]));
    a.allocate(svc("d", { ipFamilyPolicy: "RequireDualStack", ipFamilies: [4, 6] }));
    a.allocate(svc("x", { sharingKey: "k" }));
    a.allocate(svc("y", { sharingKey: "k", ports: [{ protocol: "TCP", port: 81 }] }));
    expect(a.poolStats("p")).toEqual({ assignedIPv4: 2n, assignedIPv6: 1n, availableIPv4: 254n, availableIPv6: 255n });
  });
});

describe("a disabled (invalid) pool", () => {
  const disabled = (p: Pool): Pool => ({ ...p, disabled: 'IPAddressPool "p": spec.addresses[1]: invalid CIDR' });

  it("hands out nothing new, but its holders re-claim and keep their addresses", () => {
    const a = allocatorWith(disabled(pool("p", ["192.0.2.0/30"])), pool("q", ["198.51.100.0/30"]));
    expect(ips(a.assign(svc("holder"), [ip("192.0.2.1")], { reclaim: true }))).toEqual(["192.0.2.1"]);
    expect(ips(a.allocate(svc("holder")))).toEqual(["192.0.2.1"]); // no move
    expect(ips(a.allocate(svc("new")))).toEqual(["198.51.100.0"]); // never from "p"
    expect(ips(a.assign(svc("asks"), [ip("192.0.2.2")]))).toMatch(/^pool "p" is invalid and hands out no new address/);
    expect(ips(a.allocate(svc("named", { pool: "p" })))).toMatch(/^pool "p" is invalid/);
  });

  it("keeps a re-claimed address from being given to anyone else, even from an overlapping pool", () => {
    const a = allocatorWith(disabled(pool("p", ["192.0.2.0/31"])), pool("q", ["192.0.2.0/30"]));
    a.assign(svc("holder"), [ip("192.0.2.0")], { reclaim: true });
    expect(["s1", "s2", "s3"].map((s) => ips(a.allocate(svc(s))))).toEqual([
      ["192.0.2.1"],
      ["192.0.2.2"],
      ["192.0.2.3"],
    ]);
  });

  it("does not grow a PreferDualStack holder into its other family", () => {
    const a = allocatorWith(disabled(pool("p", ["192.0.2.0/31", "2001:db8::/127"])));
    a.assign(svc("dual", { ipFamilyPolicy: "PreferDualStack" }), [ip("192.0.2.0")], { reclaim: true });
    expect(ips(a.addMissingFamily("default/dual"))).toMatch(/^pool "p" is invalid/);
  });
});

describe("re-claiming where pools overlap (an invalid pool beside a valid one)", () => {
  it("keeps the address counted in the pool it was published from, else in the valid pool", () => {
    const a = allocatorWith(
      { ...pool("a-overlap", ["192.0.2.2/31"]), disabled: "overlaps pool-b" },
      pool("b", ["192.0.2.0/29"]),
    );
    // "a-overlap" sorts first; without the hint the address would be counted in the invalid pool.
    expect(a.assign(svc("x"), [ip("192.0.2.3")], { reclaim: true }).ok && a.assignmentOf("default/x")!.pool).toBe("b");
    expect(
      a.assign(svc("y"), [ip("192.0.2.2")], { reclaim: true, fromPool: "b" }).ok && a.assignmentOf("default/y")!.pool,
    ).toBe("b");
  });
});
