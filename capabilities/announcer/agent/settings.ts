/**
 * The node agent's settings, from the environment (the DaemonSet's env). Read once at
 * start; the L2 membership timings are checked against the inequalities docs/l2.md proves
 * safety with (D >= 2F, J >= F), so a bad combination stops the agent with a clear message.
 */
import { timingProblem, type MembershipTiming } from "./l2/membership/membership";
import { readMetricsServing, type MetricsServing } from "./metrics-server";
import { readHealthServing, type HealthServing } from "./health-server";

export interface AgentSettings {
  nodeName: string;
  namespace: string;
  /** Node Lease renewal period (default 10 s: 0.1 API writes per second per node). */
  renewMs: number;
  /**
   * This node's address for membership heartbeats (METALLB_HEARTBEAT_ADDRESS; the DaemonSet
   * sets status.hostIP). Empty: this agent takes no part in L2 (BGP only).
   */
  heartbeatAddress: string;
  /** UDP port of membership heartbeats (default 7947). */
  membershipPort: number;
  /** Heartbeat period (default 50 ms). */
  heartbeatMs: number;
  /** F, D and J of docs/l2.md. */
  timing: MembershipTiming;
  /** The tie-breaker Lease: duration and renewal period (defaults 20 s and 10 s). */
  tiebreakerDurationMs: number;
  tiebreakerRenewMs: number;
  /** Clean stop: keep answering at most this long while the controller moves IPs away. */
  drainTimeoutMs: number;
  /** Pinned interfaces (METALLB_L2_INTERFACES, comma separated); undefined = discover. */
  interfaces?: string[];
  /** Interface names never used when discovering (regexes). */
  excludeInterfaces: RegExp[];
  /** Re-send gratuitous ARP/NA this often after the takeover bursts; 0 = never (MetalLB). */
  refreshMs: number;
  /** /metrics: port, listen address, optional HTTPS (metrics-server.ts). */
  metrics: MetricsServing;
  /** /healthz for the kubelet's probes (health-server.ts). */
  health: HealthServing;
}

/** MetalLB's default exclude list (reference/metallb.md §5.2). */
export const DEFAULT_EXCLUDE = [
  "^docker.*",
  "^cbr.*",
  "^dummy.*",
  "^virbr.*",
  "^lxcbr.*",
  "^veth.*",
  "^lo$",
  "^cali.*",
  "^tunl.*",
  "^flannel.*",
  "^kube-ipvs.*",
  "^cni.*",
  "^nodelocaldns.*",
  "^lxc.*",
  "^cilium.*",
  "^vxlan.*",
];

const list = (v: string | undefined): string[] | undefined => {
  const items = (v ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return items.length > 0 ? items : undefined;
};

function ms(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0)
    throw new Error(`${name} must be a non-negative number of milliseconds, got ${JSON.stringify(raw)}`);
  return n;
}

export function readAgentSettings(env: NodeJS.ProcessEnv = process.env): AgentSettings {
  const nodeName = env.NODE_NAME;
  if (!nodeName) throw new Error("NODE_NAME is required (set it from spec.nodeName with the downward API)");
  const s: AgentSettings = {
    nodeName,
    namespace: env.METALLB_NAMESPACE || "metallb-system",
    renewMs: ms(env, "METALLB_LEASE_RENEW_MS", 10_000),
    heartbeatAddress: env.METALLB_HEARTBEAT_ADDRESS ?? "",
    membershipPort: Number(env.METALLB_L2_MEMBERSHIP_PORT || 7947),
    heartbeatMs: ms(env, "METALLB_L2_HEARTBEAT_MS", 50),
    timing: {
      fenceMs: ms(env, "METALLB_L2_FENCE_MS", 150),
      downMs: ms(env, "METALLB_L2_DOWN_MS", 460),
      settleMs: ms(env, "METALLB_L2_SETTLE_MS", 160),
    },
    tiebreakerDurationMs: ms(env, "METALLB_L2_TIEBREAKER_DURATION_MS", 20_000),
    tiebreakerRenewMs: ms(env, "METALLB_L2_TIEBREAKER_RENEW_MS", 10_000),
    drainTimeoutMs: ms(env, "METALLB_DRAIN_TIMEOUT_MS", 5000),
    interfaces: list(env.METALLB_L2_INTERFACES),
    excludeInterfaces: (list(env.METALLB_L2_EXCLUDE_INTERFACES) ?? DEFAULT_EXCLUDE).map((r) => new RegExp(r)),
    refreshMs: ms(env, "METALLB_L2_REFRESH_MS", 0),
    metrics: readMetricsServing(env),
    health: readHealthServing(env),
  };
  if (s.renewMs <= 0) throw new Error(`METALLB_LEASE_RENEW_MS must be positive, got ${s.renewMs}`);
  const problem = timingProblem(s.timing);
  if (problem) throw new Error(`METALLB_L2_FENCE_MS / METALLB_L2_DOWN_MS / METALLB_L2_SETTLE_MS: ${problem}`);
  if (s.heartbeatMs <= 0 || s.heartbeatMs * 2 > s.timing.fenceMs)
    throw new Error(
      `METALLB_L2_HEARTBEAT_MS (${s.heartbeatMs}) must be positive and at most half of METALLB_L2_FENCE_MS (${s.timing.fenceMs})`,
    );
  if (s.tiebreakerRenewMs * 2 > s.tiebreakerDurationMs)
    throw new Error(
      `METALLB_L2_TIEBREAKER_RENEW_MS (${s.tiebreakerRenewMs}) must be at most half of METALLB_L2_TIEBREAKER_DURATION_MS (${s.tiebreakerDurationMs})`,
    );
  return s;
}
