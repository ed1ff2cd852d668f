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
  async writeStatus(svc: V1Service, ips: readonly string[], pool: string | undefined): Promise<void> {
    this.published.set(`${svc.metadata!.namespace}/${svc.metadata!.name}`, { ips, pool });
  }
  event(svc: V1Service, _type: "Normal" | "Warning", reason: string, message: string): void {
    this.events.push(`${svc.metadata!.name} ${reason}: ${message}`);
  }
  poolsChanged(): void {}
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

function setup() {
  const writer = new MemoryWriter();
  const controller = new ServiceController(new Allocator(), writer);
  return { writer, controller };
}

const ipOf = (w: MemoryWriter, name: string) => w.published.get(`apps/${name}`)?.ips;

describe("ServiceController", () => {
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

  describe("failed status writes", () => {
    /** Fails the first write of the named Services with the given HTTP status. */
    class FailingWriter extends MemoryWriter {
      readonly attempts = new Map<string, number>();
      constructor(private readonly failures: Map<string, number>) {
        super();
      }
      override async writeStatus(svc: V1Service, ips: readonly string[], pool: string | undefined): Promise<void> {
        const key = svc.metadata!.name!;
        const n = (this.attempts.get(key) ?? 0) + 1;
        this.attempts.set(key, n);
        const status = this.failures.get(key);
        if (status !== undefined && n === 1) throw Object.assign(new Error(`HTTP ${status}`), { status });
        return super.writeStatus(svc, ips, pool);
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

    it("another failure is retried a second later, without holding a write slot meanwhile", async () => {
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
      await jest.advanceTimersByTimeAsync(1000);
      expect(writer.attempts.get("flaky")).toBe(2);
      expect(ipOf(writer, "flaky")).toBeDefined();
    });
  });
});

