/**
 * The allocator end to end on the real API server: what a user sees in
 * `kubectl get svc`, annotations, Events and pool status.
 */
import { eventually, kubectl, kubectlOk } from "../harness/kubectl";

const ns = "metallb-system";
const appNs = "alloc-test";

interface Svc {
  metadata: { name: string; annotations?: Record<string, string> };
  status?: { loadBalancer?: { ingress?: Array<{ ip: string }> } };
}

const yaml = (objects: object[]) => objects.map((o) => JSON.stringify(o)).join("\n---\n");

const pool = (name: string, addresses: string[], extra: Record<string, unknown> = {}) => ({
  apiVersion: "metallb.io/v1beta1",
  kind: "IPAddressPool",
  metadata: { name, namespace: ns },
  spec: { addresses, ...extra },
});

const service = (
  name: string,
  opts: { annotations?: Record<string, string>; spec?: Record<string, unknown> } = {},
) => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace: appNs, annotations: opts.annotations ?? {} },
  spec: {
    type: "LoadBalancer",
    selector: { app: name },
    ports: [{ name: "http", port: 80, protocol: "TCP" }],
    ...opts.spec,
  },
});

async function getSvc(name: string): Promise<Svc> {
  return JSON.parse(await kubectlOk(["get", "svc", name, "-n", appNs, "-o", "json"]));
}

const ips = (s: Svc) => (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip);

async function ipsOf(name: string, count = 1): Promise<string[]> {
  return eventually(async () => {
    const got = ips(await getSvc(name));
    return got.length >= count ? got : undefined;
  }, `service ${name} to get ${count} IP(s)`);
}

async function eventsFor(name: string): Promise<string> {
  return kubectlOk([
    "get",
    "events",
    "-n",
    appNs,
    "--field-selector",
    `involvedObject.name=${name}`,
    "-o",
    "custom-columns=REASON:.reason,MESSAGE:.message",
    "--no-headers",
  ]);
}

const apply = (objects: object[]) => kubectlOk(["apply", "-f", "-"], yaml(objects));

beforeAll(async () => {
  await kubectl(["create", "namespace", appNs]);
});

/** Every pool goes; admission refuses deleting one whose addresses Services (of any test) hold, unless forced. */
async function deleteAllPools(): Promise<void> {
  await kubectlOk(["annotate", "ipaddresspools", "--all", "-n", ns, "metallb.io/force-delete=true", "--overwrite"]);
  await kubectlOk(["delete", "ipaddresspools", "--all", "-n", ns]);
}

afterAll(async () => {
  await kubectl(["delete", "svc", "--all", "-n", appNs, "--wait=false"]);
  await deleteAllPools().catch(() => undefined);
});

afterEach(async () => {
  await kubectlOk(["delete", "svc", "--all", "-n", appNs]);
  await deleteAllPools();
});

