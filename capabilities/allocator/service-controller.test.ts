/**
 * The Service controller's decisions, with the API server replaced by an
 * in-memory writer (the real writer is covered by test/integration/allocator.test.ts).
 */
import type { V1Service } from "@kubernetes/client-node";
import { Allocator } from "../shared/allocator/allocator";
import type { Pool } from "../shared/allocator/types";
import { parseCIDR } from "../shared/net/ip";
import { ServiceController, type ServiceWriter } from "./service-controller";

class MemoryWriter implements ServiceWriter {
  readonly published = new Map<string, { ips: readonly string[]; pool?: string }>();
  readonly events: string[] = [];
  /** For each write: the Service, and the Events emitted before it when it took an address away. */
  readonly eventsFirst: Array<{ name: string; eventsBefore: string[] }> = [];
  /** Like the API server: returns the Service as written, with a new resourceVersion. */
  async writeStatus(
    svc: V1Service,
    ips: readonly string[],
    pool: string | undefined,
    eventsFirst = false,
  ): Promise<V1Service | undefined> {
    this.published.set(`${svc.metadata!.namespace}/${svc.metadata!.name}`, { ips, pool });
    if (eventsFirst) this.eventsFirst.push({ name: svc.metadata!.name!, eventsBefore: [...this.events] });
    const annotations: Record<string, string> = { ...svc.metadata!.annotations };
    if (pool === undefined) delete annotations["metallb.io/ip-allocated-from-pool"];
    else annotations["metallb.io/ip-allocated-from-pool"] = pool;
    return {
      ...svc,
      metadata: { ...svc.metadata, resourceVersion: String(rv++), annotations },
      status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } },
    };
  }
  event(svc: V1Service, _type: "Normal" | "Warning", reason: string, message: string): void {
    this.events.push(`${svc.metadata!.name} ${reason}: ${message}`);
  }
  readonly poolCalls: string[][] = [];
  poolsChanged(names: ReadonlySet<string>): void {
    this.poolCalls.push([...names].sort());
  }
}

const pool = (name: string, cidr: string): Pool => ({
  name,
  cidrs: [parseCIDR(cidr)!],
  autoAssign: true,
  avoidBuggyIPs: false,
});

let rv = 1;
function service(name: string, ip?: string, type = "LoadBalancer"): V1Service {
  return {
    metadata: { name, namespace: "apps", resourceVersion: String(rv++) },
    spec: { type, ipFamilies: ["IPv4"], clusterIP: "10.0.0.10", ports: [{ port: 80, protocol: "TCP" }] },
    status: ip ? { loadBalancer: { ingress: [{ ip }] } } : {},
  };
}

/** A Service that may share its address under key "k", on one TCP port. */
function shared(name: string, port: number, ip?: string): V1Service {
  const s = service(name, ip);
  s.metadata!.annotations = { "metallb.io/allow-shared-ip": "k" };
  s.spec!.ports = [{ port, protocol: "TCP" }];
  return s;
}

function setup() {
  const writer = new MemoryWriter();
  const controller = new ServiceController(new Allocator(), writer);
  return { writer, controller };
}

const ipOf = (w: MemoryWriter, name: string) => w.published.get(`apps/${name}`)?.ips;

