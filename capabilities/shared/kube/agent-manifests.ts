/**
 * The node agent's Kubernetes objects, as plain data: ServiceAccount, RBAC, the
 * DaemonSet and the admission policy that ties each agent to its own node's Lease.
 * Pure (no client, no environment reads), so it is unit-tested and can be dry-run by
 * kubectl; install-manifests.ts gathers them with the namespace and the CRDs.
 *
 * RBAC is exactly what the agent's code calls (docs/install.md lists each rule and its
 * caller): cluster-wide it only lists and watches Services, EndpointSlices and Nodes;
 * everything it writes (its Lease, the tie-breaker Lease, BGPSession status, its
 * ConfigurationState) and the Secrets it reads (BGP passwords, the L2 key) are confined to
 * the configuration namespace. It never writes Services.
 */
import type { KubernetesObject } from "@kubernetes/client-node";
import pkg from "../../../package.json";
import type { Settings } from "../settings";

export const AGENT_NAME = "metallb-agent";
export const AGENT_METRICS_PORT = 7472;
/** Plain-HTTP /healthz for the probes, apart from metrics (which may be HTTPS or loopback-only). */
export const AGENT_HEALTH_PORT = 7473;
export const AGENT_IMAGE_REPO = "ghcr.io/metallb-pepr/agent";

export interface AgentOptions {
  /** The configuration namespace; the agent runs there too. */
  namespace: string;
  image: string;
  /** Environment passed through to the agent (e.g. METALLB_LOADBALANCER_CLASS). */
  extraEnv?: Record<string, string>;
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
/** What an informer (shared/kube/informer.ts) needs: paged list, then watch. */
const watch = ["list", "watch"];

export function agentServiceAccount(o: AgentOptions): KubernetesObject {
  return { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: AGENT_NAME, namespace: o.namespace, labels } };
}

/** Cluster-wide: the informers behind "announce here?" (list+watch only; no code path GETs one object). */
export function agentClusterRole(): KubernetesObject & { rules: ReturnType<typeof rule>[] } {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name: AGENT_NAME, labels },
    rules: [
      // Services (L2 and BGP), EndpointSlices (externalTrafficPolicy: Local) and its own Node
      // (a fieldSelector on metadata.name; RBAC cannot name a per-node object in one role).
      rule("", ["services", "nodes"], watch),
      rule("discovery.k8s.io", ["endpointslices"], watch),
    ],
  };
}

