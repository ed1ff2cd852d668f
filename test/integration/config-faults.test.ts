/**
 * A bad object disables only itself, and a restart while it is bad moves no address.
 *
 * The steps, against the real API server and module: three LoadBalancer
 * Services, a BGPAdvertisement that uses a Community alias, the Community deleted (with
 * the force annotation admission asks for), the controller killed and started again.
 * Before the configuration store, every Service got ClearAssignment and an empty status
 * on that restart, and came back renumbered when the Community was re-applied.
 */
import { crashModule, restartModule } from "../harness/module-process";
import { eventually, kubectl, kubectlOk, serviceIPs, deleteTestNamespace } from "../harness/kubectl";
import { testCluster } from "./global-setup";

const ns = "metallb-system";
const appNs = "faults-test";
const names = ["web", "keep1", "keep2"];

const yaml = (...objs: object[]) => objs.map((o) => JSON.stringify(o)).join("\n---\n");
const community = {
  apiVersion: "metallb.io/v1beta1",
  kind: "Community",
  metadata: { name: "faults-aliases", namespace: ns },
  spec: { communities: [{ name: "faults-tag", value: "65000:100" }] },
};
const service = (name: string) => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace: appNs },
  spec: { type: "LoadBalancer", ipFamilies: ["IPv6"], selector: { app: name }, ports: [{ port: 80, protocol: "TCP" }] },
});

const published = (): Promise<Map<string, string[]>> => serviceIPs(appNs);

async function controllerState(): Promise<{
  result?: string;
  errorSummary?: string;
  conditions?: Array<{ type: string; status: string; message: string }>;
}> {
  const r = await kubectl(["get", "configurationstate", "controller", "-n", ns, "-o", "json"]);
  return r.code === 0 ? (JSON.parse(r.stdout).status ?? {}) : {};
}

async function reasonsFor(kind: string, name: string, namespace: string): Promise<string[]> {
  const list = JSON.parse(
    await kubectlOk([
      "get",
      "events",
      "-n",
      namespace,
      "--field-selector",
      `involvedObject.kind=${kind},involvedObject.name=${name}`,
      "-o",
      "json",
    ]),
  );
  return list.items.map((e: { reason: string }) => e.reason);
}

afterAll(async () => {
  await deleteTestNamespace(appNs);
  await kubectl(["delete", "bgpadvertisement", "faults-ad", "-n", ns, "--ignore-not-found"]);
  await kubectl(["delete", "community", "faults-aliases", "-n", ns, "--ignore-not-found"]);
  await kubectl(["annotate", "ipaddresspool", "faults-pool", "-n", ns, "metallb.io/force-delete=true", "--overwrite"]);
  await kubectl(["delete", "ipaddresspool", "faults-pool", "-n", ns, "--ignore-not-found"]);
});

it("a dangling Community alias and a restart: every IP stays, only the advertisement is disabled", async () => {
  await kubectlOk(["create", "namespace", appNs]);
  await kubectlOk(
    ["apply", "-f", "-"],
    yaml(
      {
        apiVersion: "metallb.io/v1beta1",
        kind: "IPAddressPool",
        metadata: { name: "faults-pool", namespace: ns },
        spec: { addresses: ["2001:db8:c0f::/124"] },
      },
      community,
      {
        apiVersion: "metallb.io/v1beta1",
        kind: "BGPAdvertisement",
        metadata: { name: "faults-ad", namespace: ns },
        spec: { ipAddressPools: ["faults-pool"], communities: ["faults-tag"] },
      },
      ...names.map(service),
    ),
  );
  const before = await eventually(async () => {
    const now = await published();
    return names.every((n) => now.get(n)?.length === 1) ? now : undefined;
  }, "three Services to get an address");

  // The reference dangles: admission refuses this delete unless forced.
  const refused = await kubectl(["delete", "community", "faults-aliases", "-n", ns]);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain("faults-ad");
  await kubectlOk(["annotate", "community", "faults-aliases", "-n", ns, "metallb.io/force-delete=true"]);
  await kubectlOk(["delete", "community", "faults-aliases", "-n", ns]);

  const saved = await crashModule(testCluster.stateDir);
  await restartModule(saved, testCluster.stateDir);

  // The store reports the one bad object, by name and field, and what happens meanwhile.
  const state = await eventually(async () => {
    const s = await controllerState();
    return s.errorSummary?.includes('BGPAdvertisement "faults-ad"') ? s : undefined;
  }, "ConfigurationState to name the disabled advertisement");
  expect(state.result).toBe("Invalid");
  expect(state.errorSummary).toMatch(
    /BGPAdvertisement "faults-ad": spec\.communities\[0\].*faults-tag.*disabled until fixed/,
  );
  expect(state.conditions?.find((c) => c.type === "poolReconcilerValid")?.message ?? "").not.toContain("faults");
  await eventually(
    async () =>
      (await reasonsFor("BGPAdvertisement", "faults-ad", ns)).includes("InvalidConfiguration") ? true : undefined,
    "a Warning Event on the BGPAdvertisement",
  );

  // Allocation goes on with the pools, untouched by the advertisement.
  await kubectlOk(["apply", "-f", "-"], yaml(service("after")));
  const afterRestart = await eventually(async () => {
    const now = await published();
    return now.get("after")?.length === 1 ? now : undefined;
  }, "a new Service to get an address after the restart");
  for (const n of names) expect({ n, ips: afterRestart.get(n) }).toEqual({ n, ips: before.get(n) });
  expect(new Set([...afterRestart.values()].map((ips) => ips[0])).size).toBe(4);

  // Repaired: the state clears, and still nothing moved.
  await kubectlOk(["apply", "-f", "-"], yaml(community));
  await eventually(async () => {
    const s = await controllerState();
    return s.errorSummary?.includes("faults-ad") ? undefined : true;
  }, "ConfigurationState to clear once the Community is back");
  // The warning gets its answer: a Normal Event once the advertisement is in force again.
  await eventually(
    async () =>
      (await reasonsFor("BGPAdvertisement", "faults-ad", ns)).includes("ConfigurationInForce") ? true : undefined,
    "a Normal Event saying the advertisement is in force again",
  );
  const repaired = await published();
  for (const n of names) expect({ n, ips: repaired.get(n) }).toEqual({ n, ips: before.get(n) });
  for (const n of names) expect(await reasonsFor("Service", n, appNs)).not.toContain("ClearAssignment");
}, 300_000);

