/**
 * `metallb-pepr preflight` against the real API server, as a user runs it before
 * migrating: the CLI from the checkout, KUBECONFIG pointing at the test cluster.
 *
 * The objects live in kube-system, where Pepr's webhooks never look (its ignored
 * namespaces) and the running module reads nothing: so a BGPPeer that admission would
 * refuse in metallb-system can exist, as it does on a cluster still running MetalLB.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { kubectl, kubectlOk } from "../harness/kubectl";

const ns = "kube-system";
const bin = join(__dirname, "..", "..", "bin", "metallb-pepr.js");

const meta = (name: string) => ({ name, namespace: ns });
const pool = {
  apiVersion: "metallb.io/v1beta1",
  kind: "IPAddressPool",
  metadata: meta("preflight-web"),
  spec: { addresses: ["198.51.100.240/28"], autoAssign: false },
};
const peerInVrf = {
  apiVersion: "metallb.io/v1beta2",
  kind: "BGPPeer",
  metadata: meta("preflight-vrf"),
  spec: { myASN: 64512, peerASN: 64513, peerAddress: "192.0.2.1", vrf: "red" },
};
const advertisement = {
  apiVersion: "metallb.io/v1beta1",
  kind: "BGPAdvertisement",
  metadata: meta("preflight-ad"),
  spec: { ipAddressPools: ["preflight-web"], peers: ["preflight-vrf"] },
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const preflight = (...args: string[]): Promise<Run> =>
  new Promise((resolve) => {
    execFile(process.execPath, [bin, "preflight", ...args], { env: process.env }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });

const objects = [pool, peerInVrf, advertisement];

beforeAll(async () => {
  await kubectlOk(["apply", "-f", "-"], objects.map((o) => JSON.stringify(o)).join("\n---\n"));
});

afterAll(async () => {
  for (const o of objects) {
    await kubectl(["delete", `${o.kind.toLowerCase()}s.metallb.io`, "-n", ns, o.metadata.name, "--ignore-not-found"]);
  }
});

describe("metallb-pepr preflight on a live cluster", () => {
  it("names what is refused and why, what works with a warning, and exits 1", async () => {
    const r = await preflight("-n", ns);
    expect(r.stderr).toContain(`reading metallb.io objects in namespace ${ns} from https://127.0.0.1:`);
    expect(r.stdout.split("\n")).toEqual(
      expect.arrayContaining([
        "IPAddressPool/preflight-web: ok",
        "BGPAdvertisement/preflight-ad: works, with a warning",
        "BGPPeer/preflight-vrf: REFUSED",
        expect.stringMatching(/^ {4}spec\.vrf: vrf "red" is not supported by metallb-pepr; .*remove spec\.vrf/),
        `3 objects in ${ns}: 1 ok, 1 with warnings, 1 refused`,
      ]),
    );
    expect(r.code).toBe(1);
  });

  it("exits 0 once nothing is refused", async () => {
    await kubectlOk(["delete", "bgppeers.metallb.io", "-n", ns, "preflight-vrf"]);
    const r = await preflight("-n", ns);
    expect(r.stdout).toContain(`2 objects in ${ns}: 1 ok, 1 with warnings, 0 refused`);
    expect(r.code).toBe(0);
  });

  it("an unreachable API server is one line and exit 3", async () => {
    const r = await new Promise<Run>((resolve) => {
      execFile(
        process.execPath,
        [bin, "preflight"],
        { env: { ...process.env, KUBECONFIG: "/nonexistent/kubeconfig" } },
        (err, stdout, stderr) => resolve({ code: typeof err?.code === "number" ? err.code : 0, stdout, stderr }),
      );
    });
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});
