/**
 * The BGP speaker's knobs from the agent's environment (the DaemonSet's env), read once
 * at start. A bad value stops the agent with a message, as the agent's other settings do.
 */
import { DEFAULT_MAX_PREFIXES } from "./session";

export interface BgpSettings {
  /** Most prefixes of one address family a peer may announce before Cease/1 (RFC 4486 §4). */
  readonly maxPrefixes: number;
}

export function readBgpSettings(env: NodeJS.ProcessEnv = process.env): BgpSettings {
  const raw = env.METALLB_BGP_MAX_PREFIXES;
  if (raw === undefined || raw.trim() === "") return { maxPrefixes: DEFAULT_MAX_PREFIXES };
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1 || n > 0xffffffff) {
    throw new Error(
      `METALLB_BGP_MAX_PREFIXES must be a whole number of prefixes from 1 to 4294967295, got ${JSON.stringify(raw)}`,
    );
  }
  return { maxPrefixes: n };
}
