/**
 * What admission refuses so that an IP never moves or disappears by accident, through
 * the real webhook: pools covering a whole address family, deletes that would leave a
 * reference in use dangling (until metallb.io/force-delete), and a pool whose
 * addresses Services hold.
 */
import { eventually, kubectl, kubectlOk } from "../harness/kubectl";

const ns = "metallb-system";
const appNs = "guard-test";

const yaml = (objects: object[]) => objects.map((o) => JSON.stringify(o)).join("\n---\n");
const apply = (objects: object[]) => kubectlOk(["apply", "-f", "-"], yaml(objects));
const meta = (name: string) => ({ name, namespace: ns });

const pool = (name: string, addresses: string[]) => ({
  apiVersion: "metallb.io/v1beta1",
  kind: "IPAddressPool",
  metadata: meta(name),
  spec: { addresses, autoAssign: false },
});

const force = (plural: string, name: string) =>
  kubectl(["annotate", `${plural}.metallb.io`, "-n", ns, name, "metallb.io/force-delete=true", "--overwrite"]);

beforeAll(async () => {
  await kubectl(["create", "namespace", appNs]);
});

afterAll(async () => {
  await kubectl(["delete", "svc", "guard-web", "-n", appNs, "--ignore-not-found"]);
  await kubectl(["delete", "bgpadvertisements.metallb.io", "guard-ad", "-n", ns, "--ignore-not-found"]);
  for (const [plural, name] of [
    ["communities", "guard-aliases"],
    ["ipaddresspools", "guard-pool"],
  ]) {
    await force(plural, name);
    await kubectl(["delete", `${plural}.metallb.io`, name, "-n", ns, "--ignore-not-found"]);
  }
});

it("refuses a pool that covers the whole IPv4 address space, saying why and what to write", async () => {
  const r = await kubectl(["apply", "-f", "-"], yaml([pool("guard-everything", ["0.0.0.0/0"])]));
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain(
    'IPAddressPool "guard-everything": spec.addresses[0] "0.0.0.0/0" covers the whole IPv4 address space; list only the addresses Services may receive',
  );
  expect((await kubectl(["get", "ipaddresspool", "guard-everything", "-n", ns])).code).not.toBe(0);
});

it("refuses deleting a Community an advertisement uses, naming it; the annotation lets it go", async () => {
  await apply([
    {
      apiVersion: "metallb.io/v1beta1",
      kind: "Community",
      metadata: meta("guard-aliases"),
      spec: { communities: [{ name: "guard-no-export", value: "65535:65281" }] },
    },
    {
      apiVersion: "metallb.io/v1beta1",
      kind: "BGPAdvertisement",
      metadata: meta("guard-ad"),
      spec: { ipAddressPools: ["guard-none"], communities: ["guard-no-export"] },
    },
  ]);
  const refused = await kubectl(["delete", "communities.metallb.io", "guard-aliases", "-n", ns]);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain(
    'its alias "guard-no-export" is used in spec.communities of BGPAdvertisement "guard-ad"',
  );
  expect(refused.stderr).toContain(
    "kubectl annotate communities.metallb.io -n metallb-system guard-aliases metallb.io/force-delete=true",
  );
  await kubectlOk(["get", "communities.metallb.io", "guard-aliases", "-n", ns]);

  expect((await force("communities", "guard-aliases")).code).toBe(0);
  const forced = await kubectl(["delete", "communities.metallb.io", "guard-aliases", "-n", ns]);
  expect(forced.code).toBe(0);
  // kubectl prints admission warnings on stderr.
  expect(forced.stderr).toContain('allowed (metallb.io/force-delete is "true") although its alias "guard-no-export"');
  await kubectlOk(["delete", "bgpadvertisements.metallb.io", "guard-ad", "-n", ns]);
});

it("refuses deleting or shrinking a pool whose address a Service holds, naming the Service", async () => {
  await apply([pool("guard-pool", ["203.0.113.224/28"])]);
  await apply([
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "guard-web", namespace: appNs, annotations: { "metallb.io/address-pool": "guard-pool" } },
      spec: { type: "LoadBalancer", selector: { app: "guard-web" }, ports: [{ port: 80, protocol: "TCP" }] },
    },
  ]);
  const ip = await eventually(async () => {
    const svc = JSON.parse(await kubectlOk(["get", "svc", "guard-web", "-n", appNs, "-o", "json"]));
    return svc.status?.loadBalancer?.ingress?.[0]?.ip as string | undefined;
  }, "guard-web to get an address from guard-pool");
  expect(ip).toBe("203.0.113.224");

  const deleted = await kubectl(["delete", "ipaddresspools.metallb.io", "guard-pool", "-n", ns]);
  expect(deleted.code).not.toBe(0);
  expect(deleted.stderr).toContain(
    'IPAddressPool "guard-pool": failed to delete IPAddressPool "guard-pool": 1 Service holds its addresses: guard-test/guard-web 203.0.113.224',
  );

  const shrunk = await kubectl(["apply", "-f", "-"], yaml([pool("guard-pool", ["203.0.113.232/29"])]));
  expect(shrunk.code).not.toBe(0);
  expect(shrunk.stderr).toContain(
    'IPAddressPool "guard-pool": spec.addresses: the change takes addresses away from 1 Service: guard-test/guard-web 203.0.113.224',
  );
  await kubectlOk(["get", "ipaddresspools.metallb.io", "guard-pool", "-n", ns]);
});
