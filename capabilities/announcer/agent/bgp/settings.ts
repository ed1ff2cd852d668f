/**
 * The BGP speaker's knobs from the agent's environment (the DaemonSet's env), read once
 * at start. A bad value stops the agent with a message, as the agent's other settings do.
 */
import { DEFAULT_MAX_PREFIXES } from "./session";

export interface BgpSettings {
  /** Most prefixes of one address family a peer may announce before Cease/1 (RFC 4486 §4). */
  readonly maxPrefixes: number;
  /**
   * Seconds routes carry GRACEFUL_SHUTDOWN before a stopping or excluded node withdraws them
   * (RFC 8326; graceful-shutdown.ts). 0: withdraw at once.
   */
  readonly gracefulShutdownSeconds: number;
}

/**
 * 15 s: long enough for routers to re-run best-path selection and propagate it a few hops,
 * short enough to fit the DaemonSet's terminationGracePeriodSeconds (agent-manifests.ts)
 * with room for the NOTIFICATION and the last status write.
 */
export const DEFAULT_GRACEFUL_SHUTDOWN_SECONDS = 15;

function whole(env: NodeJS.ProcessEnv, name: string, min: number, max: number, what: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new Error(`${name} must be a whole number of ${what} from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return n;
}

export function readBgpSettings(env: NodeJS.ProcessEnv = process.env): BgpSettings {
  return {
    maxPrefixes: whole(env, "METALLB_BGP_MAX_PREFIXES", 1, 0xffffffff, "prefixes") ?? DEFAULT_MAX_PREFIXES,
    gracefulShutdownSeconds:
      whole(env, "METALLB_BGP_GRACEFUL_SHUTDOWN_SECONDS", 0, 3600, "seconds") ?? DEFAULT_GRACEFUL_SHUTDOWN_SECONDS,
  };
}
