/**
 * Shipping: what `npm run build` generates (Pepr's objects and the install objects: the
 * namespace, CRDs, agent and its Lease policy) is accepted by a real API server, the
 * controller's and the agent's RBAC are least privilege (kubectl auth can-i, CAN and
 * CANNOT), and the controller's metrics are served on Pepr's /metrics.
 *
 * The global setup builds into .lab/pepr-build (inside the repo, so the bundle
 * resolves pepr from node_modules) before pepr dev starts, never into the dist/
 * that pepr dev runs from; PEPR_BUILD_DIR names it.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { execFile } from "node:child_process";
import { request } from "node:https";
import { promisify } from "node:util";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { agentManifests, agentOptions } from "../../capabilities/shared/kube/agent-manifests";
import { applyInstallManifests } from "../../capabilities/shared/kube/dev-install";
import { CRD_NAMES } from "../../crds/manifests";
import { readSettings } from "../../capabilities/shared/settings";
import { eventually, kubectl, kubectlOk } from "../harness/kubectl";
import { repoRoot } from "../harness/local-cluster";

const run = promisify(execFile);
const ns = "metallb-system";
const agent = `system:serviceaccount:${ns}:metallb-agent`;

/** Where global setup ran `pepr build` (before pepr dev started: see there for why), and the module manifest it wrote, as objects. */
const buildDir = process.env.PEPR_BUILD_DIR ?? join(repoRoot, ".lab", "pepr-build");
const moduleManifest = () =>
  parseAllDocuments(readFileSync(join(buildDir, "pepr-module-metallb-pepr.yaml"), "utf8")).map((d) => d.toJS());

describe("npm run build output", () => {
  it("every Kubernetes manifest passes server-side dry-run", async () => {
    const files = readdirSync(buildDir).filter((f) => f.endsWith(".yaml"));
    const manifests = files.filter((f) =>
      parseAllDocuments(readFileSync(join(buildDir, f), "utf8")).every((d) => {
        const o = d.toJS();
        return o?.apiVersion && o?.kind && !String(o.kind).startsWith("Zarf"); // zarf.yaml is a package, not a manifest
      }),
    );
    expect(manifests).toContain("pepr-module-metallb-pepr.yaml");
    for (const f of manifests) {
      // `pepr dev` already registered webhooks (url-based) under Pepr's field manager
      // "pepr"; applying as that manager, as `pepr deploy` does, replaces them cleanly.
      const r = await kubectl([
        "apply",
        "--server-side",
        "--field-manager=pepr",
        "--force-conflicts",
        "--dry-run=server",
        "-f",
        join(buildDir, f),
      ]);
      expect({ file: f, code: r.code, stderr: r.stderr }).toEqual({ file: f, code: 0, stderr: "" });
    }
  });

  it("the controller's ClusterRole is scoped: no wildcards, nothing it only needs in metallb-system", () => {
    const docs = moduleManifest();
    const role = docs.find((o) => o.kind === "ClusterRole" && o.metadata.name === "pepr-metallb-pepr");
    for (const rule of role.rules) {
      expect([...rule.apiGroups, ...rule.resources, ...rule.verbs]).not.toContain("*");
      // Secrets, ConfigMaps and metallb.io objects are granted by the Role in metallb-system.
      expect({ rule, cluster: rule.resources }).toEqual({
        rule,
        cluster: rule.resources.filter((r: string) => !["secrets", "configmaps"].includes(r)),
      });
      expect(rule.apiGroups).not.toContain("metallb.io");
    }
    const namespaced = docs.find((o) => o.kind === "Role" && o.metadata.name === "metallb-controller");
    expect(namespaced.metadata.namespace).toBe(ns);
  });
});

