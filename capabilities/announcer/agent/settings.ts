/**
 * The node agent's settings, from the environment (the DaemonSet's env). Read once at
 * start; every timing has a default that keeps the L2 guarantees (fenceAfter < deadAfter).
 */
export interface AgentSettings {
  nodeName: string;
  namespace: string;
  /** Lease renewal period (default 500 ms: at most 2 API writes per second per node). */
  renewMs: number;
  /** Stop answering ARP/NDP when no renewal succeeded for this long (default 1000 ms). */
  fenceAfterMs: number;
  /** Clean stop: keep answering at most this long while the controller moves IPs away. */
  drainTimeoutMs: number;
  /** Pinned interfaces (METALLB_L2_INTERFACES, comma separated); undefined = discover. */
  interfaces?: string[];
  /** Interface names never used when discovering (regexes). */
  excludeInterfaces: RegExp[];
  /** Re-send gratuitous ARP/NA this often after the takeover bursts; 0 = never (MetalLB). */
  refreshMs: number;
  metricsPort: number;
}

/** MetalLB's default exclude list (reference/metallb.md §5.2). */
export const DEFAULT_EXCLUDE = [
  "^docker.*", "^cbr.*", "^dummy.*", "^virbr.*", "^lxcbr.*", "^veth.*", "^lo$", "^cali.*",
  "^tunl.*", "^flannel.*", "^kube-ipvs.*", "^cni.*", "^nodelocaldns.*", "^lxc.*", "^cilium.*", "^vxlan.*",
];

const list = (v: string | undefined): string[] | undefined => {
  const items = (v ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  return items.length > 0 ? items : undefined;
};

function ms(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number of milliseconds, got ${JSON.stringify(raw)}`);
  return n;
}

export function readAgentSettings(env: NodeJS.ProcessEnv = process.env): AgentSettings {
  const nodeName = env.NODE_NAME;
  if (!nodeName) throw new Error("NODE_NAME is required (set it from spec.nodeName with the downward API)");
  const s: AgentSettings = {
    nodeName,
    namespace: env.METALLB_NAMESPACE || "metallb-system",
    renewMs: ms(env, "METALLB_LEASE_RENEW_MS", 500),
    fenceAfterMs: ms(env, "METALLB_FENCE_AFTER_MS", 1000),
    drainTimeoutMs: ms(env, "METALLB_DRAIN_TIMEOUT_MS", 5000),
    interfaces: list(env.METALLB_L2_INTERFACES),
    excludeInterfaces: (list(env.METALLB_L2_EXCLUDE_INTERFACES) ?? DEFAULT_EXCLUDE).map((r) => new RegExp(r)),
    refreshMs: ms(env, "METALLB_L2_REFRESH_MS", 0),
    metricsPort: Number(env.METALLB_METRICS_PORT || 7472),
  };
  if (s.renewMs <= 0 || s.fenceAfterMs <= s.renewMs) {
    throw new Error(`METALLB_FENCE_AFTER_MS (${s.fenceAfterMs}) must exceed METALLB_LEASE_RENEW_MS (${s.renewMs}) > 0`);
  }
  return s;
}
