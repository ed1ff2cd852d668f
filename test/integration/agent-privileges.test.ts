/**
 * The node agent's privileges on the real API server (issue 15, deliverable 1):
 * - `kubectl auth can-i` lists what its ServiceAccount CAN do (each a call the agent's code
 *   makes) and a broad sample of what it CANNOT;
 * - the Lease policy (agentLeasePolicy) with real ServiceAccount tokens bound to Pods on two
 *   nodes: each token writes only its own node's Lease and the tie-breaker, in its own name;
 *   a token bound to no Pod writes no Lease at all.
 * No kubelet runs here: the Pods and Nodes are objects only, which is all TokenRequest needs.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyInstallManifests } from "../../capabilities/shared/kube/dev-install";
import {
  AGENT_NAME,
  agentLeasePolicyManifests,
  agentOptions,
  NODE_NAME_EXTRA,
} from "../../capabilities/shared/kube/agent-manifests";
import { readSettings } from "../../capabilities/shared/settings";
import { eventually, kubectl, kubectlOk } from "../harness/kubectl";

const ns = "metallb-system";
const agent = `system:serviceaccount:${ns}:${AGENT_NAME}`;
const [n1, n2] = ["ap-n1", "ap-n2"];
const podOf = (node: string) => `ap-agent-${node}`;
const leaseOf = (node: string) => `metallb-agent-${node}`;
const TIEBREAKER = "metallb-l2-tiebreaker";

const canI = async (args: string[]): Promise<boolean> =>
  (await kubectl(["auth", "can-i", ...args, `--as=${agent}`])).stdout.trim() === "yes";

describe("the agent's RBAC (kubectl auth can-i)", () => {
  beforeAll(async () => {
    await applyInstallManifests(readSettings());
    // RBAC changes reach the authorizer through its informer: wait for the current Role.
    await eventually(
      async () => ((await canI(["watch", "configmaps/metallb-l2-membership", "-n", ns])) ? true : undefined),
      "the agent Role",
      30_000,
    );
  });

  // Each is one call the agent makes (docs/install.md, "The agent's permissions").
  it.each([
    [["list", "services", "-A"]],
    [["watch", "services", "-A"]],
    [["list", "endpointslices.discovery.k8s.io", "-A"]],
    [["watch", "endpointslices.discovery.k8s.io", "-A"]],
    [["list", "nodes"]],
    [["watch", "nodes"]],
    [["create", "leases.coordination.k8s.io", "-n", ns]],
    [["get", "leases.coordination.k8s.io/metallb-agent-any", "-n", ns]],
    [["patch", "leases.coordination.k8s.io/metallb-agent-any", "-n", ns]],
    [["patch", `leases.coordination.k8s.io/${TIEBREAKER}`, "-n", ns]],
    [["watch", "servicel2statuses.metallb.io", "-n", ns]],
    [["list", "bgpsessions.metallb.io", "-n", ns]],
    [["patch", "bgpsessions.metallb.io", "--subresource=status", "-n", ns]],
    [["watch", "ipaddresspools.metallb.io", "-n", ns]],
    [["watch", "l2advertisements.metallb.io", "-n", ns]],
    [["watch", "bgpadvertisements.metallb.io", "-n", ns]],
    [["watch", "bgppeers.metallb.io", "-n", ns]],
    [["get", "bgppeers.metallb.io/router-a", "-n", ns]],
    [["watch", "communities.metallb.io", "-n", ns]],
    [["watch", "bfdprofiles.metallb.io", "-n", ns]],
    [["create", "configurationstates.metallb.io", "-n", ns]],
    [["patch", "configurationstates.metallb.io", "--subresource=status", "-n", ns]],
    [["get", "secrets/bgp-password", "-n", ns]],
    [["watch", "configmaps/metallb-l2-membership", "-n", ns]],
    [["watch", "secrets/metallb-l2-membership-key", "-n", ns]],
  ])("the agent CAN %j", async (args) => {
    expect(await canI(args)).toBe(true);
  });

  it.each([
    // Secrets: never listed, never outside its namespace, never written.
    [["list", "secrets", "-A"]],
    [["list", "secrets", "-n", ns]],
    [["watch", "secrets", "-n", ns]],
    [["get", "secrets/bgp-password", "-n", "default"]],
    [["get", "secrets", "-n", "kube-system"]],
    [["create", "secrets", "-n", ns]],
    [["update", "secrets/metallb-l2-membership-key", "-n", ns]],
    // Services: read only through list/watch; never written.
    [["get", "services/web", "-n", "default"]],
    [["patch", "services", "-n", "default"]],
    [["update", "services", "--subresource=status", "-n", "default"]],
    [["patch", "services", "--subresource=status", "-n", "default"]],
    [["create", "services", "-n", ns]],
    // Workloads and identities.
    [["create", "pods", "-n", ns]],
    [["create", "pods", "-n", "default"]],
    [["create", "pods", "--subresource=exec", "-n", ns]],
    [["create", "daemonsets.apps", "-n", ns]],
    [["patch", "daemonsets.apps/metallb-agent", "-n", ns]],
    [["create", "serviceaccounts", "--subresource=token", "-n", ns]],
    [["patch", "nodes"]],
    [["delete", "nodes"]],
    // RBAC and admission.
    [["create", "roles.rbac.authorization.k8s.io", "-n", ns]],
    [["patch", "roles.rbac.authorization.k8s.io/metallb-agent", "-n", ns]],
    [["bind", "roles.rbac.authorization.k8s.io/metallb-agent", "-n", ns]],
    [["create", "rolebindings.rbac.authorization.k8s.io", "-n", ns]],
    [["create", "clusterrolebindings.rbac.authorization.k8s.io"]],
    [["delete", "validatingadmissionpolicies.admissionregistration.k8s.io/metallb-agent-leases"]],
    [["create", "customresourcedefinitions.apiextensions.k8s.io"]],
    // Leases: no update (it patches), no delete, none outside its namespace, no listing.
    [["update", "leases.coordination.k8s.io/metallb-agent-any", "-n", ns]],
    [["delete", "leases.coordination.k8s.io/metallb-agent-any", "-n", ns]],
    [["list", "leases.coordination.k8s.io", "-n", ns]],
    [["create", "leases.coordination.k8s.io", "-n", "kube-node-lease"]],
    // Its view of the configuration is read-only; the controller's objects are the controller's.
    [["patch", "ipaddresspools.metallb.io", "-n", ns]],
    [["create", "servicel2statuses.metallb.io", "-n", ns]],
    [["patch", "servicel2statuses.metallb.io", "--subresource=status", "-n", ns]],
    [["list", "servicebgpstatuses.metallb.io", "-n", ns]],
    [["patch", "bgpsessions.metallb.io", "-n", ns]],
    [["delete", "configurationstates.metallb.io", "-n", ns]],
    [["list", "configmaps", "-n", ns]],
    [["get", "configmaps/some-other", "-n", ns]],
    [["create", "events", "-n", ns]],
  ])("the agent CANNOT %j", async (args) => {
    expect(await canI(args)).toBe(false);
  });
});

describe("the agent's Lease policy (ValidatingAdmissionPolicy, pod-bound tokens)", () => {
  const dir = mkdtempSync(join(tmpdir(), "agent-privileges-"));
  const file = (name: string, objects: object[]): string => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
    return path;
  };
  const policyFile = file("policy.json", agentLeasePolicyManifests(agentOptions(readSettings())));
  const tokens: Record<string, string> = {};
  const as = (token: string, args: string[], input?: string) => kubectl([...args, `--token=${token}`], input);

  const lease = (name: string, holder: string) => ({
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name, namespace: ns, annotations: { "metallb.io/down": "" } },
    spec: { holderIdentity: holder, leaseDurationSeconds: 30 },
  });
  const create = (token: string, obj: object) => as(token, ["create", "-f", "-"], JSON.stringify(obj));
  /** The agent's own kind of write: a JSON patch (lease.ts, tiebreaker.ts). */
  const patch = (token: string, name: string, ops: object[]) =>
    as(token, ["patch", "lease", name, "-n", ns, "--type=json", "-p", JSON.stringify(ops)]);
  const annotate = (token: string, name: string, down: string) =>
    patch(token, name, [{ op: "add", path: "/metadata/annotations", value: { "metallb.io/down": down } }]);
  const resourceVersion = async (name: string) =>
    kubectlOk(["get", "lease", name, "-n", ns, "-o", "jsonpath={.metadata.resourceVersion}"]);
  const casTiebreaker = async (token: string, holder: string) =>
    patch(token, TIEBREAKER, [
      { op: "test", path: "/metadata/resourceVersion", value: await resourceVersion(TIEBREAKER) },
      { op: "add", path: "/spec/holderIdentity", value: holder },
    ]);

  beforeAll(async () => {
    await applyInstallManifests(readSettings());
    await kubectlOk(["apply", "-f", policyFile]);
    const objects = [n1, n2].flatMap((node) => [
      { apiVersion: "v1", kind: "Node", metadata: { name: node } },
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: podOf(node), namespace: ns },
        spec: {
          nodeName: node,
          serviceAccountName: AGENT_NAME,
          automountServiceAccountToken: false,
          containers: [{ name: "agent", image: "registry.invalid/agent:never-pulled" }],
        },
      },
    ]);
    await kubectlOk(["apply", "-f", file("pods.json", objects)]);
    for (const node of [n1, n2])
      tokens[node] = (
        await kubectlOk([
          "create",
          "token",
          AGENT_NAME,
          "-n",
          ns,
          "--bound-object-kind=Pod",
          `--bound-object-name=${podOf(node)}`,
          "--duration=10m",
        ])
      ).trim();
    tokens.unbound = (await kubectlOk(["create", "token", AGENT_NAME, "-n", ns, "--duration=10m"])).trim();
    // n2's Lease and the tie-breaker exist already (written by the admin, whom the policy ignores).
    await kubectl(["delete", "lease", leaseOf(n1), leaseOf(n2), TIEBREAKER, "-n", ns, "--ignore-not-found"]);
    await kubectlOk(["create", "-f", "-"], JSON.stringify(lease(leaseOf(n2), n2)));
    await kubectlOk(["create", "-f", "-"], JSON.stringify(lease(TIEBREAKER, n2)));
    // The policy takes effect once the API server's policy informer has it: wait for a refusal.
    await eventually(
      async () => ((await annotate(tokens[n1]!, leaseOf(n2), "")).code !== 0 ? true : undefined),
      "the Lease policy in force",
      30_000,
    );
  });

  afterAll(async () => {
    await kubectl(["delete", "-f", policyFile, "--ignore-not-found"]);
    await kubectl(["delete", "lease", leaseOf(n1), leaseOf(n2), TIEBREAKER, "-n", ns, "--ignore-not-found"]);
    await kubectl(["delete", "-f", join(dir, "pods.json"), "--ignore-not-found", "--wait=false"]);
  });

  it(`a pod-bound token carries the node in ${NODE_NAME_EXTRA}; an unbound one does not`, async () => {
    const whoami = async (token: string) =>
      JSON.parse((await as(token, ["auth", "whoami", "-o", "json"])).stdout) as {
        status: { userInfo: { username: string; extra?: Record<string, string[]> } };
      };
    const bound = (await whoami(tokens[n1]!)).status.userInfo;
    expect(bound.username).toBe(agent);
    expect(bound.extra?.[NODE_NAME_EXTRA]).toEqual([n1]);
    expect(bound.extra?.["authentication.kubernetes.io/pod-name"]).toEqual([podOf(n1)]);
    const unbound = (await whoami(tokens.unbound!)).status.userInfo;
    expect(unbound.username).toBe(agent);
    expect(unbound.extra?.[NODE_NAME_EXTRA]).toBeUndefined();
  });

  it("n1's token creates and renews metallb-agent-n1, reporting other nodes down through it", async () => {
    expect(await create(tokens[n1]!, lease(leaseOf(n1), n1))).toMatchObject({ code: 0 });
    expect(await annotate(tokens[n1]!, leaseOf(n1), n2)).toMatchObject({ code: 0 });
    expect(await kubectlOk(["get", "lease", leaseOf(n1), "-n", ns, "-o", "jsonpath={.metadata.annotations}"])).toBe(
      JSON.stringify({ "metallb.io/down": n2 }),
    );
  });

  it("n1's token is refused on metallb-agent-n2 (patch and create), with the policy's message", async () => {
    const patched = await annotate(tokens[n1]!, leaseOf(n2), n2);
    expect(patched.code).not.toBe(0);
    expect(patched.stderr).toContain(`ValidatingAdmissionPolicy '${"metallb-agent-leases"}'`);
    expect(patched.stderr).toContain(
      `the agent on node ${n1} may write only Lease ${leaseOf(n1)} and ${TIEBREAKER}, and delete none; refused: UPDATE of ${leaseOf(n2)}`,
    );
    const other = await create(tokens[n1]!, lease(leaseOf("ap-n3"), n1));
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain(`refused: CREATE of ${leaseOf("ap-n3")}`);
  });

  it("n1's token may not claim its own Lease for another node", async () => {
    const r = await patch(tokens[n1]!, leaseOf(n1), [{ op: "replace", path: "/spec/holderIdentity", value: n2 }]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`the agent on node ${n1} may hold a Lease only in its own name, not ${n2}`);
  });

  it("each node's token can compare-and-swap the tie-breaker, in its own name only", async () => {
    expect(await casTiebreaker(tokens[n1]!, n1)).toMatchObject({ code: 0 });
    expect(await casTiebreaker(tokens[n2]!, n2)).toMatchObject({ code: 0 });
    const stale = await patch(tokens[n1]!, TIEBREAKER, [
      { op: "test", path: "/metadata/resourceVersion", value: "1" },
      { op: "add", path: "/spec/holderIdentity", value: n1 },
    ]);
    expect(stale.code).not.toBe(0); // the compare-and-swap itself still works
    const inAnotherName = await casTiebreaker(tokens[n1]!, n2);
    expect(inAnotherName.code).not.toBe(0);
    expect(inAnotherName.stderr).toContain(`may hold a Lease only in its own name, not ${n2}`);
  });

  it("a token bound to no Pod writes no Lease, not even one named after a node", async () => {
    for (const name of [leaseOf(n1), TIEBREAKER]) {
      const r = await annotate(tokens.unbound!, name, "");
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`a ServiceAccount token bound to its Pod on a node (no ${NODE_NAME_EXTRA}`);
    }
  });

  it("no token deletes a Lease (RBAC refuses before the policy)", async () => {
    const r = await as(tokens[n1]!, ["delete", "lease", leaseOf(n1), "-n", ns]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("forbidden");
  });

  it("the admin and other identities are not affected", async () => {
    expect(await kubectl(["annotate", "lease", leaseOf(n2), "-n", ns, "example=1", "--overwrite"])).toMatchObject({
      code: 0,
    });
  });
});