describe("the manifest installs everything; the controller can install nothing", () => {
  const controller = "system:serviceaccount:pepr-system:pepr-metallb-pepr";
  const canController = async (args: string[]): Promise<boolean> =>
    (await kubectl(["auth", "can-i", ...args, `--as=${controller}`])).stdout.trim() === "yes";
  let rbacFile = "";

  beforeAll(async () => {
    // The controller's identity as the manifest binds it (pepr dev itself runs as admin).
    const rbac = moduleManifest().filter(
      (o) =>
        ((o.kind === "ClusterRole" || o.kind === "ClusterRoleBinding") && o.metadata.name === "pepr-metallb-pepr") ||
        ((o.kind === "Role" || o.kind === "RoleBinding") && o.metadata.name === "metallb-controller"),
    );
    expect(rbac).toHaveLength(4);
    rbacFile = join(mkdtempSync(join(tmpdir(), "controller-rbac-")), "rbac.json");
    writeFileSync(rbacFile, JSON.stringify({ apiVersion: "v1", kind: "List", items: rbac }));
    await kubectlOk(["apply", "--server-side", "--force-conflicts", "-f", rbacFile]);
    await eventually(
      async () => ((await canController(["patch", "services", "--subresource=status", "-A"])) ? true : undefined),
      "the controller's ClusterRole",
    );
  });
  // Only Pepr's cluster objects go: the Role in metallb-system is pepr dev's install, which
  // later suites' can-i checks rely on.
  afterAll(() => kubectl(["delete", "clusterrole,clusterrolebinding", "pepr-metallb-pepr", "--ignore-not-found"]));

  it("the install objects come first: namespace, every CRD, the agent with the build's image, the Lease policy", () => {
    const docs = moduleManifest();
    const ids = docs.map((o) => `${o.kind}/${o.metadata?.name}`);
    expect(ids[0]).toBe(`Namespace/${ns}`);
    expect(docs[0].metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("privileged");
    expect(ids.slice(1, 1 + CRD_NAMES.length)).toEqual(
      [...CRD_NAMES].sort().map((n) => `CustomResourceDefinition/${n}`),
    );
    for (const id of [
      "ServiceAccount/metallb-agent",
      "ClusterRole/metallb-agent",
      "Role/metallb-agent",
      "DaemonSet/metallb-agent",
      "ValidatingAdmissionPolicy/metallb-agent-leases",
      "ValidatingAdmissionPolicyBinding/metallb-agent-leases",
    ])
      expect(ids).toContain(id);
    const ds = docs.find((o) => o.kind === "DaemonSet");
    expect(ds.spec.template.spec.containers[0].image).toBe(agentOptions(readSettings()).image);
  });

  it("`metallb-pepr manifests` (for `npx pepr deploy` installs) prints the same objects, accepted by the API server", async () => {
    const { stdout } = await run(process.execPath, [join(repoRoot, "bin", "metallb-pepr.js"), "manifests"], {
      maxBuffer: 1 << 26,
    });
    const printed = parseAllDocuments(stdout).map((d) => d.toJS());
    const docs = moduleManifest();
    expect(printed).toEqual(docs.slice(0, printed.length));
    const r = await kubectl(["apply", "--server-side", "--force-conflicts", "--dry-run=server", "-f", "-"], stdout);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  });

  // What reconciling needs: read the configuration, write our status kinds, patch Service status, Events.
  it.each([
    [["watch", "services", "-A"]],
    [["patch", "services", "--subresource=status", "-n", "default"]],
    [["create", "events", "-n", "default"]],
    [["list", "nodes"]],
    [["watch", "namespaces"]],
    [["list", "endpointslices.discovery.k8s.io", "-A"]],
    [["watch", "ipaddresspools.metallb.io", "-n", ns]],
    [["patch", "ipaddresspools.metallb.io", "--subresource=status", "-n", ns]],
    [["create", "bgpsessions.metallb.io", "-n", ns]],
    [["patch", "configurationstates.metallb.io", "--subresource=status", "-n", ns]],
    [["update", "configmaps/metallb-l2-membership", "-n", ns]],
    [["watch", "leases.coordination.k8s.io", "-n", ns]],
    [["create", "secrets", "-n", ns]],
    // Pepr's controller applies its PeprStore CRD at every start (the install created it).
    [["patch", "customresourcedefinitions.apiextensions.k8s.io/peprstores.pepr.dev"]],
  ])("the controller CAN %j", async (args) => {
    expect(await canController(args)).toBe(true);
  });

  // The install-time objects it once applied, and a sample of everything else.
  it.each([
    [["create", "rolebindings.rbac.authorization.k8s.io", "-n", ns]],
    [["create", "rolebindings.rbac.authorization.k8s.io", "-n", "kube-system"]],
    [["create", "clusterrolebindings.rbac.authorization.k8s.io"]],
    [["create", "roles.rbac.authorization.k8s.io", "-n", ns]],
    [["bind", "roles.rbac.authorization.k8s.io/metallb-agent", "-n", ns]],
    [["escalate", "roles.rbac.authorization.k8s.io/metallb-agent", "-n", ns]],
    [["create", "daemonsets.apps", "-n", ns]],
    [["patch", "daemonsets.apps/metallb-agent", "-n", ns]],
    [["create", "customresourcedefinitions.apiextensions.k8s.io"]],
    [["patch", "customresourcedefinitions.apiextensions.k8s.io/ipaddresspools.metallb.io"]],
    [["patch", "namespaces/default"]],
    [["create", "namespaces"]],
    [["create", "serviceaccounts", "-n", ns]],
    [["create", "pods", "-n", ns]],
    [["get", "secrets", "-n", ns]],
    [["update", "services", "-n", "default"]],
    [["delete", "services", "-n", "default"]],
    [["patch", "ipaddresspools.metallb.io", "-n", ns]],
    [["delete", "leases.coordination.k8s.io", "-n", ns]],
    [["create", "secrets", "-n", "default"]],
    [["create", "configmaps", "-n", "kube-system"]],
    [["patch", "ipaddresspools.metallb.io", "--subresource=status", "-n", "default"]],
    [["update", "configmaps/metallb-l2-membership", "-n", "default"]],
  ])("the controller CANNOT %j", async (args) => {
    expect(await canController(args)).toBe(false);
  });
});

describe("the node agent", () => {
  beforeAll(async () => {
    await applyInstallManifests(readSettings());
    await applyInstallManifests(readSettings()); // idempotent
  });

  it("its manifests pass server-side dry-run", async () => {
    const dir = mkdtempSync(join(tmpdir(), "agent-manifests-"));
    const file = join(dir, "agent.json");
    const list = { apiVersion: "v1", kind: "List", items: agentManifests(agentOptions(readSettings())) };
    writeFileSync(file, JSON.stringify(list));
    await kubectlOk(["apply", "--dry-run=server", "-f", file]);
  });

  it("pepr dev installed the DaemonSet with the configured image", async () => {
    const image = await kubectlOk([
      "get",
      "daemonset",
      "metallb-agent",
      "-n",
      ns,
      "-o",
      "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    expect(image).toBe(agentOptions(readSettings()).image);
  });

  const canI = async (args: string[]): Promise<boolean> => {
    const r = await kubectl(["auth", "can-i", ...args, `--as=${agent}`]);
    return r.stdout.trim() === "yes";
  };

  it.each([
    [["list", "services", "-A"]],
    [["watch", "services", "-A"]],
    [["list", "endpointslices.discovery.k8s.io", "-A"]],
    [["watch", "nodes"]],
    [["patch", "bgpsessions.metallb.io", "--subresource=status", "-n", ns]],
    [["watch", "servicel2statuses.metallb.io", "-n", ns]],
    [["watch", "bgpadvertisements.metallb.io", "-n", ns]],
    [["list", "communities.metallb.io", "-n", ns]],
    [["create", "leases.coordination.k8s.io", "-n", ns]],
    [["get", "secrets", "-n", ns]],
    [["create", "configurationstates.metallb.io", "-n", ns]],
    [["patch", "configurationstates.metallb.io", "--subresource=status", "-n", ns]],
  ])("the agent CAN %j", async (args) => {
    expect(await canI(args)).toBe(true);
  });

  it.each([
    [["get", "secrets", "-n", "default"]],
    [["get", "secrets", "-n", "kube-system"]],
    [["list", "secrets", "-n", ns]],
    [["update", "services", "-n", "default"]],
    [["patch", "services", "-n", "default"]],
    [["patch", "services", "--subresource=status", "-n", "default"]],
    [["delete", "nodes"]],
    [["patch", "bgpsessions.metallb.io", "-n", ns]],
    [["patch", "ipaddresspools.metallb.io", "-n", ns]],
    [["list", "bgppeers.metallb.io", "-n", "default"]],
    [["create", "leases.coordination.k8s.io", "-n", "default"]],
    [["patch", "configurationstates.metallb.io", "-n", ns]],
    [["delete", "configurationstates.metallb.io", "-n", ns]],
    [["create", "configurationstates.metallb.io", "-n", "default"]],
    // Nothing in the agent calls these (agent-privileges.test.ts has the full lists).
    [["get", "services", "-A"]],
    [["create", "events", "-n", ns]],
  ])("the agent CANNOT %j", async (args) => {
    expect(await canI(args)).toBe(false);
  });
});

describe("controller metrics on Pepr's /metrics", () => {
  const pool = `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: deploy-metrics, namespace: ${ns}}
spec: {addresses: ["203.0.113.252/30"]}
`;
  afterAll(() => kubectl(["delete", "ipaddresspool", "deploy-metrics", "-n", ns, "--ignore-not-found"]));

  const scrape = (): Promise<string> =>
    new Promise((resolve, reject) => {
      // pepr dev serves HTTPS with its self-signed insecure-tls.crt.
      const req = request({ host: "localhost", port: 3000, path: "/metrics", rejectUnauthorized: false }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve(body));
      });
      req.on("error", reject);
      req.end();
    });

  it("serves metallb_allocator_* beside pepr_*", async () => {
    await kubectlOk(["apply", "-f", "-"], pool);
    const text = await eventually(async () => {
      const t = await scrape();
      return /metallb_allocator_addresses_total\{pool="deploy-metrics"\} 4/.test(t) ? t : undefined;
    }, "the deploy-metrics pool in /metrics");
    expect(text).toContain("# TYPE metallb_allocator_addresses_in_use_total gauge");
    expect(text).toMatch(/metallb_allocator_addresses_in_use_total\{pool="deploy-metrics"\} 0/);
    expect(text).toContain("pepr_validate");
  });
});
