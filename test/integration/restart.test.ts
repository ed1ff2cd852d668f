/**
 * A controller crash in the middle of creating 1,000 Services: after the
 * restart no address is duplicated, no address already shown to a user has
 * changed, and every Service ends up with an address.
 */
import { crashModule, restartModule } from "../harness/module-process";
import { eventually, kubectl, kubectlOk, serviceIPs, deleteTestNamespace } from "../harness/kubectl";
import { testCluster } from "./global-setup";

const ns = "metallb-system";
const appNs = "restart-test";
const total = 1000;
const batch = 100;

const servicesYaml = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) =>
    JSON.stringify({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: `svc-${from + i}`, namespace: appNs },
      spec: {
        type: "LoadBalancer",
        ipFamilies: ["IPv6"],
        selector: { app: "x" },
        ports: [{ port: 80, protocol: "TCP" }],
      },
    }),
  ).join("\n---\n");

const assigned = (): Promise<Map<string, string[]>> => serviceIPs(appNs);

afterAll(async () => {
  await deleteTestNamespace(appNs);
  await kubectl(["delete", "ipaddresspool", "restart-pool", "-n", ns]);
});

it("restart mid-creation: no duplicate, no moved IP, every Service served", async () => {
  await kubectlOk(["create", "namespace", appNs]);
  await kubectlOk(
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "metallb.io/v1beta1",
      kind: "IPAddressPool",
      metadata: { name: "restart-pool", namespace: ns },
      spec: { addresses: ["2001:db8:ff::/118"] }, // documentation prefix, 1,024 addresses
    }),
  );

  const crashAfter = 3 * batch;
  for (let from = 0; from < crashAfter; from += batch)
    await kubectlOk(["create", "-f", "-"], servicesYaml(from, from + batch));
  // Let some, not necessarily all, of the first Services be published.
  await eventually(
    async () => ([...(await assigned()).values()].filter((ips) => ips.length).length >= 50 ? true : undefined),
    "first IPs",
  );

  const saved = await crashModule(testCluster.stateDir);
  const beforeCrash = await assigned();
  const publishedBefore = [...beforeCrash].filter(([, ips]) => ips.length > 0);
  expect(publishedBefore.length).toBeGreaterThan(0);

  // Creation goes on while the controller is down.
  for (let from = crashAfter; from < total; from += batch)
    await kubectlOk(["create", "-f", "-"], servicesYaml(from, from + batch));

  await restartModule(saved, testCluster.stateDir);

  const after = await eventually(
    async () => {
      const now = await assigned();
      return [...now.values()].every((ips) => ips.length === 1) && now.size === total ? now : undefined;
    },
    "every Service to get an IP after the restart",
    180_000,
  );

  for (const [name, ips] of publishedBefore) expect({ name, ips: after.get(name) }).toEqual({ name, ips });
  const all = [...after.values()].map((ips) => ips[0]);
  expect(new Set(all).size).toBe(total);
}, 600_000);