/** Namespaced (the configuration namespace): each rule names the agent code that needs it. */
export function agentRole(o: AgentOptions): KubernetesObject & { rules: ReturnType<typeof rule>[] } {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: { name: AGENT_NAME, namespace: o.namespace, labels },
    rules: [
      // lease.ts (metallb-agent-<node>) and l2/membership/tiebreaker.ts: create, GET, JSON-patch
      // compare-and-swap. Create cannot be limited by name and the node's name is not known
      // here, so the admission policy below decides which Lease an agent may write.
      rule("coordination.k8s.io", ["leases"], ["create", "get", "patch"]),
      // Informers in main.ts (ServiceL2Status) and bgp/runtime.ts (its BGPSessions).
      rule("metallb.io", ["servicel2statuses", "bgpsessions"], watch),
      // config-watch.ts: the configuration, for the BGP plan each node computes.
      rule(
        "metallb.io",
        ["ipaddresspools", "l2advertisements", "bgpadvertisements", "bgppeers", "communities", "bfdprofiles"],
        watch,
      ),
      // bgp/runtime.ts: a BGPPeer's inline password (read only when its session says so).
      rule("metallb.io", ["bgppeers"], ["get"]),
      rule("metallb.io", ["bgpsessions/status"], ["patch"]),
      // speaker-state.ts: its own ConfigurationState, speaker-<node> (bad password Secrets show there).
      rule("metallb.io", ["configurationstates"], ["create"]),
      rule("metallb.io", ["configurationstates/status"], ["patch"]),
      // bgp/runtime.ts: the BGP password Secret a BGPPeer names (any name, this namespace only).
      rule("", ["secrets"], ["get"]),
      // main.ts (L2 membership, issue 12): the roster and cluster key the controller publishes,
      // watched by name (a metadata.name fieldSelector, which RBAC matches against resourceNames).
      rule("", ["configmaps"], watch, ["metallb-l2-membership"]),
      rule("", ["secrets"], watch, ["metallb-l2-membership-key"]),
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
 * uid 0 with one capability. NET_RAW opens the AF_PACKET sockets (ARP/NDP); nothing needs
 * NET_ADMIN (TCP_MD5SIG, IP_TTL and socket filters on our own sockets need no capability, and
 * no port below 1024 is bound). Kubernetes grants an added capability to a non-root process
 * only through file capabilities on the executable, which the kernel ignores under
 * no_new_privs, i.e. allowPrivilegeEscalation: false; docs/install.md weighs the two.
 */
export function agentSecurityContext() {
  return {
    runAsUser: 0,
    runAsNonRoot: false,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    privileged: false,
    capabilities: { drop: ["ALL"], add: ["NET_RAW"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
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
    httpGet: { path: "/healthz", port: AGENT_HEALTH_PORT, scheme: "HTTP" },
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
    { name: "METALLB_HEALTH_PORT", value: String(AGENT_HEALTH_PORT) },
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
          // A stopping agent's BGP routes carry GRACEFUL_SHUTDOWN for 15 s before the Cease
          // (METALLB_BGP_GRACEFUL_SHUTDOWN_SECONDS, docs/bgp.md); cut short by SIGKILL, routers
          // would keep them until their hold timer with nobody answering. 30 s leaves room.
          terminationGracePeriodSeconds: 30,
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
              ports: [
                { name: "metrics", containerPort: AGENT_METRICS_PORT, protocol: "TCP" },
                { name: "health", containerPort: AGENT_HEALTH_PORT, protocol: "TCP" },
              ],
              livenessProbe: { ...probe(3, 10), initialDelaySeconds: 10 },
              readinessProbe: probe(3, 5),
              // Measured (docs/install.md): about 70 MB on a small cluster; 100 MB steady and a
              // 142 MB peak during the first sync with 10,000 BGP prefixes on two peers.
              resources: { requests: { cpu: "50m", memory: "96Mi" }, limits: { memory: "256Mi" } },
              securityContext: agentSecurityContext(),
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

/**
 * The ServiceAccount-token extra that names the node of the Pod a token is bound to
 * (set by the API server since Kubernetes 1.30, feature ServiceAccountTokenPodNodeInfo).
 */
export const NODE_NAME_EXTRA = "authentication.kubernetes.io/node-name";
export const LEASE_POLICY_NAME = "metallb-agent-leases";
export const TIEBREAKER_LEASE_NAME = "metallb-l2-tiebreaker";
export const NODE_LEASE_PREFIX = `${AGENT_NAME}-`;

/**
 * RBAC cannot say "only your own node's Lease": the agent may create Leases and patch any
 * Lease in the namespace. This policy closes that: a Lease write by the agent's
 * ServiceAccount is admitted only from a token bound to a Pod on node X, only for
 * `metallb-agent-X` or the shared tie-breaker, only with holderIdentity X, and never a
 * delete. So a compromised node can neither renew, drain nor mark down another node's Lease,
 * nor take the tie-breaker in another node's name. (It reports other nodes down in its own
 * Lease's `metallb.io/down` annotation, which is what that annotation is for.)
 */
export function agentLeasePolicy(o: AgentOptions): KubernetesObject {
  const user = `system:serviceaccount:${o.namespace}:${AGENT_NAME}`;
  const extra = `request.userInfo.extra[${JSON.stringify(NODE_NAME_EXTRA)}]`;
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicy",
    metadata: { name: LEASE_POLICY_NAME, labels },
    spec: {
      failurePolicy: "Fail",
      matchConstraints: {
        resourceRules: [
          {
            apiGroups: ["coordination.k8s.io"],
            apiVersions: ["*"],
            resources: ["leases"],
            operations: ["CREATE", "UPDATE", "DELETE"],
          },
        ],
      },
      matchConditions: [{ name: "agent-service-account", expression: `request.userInfo.username == '${user}'` }],
      variables: [
        {
          name: "node",
          expression: `has(request.userInfo.extra) && ${JSON.stringify(NODE_NAME_EXTRA)} in request.userInfo.extra && size(${extra}) == 1 ? ${extra}[0] : ''`,
        },
      ],
      validations: [
        {
          expression: "variables.node != ''",
          message: `the agent writes Leases only with a ServiceAccount token bound to its Pod on a node (no ${NODE_NAME_EXTRA} in this token)`,
          reason: "Forbidden",
        },
        {
          expression: `request.operation != 'DELETE' && (request.name == '${NODE_LEASE_PREFIX}' + variables.node || request.name == '${TIEBREAKER_LEASE_NAME}')`,
          messageExpression: `'the agent on node ' + variables.node + ' may write only Lease ${NODE_LEASE_PREFIX}' + variables.node + ' and ${TIEBREAKER_LEASE_NAME}, and delete none; refused: ' + request.operation + ' of ' + request.name`,
          reason: "Forbidden",
        },
        {
          // A delete has no object (and is refused above).
          expression:
            "request.operation == 'DELETE' || has(object.spec.holderIdentity) && object.spec.holderIdentity == variables.node",
          messageExpression: `'the agent on node ' + variables.node + ' may hold a Lease only in its own name, not ' + (has(object.spec.holderIdentity) ? object.spec.holderIdentity : 'nobody')`,
          reason: "Forbidden",
        },
      ],
    },
  } as KubernetesObject;
}

/** Applies the policy to the configuration namespace only. */
export function agentLeasePolicyBinding(o: AgentOptions): KubernetesObject {
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicyBinding",
    metadata: { name: LEASE_POLICY_NAME, labels },
    spec: {
      policyName: LEASE_POLICY_NAME,
      validationActions: ["Deny"],
      matchResources: {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": o.namespace } },
      },
    },
  } as KubernetesObject;
}

/** The policy and its binding, in apply order. Not in agentManifests(): see docs/install.md. */
export function agentLeasePolicyManifests(o: AgentOptions): KubernetesObject[] {
  return [agentLeasePolicy(o), agentLeasePolicyBinding(o)];
}
