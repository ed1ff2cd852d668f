/**
 * The foundation against the real API server: CRDs installed by the controller,
 * examples apply, `kubectl get` shows the columns operators rely on, and bad
 * objects are refused through the real admission webhook path.
 */
import { readdirSync } from "node:fs";
import { Agent, get } from "node:https";
import type { Socket } from "node:net";
import { sleep } from "../harness/wait";
import { join } from "node:path";
import { kubectl, kubectlOk } from "../harness/kubectl";
import { repoRoot } from "../harness/local-cluster";

const ns = "metallb-system";

describe("CRDs installed (here by pepr dev at start-up; in a cluster by the manifest)", () => {
  it.each([
    "ipaddresspools",
    "l2advertisements",
    "bgpadvertisements",
    "bgppeers",
    "bfdprofiles",
    "communities",
    "servicel2statuses",
    "servicebgpstatuses",
    "configurationstates",
    "bgpsessions",
  ])("%s.metallb.io is Established", async (plural) => {
    const out = await kubectlOk([
      "get",
      "crd",
      `${plural}.metallb.io`,
      "-o",
      "jsonpath={.status.conditions[?(@.type=='Established')].status}",
    ]);
    expect(out).toBe("True");
  });

  it("creates the configuration namespace with the privileged Pod Security level", async () => {
    const out = await kubectlOk([
      "get",
      "ns",
      ns,
      "-o",
      "jsonpath={.metadata.labels.pod-security\\.kubernetes\\.io/enforce}",
    ]);
    expect(out).toBe("privileged");
  });
});

describe("examples/", () => {
  afterAll(async () => {
    // One delete of objects that use each other: admission refuses a pool a Service holds
    // or an advertisement names, unless forced.
    await kubectl(["annotate", "-f", join(repoRoot, "examples"), "metallb.io/force-delete=true", "--overwrite"]);
    await kubectl(["delete", "-f", join(repoRoot, "examples"), "--ignore-not-found", "--wait=false"]);
  });

  it("every file applies cleanly", async () => {
    const files = readdirSync(join(repoRoot, "examples")).filter((f) => f.endsWith(".yaml"));
    expect(files.length).toBeGreaterThan(0);
    const out = await kubectlOk(["apply", "-f", join(repoRoot, "examples")]);
    expect(out).not.toMatch(/error/i);
    expect(out).toMatch(/ipaddresspool\.metallb\.io\/\S+ (created|configured|unchanged)/);
  });

  it("kubectl get ipaddresspools shows MetalLB's columns", async () => {
    const out = await kubectlOk(["get", "ipaddresspools", "-n", ns]);
    expect(out.split("\n")[0]).toMatch(/^NAME\s+AUTO ASSIGN\s+AVOID BUGGY IPS\s+ADDRESSES/);
  });

  it("a v1beta1 BGPPeer still applies and is served as v1beta2", async () => {
    const out = await kubectlOk(["get", "bgppeers.v1beta2.metallb.io", "-n", ns, "-o", "name"]);
    expect(out.trim().split("\n").length).toBeGreaterThanOrEqual(2);
  });
});

describe("kubectl get bgpsessions", () => {
  const session = `
apiVersion: metallb.io/v1beta1
kind: BGPSession
metadata: {name: node-a-router, namespace: ${ns}}
spec: {node: node-a, peer: router, peerAddress: 192.0.2.1, peerASN: 64512, myASN: 64513}
`;
  afterAll(() => kubectl(["delete", "bgpsession", "node-a-router", "-n", ns, "--ignore-not-found"]));

  it("shows Node, Peer, Address, ASN, State, BFD, Uptime, Advertised, Received, Age", async () => {
    await kubectlOk(["apply", "-f", "-"], session);
    await kubectlOk([
      "patch",
      "bgpsession",
      "node-a-router",
      "-n",
      ns,
      "--subresource=status",
      "--type=merge",
      "-p",
      JSON.stringify({
        status: {
          state: "Established",
          bfd: { state: "Up" },
          since: new Date().toISOString(),
          advertisedPrefixes: 3,
          receivedPrefixes: 0,
        },
      }),
    ]);
    const [header, row] = (await kubectlOk(["get", "bgpsessions", "-n", ns])).trim().split("\n");
    expect(header).toMatch(/^NAME\s+NODE\s+PEER\s+ADDRESS\s+ASN\s+STATE\s+BFD\s+UPTIME\s+ADVERTISED\s+RECEIVED\s+AGE/);
    expect(row).toMatch(/^node-a-router\s+node-a\s+router\s+192\.0\.2\.1\s+64512\s+Established\s+Up\s+\S+\s+3\s+0\s+/);
  });
});

describe("admission through the real webhook", () => {
  it("refuses a malformed CIDR with a message naming the field and value", async () => {
    const bad = `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: broken, namespace: ${ns}}
spec: {addresses: ["192.0.2.300/24"]}
`;
    const r = await kubectl(["apply", "-f", "-"], bad);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("admission webhook");
    expect(r.stderr).toContain("192.0.2.300/24");
    const get = await kubectl(["get", "ipaddresspool", "broken", "-n", ns]);
    expect(get.code).not.toBe(0);
  });

  it("refuses configuration objects outside the configuration namespace", async () => {
    const r = await kubectl(
      ["apply", "-f", "-"],
      `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: elsewhere, namespace: default}
spec: {addresses: ["198.51.100.0/28"]}
`,
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`resource must be created in ${ns} namespace`);
  });
});

describe("the webhook server", () => {
  // The API server reuses an idle webhook connection for up to 90 s. If the module closed
  // it after Node's default 5 s, a create arriving at that moment would be reset and refused.
  it("keeps an idle kept-alive connection open past Node's 5 s default", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const healthz = () =>
      new Promise<Socket>((resolve, reject) => {
        const req = get(
          { host: "localhost", port: 3000, path: "/healthz", agent, rejectUnauthorized: false },
          (res) => {
            res.resume();
            res.on("end", () =>
              res.statusCode === 200 ? resolve(req.socket!) : reject(new Error(`HTTP ${res.statusCode}`)),
            );
          },
        );
        req.on("error", reject);
      });
    try {
      const first = await healthz();
      await sleep(6_500);
      const second = await healthz();
      expect(second).toBe(first); // one TCP connection served both requests
    } finally {
      agent.destroy();
    }
  });
});