describe("ServiceController", () => {
  it("tells the writer at once when the last pool is deleted, with no Service to revisit (its metrics must go)", async () => {
    const { writer, controller } = setup();
    controller.load([pool("a", "192.0.2.0/29"), pool("b", "198.51.100.0/29")], [], new Map());
    await controller.idle();
    controller.onPools([]);
    await controller.idle();
    expect(writer.poolCalls.at(-1)).toEqual([]);
  });

  it("re-claims addresses already in status before giving out new ones, whatever the list order", async () => {
    const { writer, controller } = setup();
    // The newcomer is listed first; the holder of .0 must keep it.
    const holder = service("holder", "192.0.2.0");
    holder.metadata!.annotations = { "metallb.io/ip-allocated-from-pool": "a" };
    controller.load([pool("a", "192.0.2.0/30")], [service("newcomer"), holder], new Map());
    await controller.idle();
    expect(ipOf(writer, "newcomer")).toEqual(["192.0.2.1"]);
    expect(writer.published.has("apps/holder")).toBe(false); // already correct: nothing to write
  });

  it("waits for a new namespace's labels before placing its Service when a pool selects by them", async () => {
    const { writer, controller } = setup();
    const team: Pool = {
      ...pool("team", "192.0.2.0/30"),
      serviceAllocation: { priority: 1, namespaceSelectors: [{ matchLabels: { team: "blue" }, matchExpressions: [] }] },
    };
    controller.load([team, pool("rest", "198.51.100.0/30")], [], new Map());
    controller.onServiceUpsert(service("early")); // its namespace "apps" has not been seen yet
    await controller.idle();
    expect(writer.published.has("apps/early")).toBe(false);
    controller.onNamespace("apps", { team: "blue" });
    await controller.idle();
    expect(writer.published.get("apps/early")).toEqual({ ips: ["192.0.2.0"], pool: "team" });
  });

  it("places a Service at once when no pool selects by namespace labels", async () => {
    const { writer, controller } = setup();
    controller.load([pool("a", "192.0.2.0/30")], [], new Map());
    controller.onServiceUpsert(service("now"));
    await controller.idle();
    expect(ipOf(writer, "now")).toEqual(["192.0.2.0"]);
  });

  it("gives a freed address to a pending Service", async () => {
    const { writer, controller } = setup();
    controller.load([pool("a", "192.0.2.7/32")], [service("first")], new Map());
    await controller.idle();
    expect(ipOf(writer, "first")).toEqual(["192.0.2.7"]);
    controller.onServiceUpsert(service("second"));
    await controller.idle();
    expect(writer.events.some((e) => e.startsWith("second AllocationFailed"))).toBe(true);
    expect(ipOf(writer, "second")).toBeUndefined();

    controller.onServiceDelete(service("first", "192.0.2.7"));
    await controller.idle();
    expect(ipOf(writer, "second")).toEqual(["192.0.2.7"]);
  });

  it("makes no decision while a configuration change is pending", async () => {
    const { writer, controller } = setup();
    controller.load([pool("old", "192.0.2.0/32")], [], new Map());
    controller.holdForConfig(); // e.g. pool "old" is being deleted
    controller.onServiceUpsert(service("early"));
    await new Promise((r) => setTimeout(r, 20));
    expect(ipOf(writer, "early")).toBeUndefined();
    controller.onPools([pool("new", "198.51.100.0/32")]);
    await controller.idle();
    expect(ipOf(writer, "early")).toEqual(["198.51.100.0"]);
  });

  it("clears what it published when a Service stops being a LoadBalancer", async () => {
    const { writer, controller } = setup();
    controller.load([pool("a", "192.0.2.0/30")], [service("web")], new Map());
    await controller.idle();
    const published = service("web", "192.0.2.0", "ClusterIP");
    published.metadata!.annotations = { "metallb.io/ip-allocated-from-pool": "a" };
    controller.onServiceUpsert(published);
    await controller.idle();
    expect(writer.published.get("apps/web")).toEqual({ ips: [], pool: undefined });
  });

  it("a Service admission would have refused (its webhook fails open) gets no address and a Warning saying why", async () => {
    const { writer, controller } = setup();
    const malformed = service("malformed");
    malformed.metadata!.annotations = { "metallb.io/loadBalancerIPs": "192.0.2.300" };
    const outside = service("outside");
    outside.metadata!.annotations = { "metallb.io/loadBalancerIPs": "203.0.113.7" };
    const unknownPool = service("unknown-pool");
    unknownPool.metadata!.annotations = { "metallb.io/address-pool": "nope" };
    controller.load([pool("a", "192.0.2.0/30")], [malformed, outside, unknownPool], new Map());
    await controller.idle();
    for (const name of ["malformed", "outside", "unknown-pool"]) expect(ipOf(writer, name)).toBeUndefined();
    expect(writer.events).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^malformed LoadBalancerFailed: .*"192\.0\.2\.300" is not an IP address/),
        expect.stringMatching(/^outside AllocationFailed: Failed to allocate IP for "apps\/outside": .*203\.0\.113\.7/),
        expect.stringMatching(/^unknown-pool AllocationFailed: .*unknown pool "nope"/),
      ]),
    );
  });

  it("never touches a Service of another loadBalancerClass, even one with our annotation", async () => {
    const { writer, controller } = setup();
    const foreign = service("foreign", "192.0.2.3");
    foreign.spec!.loadBalancerClass = "example.com/other";
    foreign.metadata!.annotations = { "metallb.io/ip-allocated-from-pool": "a" };
    controller.load([pool("a", "192.0.2.0/30")], [foreign, service("ours")], new Map());
    await controller.idle();
    expect(writer.published.has("apps/foreign")).toBe(false);
    expect(ipOf(writer, "ours")).toEqual(["192.0.2.0"]); // .3 is not held by us: the lowest free is .0
  });

  it("moves a Service whose address left the configuration", async () => {
    const { writer, controller } = setup();
    controller.load(
      [pool("a", "192.0.2.0/32"), pool("b", "198.51.100.0/32")],
      [service("web", "192.0.2.0")],
      new Map(),
    );
    await controller.idle();
    controller.onPools([pool("b", "198.51.100.0/32")]);
    await controller.idle();
    expect(ipOf(writer, "web")).toEqual(["198.51.100.0"]);
    expect(writer.events.some((e) => e.startsWith("web ClearAssignment"))).toBe(true);
  });

  describe("a restart never hands one Service's address to another, whatever the list order", () => {
    /** A Service as our controller published it: the address and the pool annotation. */
    const held = (s: V1Service, fromPool: string): V1Service => {
      s.metadata!.annotations = { ...s.metadata!.annotations, "metallb.io/ip-allocated-from-pool": fromPool };
      return s;
    };
    const dual = (name: string, ip?: string): V1Service => {
      const s = service(name, ip);
      s.spec!.ipFamilyPolicy = "PreferDualStack";
      s.metadata!.creationTimestamp = new Date("2026-03-01T00:00:00Z");
      return s;
    };
    const v6 = (name: string, ip?: string): V1Service => {
      const s = service(name, ip);
      s.spec!.ipFamilies = ["IPv6"];
      s.spec!.clusterIP = "fd00::10";
      s.metadata!.creationTimestamp = new Date("2026-03-02T00:00:00Z");
      return s;
    };

    it("a PreferDualStack Service missing a family does not take a v6 address another Service shows", async () => {
      const { writer, controller } = setup();
      const pools = [
        { ...pool("a", "192.0.2.0/30"), cidrs: [parseCIDR("192.0.2.0/30")!, parseCIDR("2001:db8::/126")!] },
      ];
      // a-dual holds only IPv4 and is listed (and created) first; b-v6 holds 2001:db8::.
      controller.load(pools, [held(dual("a-dual", "192.0.2.0"), "a"), held(v6("b-v6", "2001:db8::"), "a")], new Map());
      await controller.idle();
      expect(writer.published.get("apps/a-dual")?.ips).toEqual(["192.0.2.0", "2001:db8::1"]);
      expect(writer.published.has("apps/b-v6")).toBe(false); // it keeps 2001:db8::, nothing to write
    });

    it("a Service whose address left its pool does not take an address a later-listed holder shows", async () => {
      const { writer, controller } = setup();
      const orphan = service("orphan", "192.0.2.200"); // the pool was shrunk past it
      const holder = held(service("holder", "192.0.2.0"), "a");
      controller.load([pool("a", "192.0.2.0/31")], [orphan, holder], new Map());
      await controller.idle();
      expect(ipOf(writer, "orphan")).toEqual(["192.0.2.1"]);
      expect(writer.published.has("apps/holder")).toBe(false);
      expect(writer.events.filter((e) => e.startsWith("orphan ClearAssignment"))).toHaveLength(1);
      // The move is published only after the Event saying why (a crash between the two
      // must not leave a moved address unexplained: chaos seed 1406459984 round 134).
      expect(
        writer.eventsFirst.map((w) => [w.name, w.eventsBefore.some((e) => e.startsWith("orphan ClearAssignment"))]),
      ).toEqual([["orphan", true]]);
    });

    it("an invalid (disabled) pool keeps its holders' addresses and hands out none", async () => {
      const { writer, controller } = setup();
      const frozen: Pool = {
        ...pool("a", "192.0.2.0/30"),
        disabled: 'IPAddressPool "a": spec.addresses[1]: invalid CIDR',
      };
      controller.load(
        [frozen, pool("b", "198.51.100.0/30")],
        [held(service("holder", "192.0.2.0"), "a"), service("new")],
        new Map(),
      );
      await controller.idle();
      expect(writer.published.has("apps/holder")).toBe(false);
      expect(writer.events.filter((e) => e.startsWith("holder"))).toEqual([]);
      expect(ipOf(writer, "new")).toEqual(["198.51.100.0"]);
    });
  });

  describe("calm under load", () => {
    it("a freed address wakes one waiting Service, first come first served, and nobody is told twice", async () => {
      const { writer, controller } = setup();
      controller.load([pool("a", "192.0.2.0/31")], [service("h0"), service("h1")], new Map());
      await controller.idle();
      for (let i = 0; i < 100; i++) controller.onServiceUpsert(service(`w${i}`));
      await controller.idle();
      expect(writer.events.filter((e) => e.includes("AllocationFailed"))).toHaveLength(100);
      writer.events.length = 0;

      controller.onServiceDelete(service("h1", "192.0.2.1"));
      await controller.idle();
      expect(ipOf(writer, "w0")).toEqual(["192.0.2.1"]);
      expect(writer.events).toEqual(['w0 IPAllocated: Assigned IP ["192.0.2.1"]']);

      // A configuration change revisits everyone; the waiting are not told again.
      controller.onPools([pool("a", "192.0.2.0/31")]);
      await controller.idle();
      expect(writer.events).toHaveLength(1);
    });

    it("a freed address taken under a sharing key is shared at once with the waiting Services of that key", async () => {
      const { writer, controller } = setup();
      controller.load([pool("a", "192.0.2.0/32")], [service("h")], new Map());
      await controller.idle();
      controller.onServiceUpsert(shared("w1", 80));
      controller.onServiceUpsert(shared("w2", 443));
      await controller.idle();
      expect([ipOf(writer, "w1"), ipOf(writer, "w2")]).toEqual([undefined, undefined]);
      // One address is freed: w1 (first to wait) takes it, and w2 may share it.
      controller.onServiceDelete(service("h", "192.0.2.0"));
      await controller.idle();
      expect([ipOf(writer, "w1"), ipOf(writer, "w2")]).toEqual([["192.0.2.0"], ["192.0.2.0"]]);
    });

    it("freed addresses are offered until each is taken again: a Service sharing one does not use up the offer", async () => {
      const { writer, controller } = setup();
      controller.load([pool("a", "192.0.2.0/31")], [service("h0"), service("h1")], new Map());
      await controller.idle();
      controller.onServiceUpsert(shared("w1", 80));
      controller.onServiceUpsert(shared("w2", 443));
      controller.onServiceUpsert(service("w3"));
      await controller.idle();
      // Two addresses freed at once: w1 takes one and w2 shares it; w3 must still be offered the other.
      controller.onServiceDelete(service("h0", "192.0.2.0"));
      controller.onServiceDelete(service("h1", "192.0.2.1"));
      await controller.idle();
      expect([ipOf(writer, "w1"), ipOf(writer, "w2"), ipOf(writer, "w3")]).toEqual([
        ["192.0.2.0"],
        ["192.0.2.0"],
        ["192.0.2.1"],
      ]);
    });

    it("a Service leaving a shared address lets a waiting Service of its key share it (the address is not free)", async () => {
      const { writer, controller } = setup();
      controller.load([pool("a", "192.0.2.0/32")], [shared("a80", 80), shared("b443", 443)], new Map());
      await controller.idle();
      controller.onServiceUpsert(shared("w80", 80)); // port 80 is taken on the only address
      await controller.idle();
      expect(ipOf(writer, "w80")).toBeUndefined();
      controller.onServiceDelete(shared("a80", 80, "192.0.2.0"));
      await controller.idle();
      expect(ipOf(writer, "w80")).toEqual(["192.0.2.0"]);
    });

    it("a freed address suits only some waiters (another family): the others keep waiting, the right one takes it", async () => {
      const { writer, controller } = setup();
      const dual: Pool = {
        ...pool("a", "192.0.2.0/32"),
        cidrs: [parseCIDR("192.0.2.0/32")!, parseCIDR("2001:db8::/128")!],
      };
      const v6 = (name: string, ip?: string) => {
        const s = service(name, ip);
        s.spec!.ipFamilies = ["IPv6"];
        return s;
      };
      controller.load([dual], [service("h4"), v6("h6")], new Map());
      await controller.idle();
      controller.onServiceUpsert(v6("w6"));
      controller.onServiceUpsert(service("w4"));
      await controller.idle();
      controller.onServiceDelete(service("h4", "192.0.2.0"));
      await controller.idle();
      expect([ipOf(writer, "w6"), ipOf(writer, "w4")]).toEqual([undefined, ["192.0.2.0"]]);
    });

    it("a Service losing its address is told once, though the watch has not yet delivered its cleared status", async () => {
      const { writer, controller } = setup();
      const green: Pool = {
        ...pool("team", "192.0.2.0/32"),
        serviceAllocation: {
          priority: 1,
          namespaceSelectors: [{ matchLabels: { team: "green" }, matchExpressions: [] }],
        },
      };
      const holder = service("holder", "192.0.2.0");
      holder.metadata!.annotations = { "metallb.io/ip-allocated-from-pool": "team" };
      const other = service("other", "198.51.100.0");
      other.metadata!.namespace = "elsewhere";
      controller.load(
        [green, pool("rest", "198.51.100.0/32")],
        [holder, other],
        new Map<string, Record<string, string>>([
          ["apps", { team: "green" }],
          ["elsewhere", {}],
        ]),
      );
      await controller.idle();
      controller.onNamespace("apps", { team: "blue" }); // the pool no longer selects it
      await controller.idle();
      // Another address is freed before the watch brings holder's new status: holder,
      // now waiting, is offered it (it cannot take it) and must not be released again.
      controller.onServiceDelete(other);
      await controller.idle();
      expect(ipOf(writer, "holder")).toEqual(["198.51.100.0"]);
      expect(writer.events.filter((e) => e.startsWith("holder ClearAssignment"))).toHaveLength(1);
    });

    it("a waiting Service is told again when its reason changes", async () => {
      const { writer, controller } = setup();
      controller.load([pool("a", "192.0.2.0/32")], [service("h")], new Map());
      await controller.idle();
      const asks = service("asks");
      asks.metadata!.annotations = { "metallb.io/address-pool": "nope" };
      controller.onServiceUpsert(asks);
      await controller.idle();
      const asksOther = service("asks");
      asksOther.metadata!.annotations = { "metallb.io/address-pool": "a" };
      controller.onServiceUpsert(asksOther);
      await controller.idle();
      expect(writer.events.filter((e) => e.startsWith("asks AllocationFailed"))).toEqual([
        'asks AllocationFailed: Failed to allocate IP for "apps/asks": unknown pool "nope"',
        'asks AllocationFailed: Failed to allocate IP for "apps/asks": no available IPs in pool "a" for IPv4 IPFamily',
      ]);
    });
  });

  describe("failed status writes", () => {
    /** Fails the first write of the named Services with the given HTTP status. */
    class FailingWriter extends MemoryWriter {
      readonly attempts = new Map<string, number>();
      constructor(private readonly failures: Map<string, number>) {
        super();
      }
      override async writeStatus(
        svc: V1Service,
        ips: readonly string[],
        pool: string | undefined,
        eventsFirst = false,
      ): Promise<V1Service | undefined> {
        const key = svc.metadata!.name!;
        const n = (this.attempts.get(key) ?? 0) + 1;
        this.attempts.set(key, n);
        const status = this.failures.get(key);
        if (status !== undefined && n === 1) throw Object.assign(new Error(`HTTP ${status}`), { status });
        return super.writeStatus(svc, ips, pool, eventsFirst);
      }
    }

    afterEach(() => jest.useRealTimers());

    it("a 404 (the Service is gone) is not retried", async () => {
      const writer = new FailingWriter(new Map([["gone", 404]]));
      const controller = new ServiceController(new Allocator(), writer);
      controller.load([pool("a", "192.0.2.0/29")], [service("gone"), service("kept")], new Map());
      await controller.idle();
      expect(writer.attempts.get("gone")).toBe(1);
      expect(ipOf(writer, "kept")).toBeDefined();
    });

    it("another failure is retried after a jittered back-off (under 500 ms the first time), without holding a write slot meanwhile", async () => {
      jest.useFakeTimers();
      const writer = new FailingWriter(new Map([["flaky", 500]]));
      const controller = new ServiceController(new Allocator(), writer, { maxInFlight: 1 });
      controller.load([pool("a", "192.0.2.0/29")], [service("flaky")], new Map());
      await jest.advanceTimersByTimeAsync(10);
      expect(writer.attempts.get("flaky")).toBe(1);
      // With the only slot free, a new Service is written before the retry is due.
      controller.onServiceUpsert(service("next"));
      await jest.advanceTimersByTimeAsync(10);
      expect(ipOf(writer, "next")).toBeDefined();
      expect(ipOf(writer, "flaky")).toBeUndefined();
      await jest.advanceTimersByTimeAsync(500);
      expect(writer.attempts.get("flaky")).toBe(2);
      expect(ipOf(writer, "flaky")).toBeDefined();
    });
  });
});
