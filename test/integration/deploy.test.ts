/**
 * Shipping: what `npx pepr build` generates and what ensureAgent installs are
 * accepted by a real API server, the agent's RBAC is least privilege, and the
 * controller's metrics are served on Pepr's /metrics.
 *
 * The global setup builds into .lab/pepr-build (inside the repo, so the bundle
 * resolves pepr from node_modules) before pepr dev starts, never into the dist/
 * that pepr dev runs from; PEPR_BUILD_DIR names it.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { agentManifests } from "../../capabilities/shared/kube/agent-manifests";
import { agentOptions, ensureAgent } from "../../capabilities/shared/kube/agent-install";
import { readSettings } from "../../capabilities/shared/settings";
import { eventually, kubectl, kubectlOk } from "../harness/kubectl";
import { repoRoot } from "../harness/local-cluster";

const ns = "metallb-system";
const agent = `system:serviceaccount:${ns}:metallb-agent`;

/** Where global setup ran `pepr build` (before pepr dev started: see there for why), and the module manifest it wrote, as objects. */
const buildDir = process.env.PEPR_BUILD_DIR ?? join(repoRoot, ".lab", "pepr-build");
const moduleManifest = () =>
  parseAllDocuments(readFileSync(join(buildDir, "pepr-module-metallb-pepr.yaml"), "utf8")).map((d) => d.toJS());

describe("npx pepr build output", () => {
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

  it("the controller's ClusterRole is scoped: no wildcards, Secrets create-only (the L2 key), ConfigMaps by name", () => {
    const docs = moduleManifest();
    const role = docs.find((o) => o.kind === "ClusterRole");
    for (const rule of role.rules) {
      expect([...rule.apiGroups, ...rule.resources, ...rule.verbs]).not.toContain("*");
      // It creates the L2 membership key once and never reads a Secret (issue 12).
      if (rule.resources.includes("secrets")) expect(rule.verbs).toEqual(["create"]);
      // The roster ConfigMap is read and replaced by name; creating is all it does otherwise.
      if (rule.resources.includes("configmaps") && !rule.resourceNames) expect(rule.verbs).toEqual(["create"]);
    }
  });
});

describe("the node agent", () => {
  beforeAll(async () => {
    await ensureAgent(readSettings());
    await ensureAgent(readSettings()); // idempotent
  });

  it("the controller's generated ClusterRole is enough to install it (RBAC escalation checks)", async () => {
    const docs = moduleManifest();
    const rbac = docs.filter((o) => o.kind === "ClusterRole" || o.kind === "ClusterRoleBinding");
    expect(rbac).toHaveLength(2);
    const dir = mkdtempSync(join(tmpdir(), "controller-rbac-"));
    writeFileSync(join(dir, "rbac.json"), JSON.stringify({ apiVersion: "v1", kind: "List", items: rbac }));
    writeFileSync(
      join(dir, "agent.json"),
      JSON.stringify({ apiVersion: "v1", kind: "List", items: agentManifests(agentOptions(readSettings())) }),
    );
    await kubectlOk(["apply", "-f", join(dir, "rbac.json")]);
    try {
      const r = await kubectl([
        "apply",
        "--server-side",
        "--field-manager=pepr",
        "--force-conflicts",
        "--dry-run=server",
        "--as=system:serviceaccount:pepr-system:pepr-metallb-pepr",
        "-f",
        join(dir, "agent.json"),
      ]);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    } finally {
      await kubectl(["delete", "-f", join(dir, "rbac.json"), "--ignore-not-found"]);
    }
  });

  it("its manifests pass server-side dry-run", async () => {
    const dir = mkdtempSync(join(tmpdir(), "agent-manifests-"));
    const file = join(dir, "agent.json");
    const list = { apiVersion: "v1", kind: "List", items: agentManifests(agentOptions(readSettings())) };
    writeFileSync(file, JSON.stringify(list));
    await kubectlOk(["apply", "--dry-run=server", "-f", file]);
  });

  it("ensureAgent installed the DaemonSet with the configured image", async () => {
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
