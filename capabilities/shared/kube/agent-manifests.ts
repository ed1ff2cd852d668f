/**
 * The node agent's Kubernetes objects, as plain data: ServiceAccount, RBAC and the
 * DaemonSet. Pure (no client, no environment reads), so it is unit-tested and can
 * be dry-run by kubectl; agent-install.ts applies the result.
 *
 * RBAC is least privilege: cluster-wide the agent only reads Services,
 * EndpointSlices and Nodes; everything it writes (its Lease, BGPSession status,
 * Events) and the Secrets it reads (BGP passwords) are confined to the
 * configuration namespace. It never writes Services.
 */
import type { KubernetesObject } from "@kubernetes/client-node";
import pkg from "../../../package.json";
import type { Settings } from "../settings";

export const AGENT_NAME = "metallb-agent";
export const AGENT_METRICS_PORT = 7472;
export const AGENT_IMAGE_REPO = "ghcr.io/metallb-pepr/agent";

export interface AgentOptions {
  /** The configuration namespace; the agent runs there too. */
  namespace: string;
  image: string;
  /** Environment passed through to the agent (e.g. METALLB_LOADBALANCER_CLASS). */
  extraEnv?: Record<string, string>;
  /** HTTP path the probes hit on the metrics port (the agent serves /metrics; /healthz would be better). */
  probePath?: string;
}

/** Default image: the agent built from this package, tagged with its version. */
export const defaultAgentImage = (version: string): string => `${AGENT_IMAGE_REPO}:${version}`;

/** Options from the controller's settings; METALLB_AGENT_IMAGE overrides the image. */
export function agentOptions(settings: Settings, env: NodeJS.ProcessEnv = process.env): AgentOptions {
  const extraEnv: Record<string, string> = {};
  if (settings.loadBalancerClass) extraEnv.METALLB_LOADBALANCER_CLASS = settings.loadBalancerClass;
  if (settings.ignoreExcludeLBLabel) extraEnv.METALLB_IGNORE_EXCLUDE_LB = "true";
  return {
    namespace: settings.namespace,
    image: env.METALLB_AGENT_IMAGE || defaultAgentImage(pkg.version),
    extraEnv,
  };
}

const labels = {
  "app.kubernetes.io/name": AGENT_NAME,
  "app.kubernetes.io/component": "agent",
  "app.kubernetes.io/part-of": "metallb-pepr",
};
const selector = { "app.kubernetes.io/name": AGENT_NAME };

const rule = (apiGroup: string, resources: string[], verbs: string[], resourceNames?: string[]) => ({
  apiGroups: [apiGroup],
  resources,
  verbs,
  ...(resourceNames ? { resourceNames } : {}),
});
const read = ["get", "list", "watch"];

export function agentServiceAccount(o: AgentOptions): KubernetesObject {
  return { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: AGENT_NAME, namespace: o.namespace, labels } };
}

/** Cluster-wide: read-only, and only what deciding "announce here?" needs. */
export function agentClusterRole(): KubernetesObject & { rules: ReturnType<typeof rule>[] } {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name: AGENT_NAME, labels },
    rules: [rule("", ["services", "nodes"], read), rule("discovery.k8s.io", ["endpointslices"], read)],
  };
}

/** Namespaced: its Lease, the announcement objects, the configuration, BGP passwords, Events. */
export function agentRole(o: AgentOptions): KubernetesObject & { rules: ReturnType<typeof rule>[] } {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: { name: AGENT_NAME, namespace: o.namespace, labels },
    rules: [
      rule("coordination.k8s.io", ["leases"], ["create", "get", "patch"]),
      rule("metallb.io", ["servicel2statuses", "servicebgpstatuses", "bgpsessions"], read),
      // The configuration, for the BGP plan each node computes (read-only).
      rule(
        "metallb.io",
        ["ipaddresspools", "l2advertisements", "bgpadvertisements", "bgppeers", "communities", "bfdprofiles"],
        read,
      ),
      rule("metallb.io", ["bgpsessions/status"], ["patch"]),
      // Its own ConfigurationState, speaker-<node> (bad password Secrets show there).
      rule("metallb.io", ["configurationstates"], ["create"]),
      rule("metallb.io", ["configurationstates/status"], ["patch"]),
      rule("", ["secrets"], ["get"]),
      rule("", ["events"], ["create"]),
      // L2 membership (issue 12): the roster and cluster key the controller publishes, and
      // the one shared tie-breaker Lease (compare-and-swap on its resourceVersion).
      rule("", ["configmaps"], read, ["metallb-l2-membership"]),
      rule("", ["secrets"], read, ["metallb-l2-membership-key"]),
      rule("coordination.k8s.io", ["leases"], ["get", "update", "patch"], ["metallb-l2-tiebreaker"]),
    ],
  };
}

