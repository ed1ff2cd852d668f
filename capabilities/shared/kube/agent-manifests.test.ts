import { readSettings } from "../settings";
import {
  agentClusterRole,
  agentDaemonSet,
  agentManifests,
  agentOptions,
  agentRole,
  defaultAgentImage,
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

  it("cluster-wide rules are read-only and never touch Secrets", () => {
    for (const r of agentClusterRole().rules) {
      expect(r.verbs).toEqual(["get", "list", "watch"]);
      expect(r.resources).not.toContain("secrets");
      expect(r.resources.join()).not.toContain("*");
    }
  });

  it("namespaced rules: Secrets get only (list/watch the L2 key alone), no Service writes, no wildcards", () => {
    const rules = agentRole(opts).rules;
    const unnamed = rules.filter((r) => !("resourceNames" in r));
    const verbsFor = (res: string) => unnamed.filter((r) => r.resources.includes(res)).flatMap((r) => r.verbs);
    expect(verbsFor("secrets")).toEqual(["get"]);
    expect(verbsFor("leases").sort()).toEqual(["create", "get", "patch"]);
    expect(verbsFor("configmaps")).toEqual([]);
    const named = rules.filter((r) => "resourceNames" in r).map((r) => [r.resources, r.resourceNames, r.verbs]);
    expect(named).toEqual([
      [["configmaps"], ["metallb-l2-membership"], ["get", "list", "watch"]],
      [["secrets"], ["metallb-l2-membership-key"], ["get", "list", "watch"]],
      [["leases"], ["metallb-l2-tiebreaker"], ["get", "update", "patch"]],
    ]);
    expect(verbsFor("bgpsessions/status")).toEqual(["patch"]);
    expect(verbsFor("services")).toEqual([]);
    for (const r of rules) expect([...r.resources, ...r.verbs, ...r.apiGroups]).not.toContain("*");
  });

  it("runs host-networked with only NET_RAW and NET_ADMIN", () => {
    const spec = podSpec();
    expect(spec.hostNetwork).toBe(true);
    expect(spec.dnsPolicy).toBe("ClusterFirstWithHostNet");
    const c = spec.containers[0];
    expect(c.image).toBe(opts.image);
    expect(c.args).toEqual(["agent"]);
    expect(c.securityContext).toMatchObject({
      runAsUser: 0,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"], add: ["NET_RAW", "NET_ADMIN"] },
    });
    expect(c.resources).toEqual({ requests: { cpu: "50m", memory: "96Mi" }, limits: { memory: "256Mi" } });
    expect(c.livenessProbe.httpGet.port).toBe(7472);
    expect(c.readinessProbe.httpGet.port).toBe(7472);
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

  it("tolerates control-plane taints", () => {
    const keys = podSpec().tolerations.map((t: { key: string; effect: string }) => `${t.key}:${t.effect}`);
    expect(keys).toEqual([
      "node-role.kubernetes.io/control-plane:NoSchedule",
      "node-role.kubernetes.io/master:NoSchedule",
    ]);
  });
});
