/**
 * Controller-side view of BGP convergence: for each session, how many planned
 * prefixes the agent has not reported as advertised yet. Pure.
 */
import type { NodePlan } from "../../shared/bgp";

export interface SessionReport {
  node?: string;
  peer?: string;
  peerAddress?: string;
  /** BGP unnumbered, instead of peerAddress. */
  interface?: string;
  peerPort?: number;
  state?: string;
  advertisedPrefixes?: number;
}

export interface PendingRow {
  readonly node: string;
  readonly peer: string;
  /** "address:port", the label MetalLB's native speaker uses; the interface name for BGP unnumbered (as FRR names such a neighbor). */
  readonly peerLabel: string;
  readonly planned: number;
  readonly pending: number;
}

/** A session not Established has all its planned prefixes pending. */
export function pendingPrefixes(
  plans: ReadonlyMap<string, NodePlan>,
  sessions: readonly SessionReport[],
): PendingRow[] {
  const rows: PendingRow[] = [];
  for (const s of sessions) {
    if (!s.node || !s.peer) continue;
    const planned = plans.get(s.node)?.routes.get(s.peer)?.length ?? 0;
    const advertised = s.state === "Established" ? (s.advertisedPrefixes ?? 0) : 0;
    rows.push({
      node: s.node,
      peer: s.peer,
      peerLabel: s.peerAddress || !s.interface ? formatPeerLabel(s.peerAddress ?? "", s.peerPort ?? 179) : s.interface,
      planned,
      pending: Math.max(0, planned - advertised),
    });
  }
  return rows;
}

/** IPv6 addresses in brackets, as Go's net.JoinHostPort renders them. */
export const formatPeerLabel = (address: string, port: number): string =>
  address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