const subjects = (o: AgentOptions) => [{ kind: "ServiceAccount", name: AGENT_NAME, namespace: o.namespace }];

export function agentClusterRoleBinding(o: AgentOptions): KubernetesObject {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: AGENT_NAME, labels },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: AGENT_NAME },
    subjects: subjects(o),
  } as KubernetesObject;
}

export function agentRoleBinding(o: AgentOptions): KubernetesObject {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name: AGENT_NAME, namespace: o.namespace, labels },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: AGENT_NAME },
    subjects: subjects(o),
  } as KubernetesObject;
}

/**
 * V8 flags for the agent process. A 2 MB semi-space (Node's default is 16 MB) keeps the
 * young generation from ballooning under watch-event churn: about 20 MB less resident
 * memory per node, for a few more (cheap) scavenges. Labs and benchmarks run the agent
 * with the same value.
 */
export const AGENT_NODE_OPTIONS = "--max-semi-space-size=2";

export function agentDaemonSet(o: AgentOptions): KubernetesObject {
  const probe = (failureThreshold: number, periodSeconds: number) => ({
    httpGet: { path: o.probePath ?? "/metrics", port: AGENT_METRICS_PORT, scheme: "HTTP" },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 2,
  });
  const env = [
    { name: "NODE_NAME", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "spec.nodeName" } } },
    // L2 membership heartbeats go to the node's address (the pod shares the host network).
    { name: "METALLB_HEARTBEAT_ADDRESS", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "status.hostIP" } } },
    { name: "METALLB_NAMESPACE", value: o.namespace },
    { name: "METALLB_METRICS_PORT", value: String(AGENT_METRICS_PORT) },
    { name: "NODE_OPTIONS", value: AGENT_NODE_OPTIONS },
    ...Object.entries(o.extraEnv ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, value]) => ({ name, value })),
  ];
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: AGENT_NAME, namespace: o.namespace, labels },
    spec: {
      selector: { matchLabels: selector },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: AGENT_NAME,
          hostNetwork: true,
          dnsPolicy: "ClusterFirstWithHostNet",
          // Short: a stopping agent withdraws at once and the controller moves its IPs.
          terminationGracePeriodSeconds: 10,
          nodeSelector: { "kubernetes.io/os": "linux" },
          tolerations: ["node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master"].map((key) => ({
            key,
            operator: "Exists",
            effect: "NoSchedule",
          })),
          containers: [
            {
              name: "agent",
              image: o.image,
              imagePullPolicy: "IfNotPresent",
              args: ["agent"],
              env,
              ports: [{ name: "metrics", containerPort: AGENT_METRICS_PORT, protocol: "TCP" }],
              livenessProbe: { ...probe(3, 10), initialDelaySeconds: 10 },
              readinessProbe: probe(3, 5),
              // Measured (docs/install.md): about 70 MB on a small cluster; 100 MB steady and a
              // 142 MB peak during the first sync with 10,000 BGP prefixes on two peers.
              resources: { requests: { cpu: "50m", memory: "96Mi" }, limits: { memory: "256Mi" } },
              securityContext: {
                // Root only for raw sockets; every other capability is dropped.
                runAsUser: 0,
                runAsNonRoot: false,
                readOnlyRootFilesystem: true,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ["ALL"], add: ["NET_RAW", "NET_ADMIN"] },
              },
              volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
            },
          ],
          volumes: [{ name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "16Mi" } }],
        },
      },
    },
  } as KubernetesObject;
}

/** Everything, in apply order (identity and RBAC before the pods that use them). */
export function agentManifests(o: AgentOptions): KubernetesObject[] {
  return [
    agentServiceAccount(o),
    agentClusterRole(),
    agentClusterRoleBinding(o),
    agentRole(o),
    agentRoleBinding(o),
    agentDaemonSet(o),
  ];
}