describe("allocation", () => {
  it("gives the lowest free address, names the pool, and records an Event", async () => {
    await apply([pool("alloc-a", ["198.51.100.10-198.51.100.12"])]);
    await apply([service("first")]);
    expect(await ipsOf("first")).toEqual(["198.51.100.10"]);
    const svc = await getSvc("first");
    expect(svc.metadata.annotations?.["metallb.io/ip-allocated-from-pool"]).toBe("alloc-a");
    await eventually(
      async () => ((await eventsFor("first")).includes("IPAllocated") ? true : undefined),
      "IPAllocated event",
    );
    await apply([service("second")]);
    expect(await ipsOf("second")).toEqual(["198.51.100.11"]);
  });

  it("honours a requested IP and a pool annotation", async () => {
    await apply([pool("alloc-a", ["198.51.100.0/28"]), pool("alloc-b", ["203.0.113.0/28"], { autoAssign: false })]);
    await apply([
      service("wants-ip", { annotations: { "metallb.io/loadBalancerIPs": "198.51.100.7" } }),
      service("wants-pool", { annotations: { "metallb.io/address-pool": "alloc-b" } }),
    ]);
    expect(await ipsOf("wants-ip")).toEqual(["198.51.100.7"]);
    expect(await ipsOf("wants-pool")).toEqual(["203.0.113.0"]);
  });

  it("never gives one address to two Services that do not share", async () => {
    await apply([pool("alloc-tiny", ["198.51.100.20/32"])]);
    await apply([service("holder")]);
    expect(await ipsOf("holder")).toEqual(["198.51.100.20"]);
    await apply([service("waiter")]);
    await eventually(
      async () => ((await eventsFor("waiter")).includes("AllocationFailed") ? true : undefined),
      "AllocationFailed event",
    );
    expect(ips(await getSvc("waiter"))).toEqual([]);
    // Freeing the address lets the pending Service through.
    await kubectlOk(["delete", "svc", "holder", "-n", appNs]);
    expect(await ipsOf("waiter")).toEqual(["198.51.100.20"]);
  });

  it("shares an address between Services with the same key and distinct ports", async () => {
    await apply([pool("alloc-share", ["198.51.100.30/31"])]);
    const key = { "metallb.io/allow-shared-ip": "web", "metallb.io/loadBalancerIPs": "198.51.100.31" };
    await apply([
      service("share-http", { annotations: key }),
      service("share-https", { annotations: key, spec: { ports: [{ name: "https", port: 443, protocol: "TCP" }] } }),
    ]);
    expect(await ipsOf("share-http")).toEqual(["198.51.100.31"]);
    expect(await ipsOf("share-https")).toEqual(["198.51.100.31"]);
  });

  it("gives a RequireDualStack Service one address of each family from one pool", async () => {
    await apply([pool("alloc-dual", ["198.51.100.40/30", "2001:db8:40::/126"])]);
    await apply([service("dual", { spec: { ipFamilyPolicy: "RequireDualStack", ipFamilies: ["IPv4", "IPv6"] } })]);
    expect((await ipsOf("dual", 2)).sort()).toEqual(["198.51.100.40", "2001:db8:40::"]);
  });

  it("moves Services off a removed pool and clears what cannot be placed", async () => {
    await apply([pool("alloc-old", ["198.51.100.50/32"]), pool("alloc-new", ["198.51.100.60/32"])]);
    await apply([service("mover", { annotations: { "metallb.io/address-pool": "alloc-old" } })]);
    expect(await ipsOf("mover")).toEqual(["198.51.100.50"]);
    // Admission refuses deleting a pool whose address a Service holds, unless forced.
    await kubectlOk(["annotate", "ipaddresspool", "alloc-old", "-n", ns, "metallb.io/force-delete=true"]);
    await kubectlOk(["delete", "ipaddresspool", "alloc-old", "-n", ns]);
    await eventually(
      async () => (ips(await getSvc("mover")).length === 0 ? true : undefined),
      "the IP of a removed pool to be cleared",
    );
  });

  it("places Services by namespace labels, even in a namespace created together with the Service", async () => {
    await apply([
      pool("alloc-team", ["198.51.100.80/30"], {
        serviceAllocation: { priority: 1, namespaceSelectors: [{ matchLabels: { team: "blue" } }] },
      }),
      pool("alloc-rest", ["198.51.100.90/31"]),
    ]);
    // A fresh name each run: namespaces are never fully deleted here (no controller-manager).
    const teamNs = `alloc-team-${Date.now().toString(36)}`;
    // One apply: the namespace and its Service reach the controller on different watches,
    // and the Service must not be placed before its namespace's labels are known.
    await kubectlOk(
      ["apply", "-f", "-"],
      yaml([
        { apiVersion: "v1", kind: "Namespace", metadata: { name: teamNs, labels: { team: "blue" } } },
        { ...service("blue"), metadata: { name: "blue", namespace: teamNs } },
      ]),
    );
    const blue = await eventually(async () => {
      const svc: Svc = JSON.parse(await kubectlOk(["get", "svc", "blue", "-n", teamNs, "-o", "json"]));
      return ips(svc).length ? svc : undefined;
    }, "the Service in the labelled namespace to get an IP");
    expect(blue.metadata.annotations?.["metallb.io/ip-allocated-from-pool"]).toBe("alloc-team");
    expect(ips(blue)).toEqual(["198.51.100.80"]);
    await apply([service("plain")]); // alloc-test has no team label
    expect(await ipsOf("plain")).toEqual(["198.51.100.90"]);
    await kubectlOk(["delete", "svc", "blue", "-n", teamNs]);
  });

  it("keeps IPAddressPool status current", async () => {
    await apply([pool("alloc-status", ["198.51.100.64/30"])]);
    await apply([service("counted")]);
    await ipsOf("counted");
    const status = await eventually(async () => {
      const out = JSON.parse(await kubectlOk(["get", "ipaddresspool", "alloc-status", "-n", ns, "-o", "json"]));
      return out.status?.assignedIPv4 === 1 ? out.status : undefined;
    }, "pool status to count the assignment");
    expect(status).toMatchObject({ assignedIPv4: 1, availableIPv4: 3, assignedIPv6: 0, availableIPv6: 0 });
  });
});

describe("Service admission", () => {
  beforeEach(() => apply([pool("adm-pool", ["198.51.100.80/29"])]));

  it("refuses an unparseable requested IP", async () => {
    const r = await kubectl(
      ["apply", "-f", "-"],
      yaml([service("bad-ip", { annotations: { "metallb.io/loadBalancerIPs": "198.51.100.999" } })]),
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("198.51.100.999");
  });

  it("refuses the annotation together with spec.loadBalancerIP", async () => {
    const r = await kubectl(
      ["apply", "-f", "-"],
      yaml([
        service("both", {
          annotations: { "metallb.io/loadBalancerIPs": "198.51.100.81" },
          spec: { loadBalancerIP: "198.51.100.82" },
        }),
      ]),
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/loadBalancerIP/);
  });

  it("admits a request that would stay pending, with a warning kubectl prints", async () => {
    const r = await kubectl(
      ["apply", "-f", "-"],
      yaml([service("unknown-pool", { annotations: { "metallb.io/address-pool": "no-such-pool" } })]),
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/Warning: .*no-such-pool/);
  });
});