describe("an edit that makes an older pool overlap a newer one, made while the controller is down", () => {
  const pool = (name: string, addresses: string[]) => ({
    apiVersion: "metallb.io/v1beta1",
    kind: "IPAddressPool",
    metadata: { name, namespace: ns },
    spec: { addresses },
  });
  const onPool = (name: string, poolName: string) => {
    const s = service(name);
    return { ...s, metadata: { ...s.metadata, annotations: { "metallb.io/address-pool": poolName } } };
  };
  const validity = async (name: string): Promise<{ status?: string; observedGeneration?: number } | undefined> => {
    const r = await kubectl(["get", "ipaddresspool", name, "-n", ns, "-o", "json"]);
    if (r.code !== 0) return undefined;
    const obj = JSON.parse(r.stdout) as {
      status?: { conditions?: Array<{ type: string; status: string; observedGeneration?: number }> };
    };
    return obj.status?.conditions?.find((c) => c.type === "Valid");
  };

  afterAll(async () => {
    for (const name of ["on-old", "fresh-on-new"])
      await kubectl(["delete", "svc", name, "-n", appNs, "--ignore-not-found", "--wait=false"]);
    for (const name of ["faults-old", "faults-new"]) {
      await kubectl(["annotate", "ipaddresspool", name, "-n", ns, "metallb.io/force-delete=true", "--overwrite"]);
      await kubectl(["delete", "ipaddresspool", name, "-n", ns, "--ignore-not-found"]);
    }
  });

  it("after the restart the edited pool is the disabled one, not the newer pool that was fine", async () => {
    await kubectl(["create", "namespace", appNs]);
    await kubectlOk(
      ["apply", "-f", "-"],
      yaml(pool("faults-old", ["2001:db8:c2f::/124"]), onPool("on-old", "faults-old")),
    );
    // Created in a later second, so by creation time "faults-new" is the newer of the two.
    await new Promise((r) => setTimeout(r, 1_100));
    await kubectlOk(["apply", "-f", "-"], yaml(pool("faults-new", ["2001:db8:c3f::/124"])));
    const held = await eventually(async () => {
      const ips = (await published()).get("on-old");
      return ips?.length === 1 ? ips : undefined;
    }, "on-old to get an address");
    await eventually(
      async () =>
        (await validity("faults-new"))?.observedGeneration === 1 && (await validity("faults-old"))?.status === "True"
          ? true
          : undefined,
      "both pools to be judged valid in their status",
    );

    const saved = await crashModule(testCluster.stateDir);
    // Admission is down with the module: the bad edit gets in.
    await kubectlOk(["apply", "-f", "-"], yaml(pool("faults-old", ["2001:db8:c2f::/124", "2001:db8:c3f::8/125"])));
    await restartModule(saved, testCluster.stateDir);

    // Nothing in memory says which pool worked; the status conditions do.
    const judged = await eventually(async () => {
      const v = await validity("faults-old");
      return v?.status === "False" && v.observedGeneration === 2 ? v : undefined;
    }, "the edited pool to be marked not Valid");
    expect(judged.status).toBe("False");
    expect((await validity("faults-new"))?.status).toBe("True");

    // The newer pool keeps handing out addresses; the edited one keeps what it holds.
    await kubectlOk(["apply", "-f", "-"], yaml(onPool("fresh-on-new", "faults-new")));
    const after = await eventually(async () => {
      const now = await published();
      return now.get("fresh-on-new")?.length === 1 ? now : undefined;
    }, "a Service asking for the newer pool to get an address");
    expect(after.get("fresh-on-new")![0]).toMatch(/^2001:db8:c3f::/);
    expect(after.get("on-old")).toEqual(held);
  }, 300_000);
});
