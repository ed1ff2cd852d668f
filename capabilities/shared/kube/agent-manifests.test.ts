import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { readSettings } from "../settings";
import { LEASE_PREFIX } from "../../announcer/agent/lease";
import { TIEBREAKER_LEASE } from "../../announcer/agent/l2/membership/tiebreaker";
import { DEFAULT_GRACEFUL_SHUTDOWN_SECONDS } from "../../announcer/agent/bgp/settings";
import {
  agentClusterRole,
  agentDaemonSet,
  agentLeasePolicy,
  agentLeasePolicyBinding,
  agentLeasePolicyManifests,
  agentManifests,
  agentOptions,
  agentRole,
  defaultAgentImage,
  NODE_LEASE_PREFIX,
  NODE_NAME_EXTRA,
  TIEBREAKER_LEASE_NAME,
} from "./agent-manifests";

const opts = { namespace: "metallb-system", image: "registry.example/agent:1.2.3" };

const podSpec = (o = opts): any => (agentDaemonSet(o) as any).spec.template.spec;

describe("agent manifests", () => {
  it("lists identity and RBAC before the DaemonSet", () => {
    expect(agentManifests(opts).map((m) => m.kind)).toEqual([
      "ServiceAccount",
      "ClusterRole",
      "ClusterRoleBinding",
      "Role",
      "RoleBinding",
      "DaemonSet",
    ]);
    for (const m of agentManifests(opts)) {
      expect(m.metadata?.name).toBe("metallb-agent");
      if (!m.kind!.startsWith("Cluster")) expect(m.metadata?.namespace).toBe("metallb-system");
    }
  });

  it("default image is tagged with the package version", () => {
    expect(defaultAgentImage("0.1.0")).toBe("ghcr.io/metallb-pepr/agent:0.1.0");
  });

  it("options: METALLB_AGENT_IMAGE overrides the image; settings pass through", () => {
    const settings = readSettings({ METALLB_NAMESPACE: "lb", METALLB_LOADBALANCER_CLASS: "lb.example/bare" });
    expect(agentOptions(settings, {})).toMatchObject({
      namespace: "lb",
      image: expect.stringMatching(/^ghcr\.io\/metallb-pepr\/agent:\d+\.\d+\.\d+/),
      extraEnv: { METALLB_LOADBALANCER_CLASS: "lb.example/bare" },
    });
    expect(agentOptions(settings, { METALLB_AGENT_IMAGE: "registry.example/agent:dev" }).image).toBe(
      "registry.example/agent:dev",
    );
  });

  /** Every rule as one comparable line: "group resources verbs [names]". */
  const asLines = (rules: ReturnType<typeof agentRole>["rules"]) =>
    rules.map((r) =>
      [r.apiGroups.join(",") || "core", r.resources.join(","), r.verbs.join(","), r.resourceNames?.join(",") ?? ""]
        .join(" ")
        .trim(),
    );

  it("cluster-wide: list and watch Services, Nodes and EndpointSlices, nothing else", () => {
    expect(asLines(agentClusterRole().rules)).toEqual([
      "core services,nodes list,watch",
      "discovery.k8s.io endpointslices list,watch",
    ]);
  });

  it("namespaced: exactly what the agent's code calls (no update, delete, Events, Service writes or wildcards)", () => {
    expect(asLines(agentRole(opts).rules)).toEqual([
      "coordination.k8s.io leases create,get,patch",
      "metallb.io servicel2statuses,bgpsessions list,watch",
      "metallb.io ipaddresspools,l2advertisements,bgpadvertisements,bgppeers,communities,bfdprofiles list,watch",
      "metallb.io bgppeers get",
      "metallb.io bgpsessions/status patch",
      "metallb.io configurationstates create",
      "metallb.io configurationstates/status patch",
      "core secrets get",
      "core configmaps list,watch metallb-l2-membership",
      "core secrets list,watch metallb-l2-membership-key",
    ]);
  });

  it("runs host-networked, uid 0 with NET_RAW only, seccomp RuntimeDefault, read-only root", () => {
    const spec = podSpec();
    expect(spec.hostNetwork).toBe(true);
    expect(spec.dnsPolicy).toBe("ClusterFirstWithHostNet");
    const c = spec.containers[0];
    expect(c.image).toBe(opts.image);
    expect(c.args).toEqual(["agent"]);
    expect(c.securityContext).toEqual({
      runAsUser: 0,
      runAsNonRoot: false,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ["ALL"], add: ["NET_RAW"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(c.resources).toEqual({ requests: { cpu: "50m", memory: "96Mi" }, limits: { memory: "256Mi" } });
    // Probes hit /healthz on a port of their own: metrics may be HTTPS-only or bound to loopback.
    for (const probe of [c.livenessProbe, c.readinessProbe])
      expect(probe.httpGet).toEqual({ path: "/healthz", port: 7473, scheme: "HTTP" });
    expect(c.env).toContainEqual({ name: "METALLB_HEALTH_PORT", value: "7473" });
  });

  it("the Lease policy uses the agent's own Lease names and the pod-bound token's node extra", () => {
    expect(NODE_LEASE_PREFIX).toBe(LEASE_PREFIX);
    expect(TIEBREAKER_LEASE_NAME).toBe(TIEBREAKER_LEASE);
    expect(NODE_NAME_EXTRA).toBe("authentication.kubernetes.io/node-name");
    const policy = agentLeasePolicy(opts) as any;
    expect(policy.spec.failurePolicy).toBe("Fail");
    expect(policy.spec.matchConstraints.resourceRules).toEqual([
      {
        apiGroups: ["coordination.k8s.io"],
        apiVersions: ["*"],
        resources: ["leases"],
        operations: ["CREATE", "UPDATE", "DELETE"],
      },
    ]);
    expect(policy.spec.matchConditions).toEqual([
      {
        name: "agent-service-account",
        expression: "request.userInfo.username == 'system:serviceaccount:metallb-system:metallb-agent'",
      },
    ]);
    expect(policy.spec.variables[0].expression).toContain(`request.userInfo.extra["${NODE_NAME_EXTRA}"]`);
    const binding = agentLeasePolicyBinding(opts) as any;
    expect(binding.spec).toEqual({
      policyName: "metallb-agent-leases",
      validationActions: ["Deny"],
      matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "metallb-system" } } },
    });
    expect(agentLeasePolicyManifests(opts).map((m) => m.kind)).toEqual([
      "ValidatingAdmissionPolicy",
      "ValidatingAdmissionPolicyBinding",
    ]);
  });

  it("docs/install.md shows the Lease policy exactly as built", () => {
    const doc = readFileSync(join(__dirname, "../../../docs/install.md"), "utf8");
    const block = /<!-- agent-lease-policy -->\s*```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(block).toBeDefined();
    expect(parseAllDocuments(block!).map((d) => d.toJS())).toEqual(agentLeasePolicyManifests(opts));
  });

  it("gets its node name from the downward API and its namespace from the options", () => {
    const env = podSpec({ ...opts, extraEnv: { METALLB_LOADBALANCER_CLASS: "lb.example/bare" } } as never).containers[0]
      .env;
    expect(env).toContainEqual({
      name: "NODE_NAME",
      valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "spec.nodeName" } },
    });
    expect(env).toContainEqual({ name: "METALLB_NAMESPACE", value: "metallb-system" });
    expect(env).toContainEqual({ name: "METALLB_LOADBALANCER_CLASS", value: "lb.example/bare" });
  });

  it("gives a stopping agent time for its BGP graceful shutdown before the kubelet's SIGKILL", () => {
    // The wait, then the NOTIFICATION (up to 2 s) and the last status write.
    expect(podSpec().terminationGracePeriodSeconds).toBeGreaterThanOrEqual(DEFAULT_GRACEFUL_SHUTDOWN_SECONDS + 10);
  });

  it("tolerates control-plane taints", () => {
    const keys = podSpec().tolerations.map((t: { key: string; effect: string }) => `${t.key}:${t.effect}`);
    expect(keys).toEqual([
      "node-role.kubernetes.io/control-plane:NoSchedule",
      "node-role.kubernetes.io/master:NoSchedule",
    ]);
  });
});
