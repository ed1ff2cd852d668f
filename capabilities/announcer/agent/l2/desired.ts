/**
 * Pure: from the ServiceL2Status objects and the Services, what this node should answer
 * for, and (while draining) whether another node has taken over each of its Services.
 */
import { formatIP, parseIP, type IP } from "../../../shared/net/ip";
import type { DesiredIP } from "./runtime";
import type { OwnerRecord } from "./membership/answering";
import { RELEASE_GRACE_MS, stopAfterAnnouncement } from "./release";

export interface StatusLike {
  metadata?: { labels?: Record<string, string> };
  status?: {
    node?: string;
    /** Ranked nodes that take over when the owner is down (issue 12). */
    standbys?: string[];
    serviceName?: string;
    serviceNamespace?: string;
    interfaces?: Array<{ name?: string }>;
  };
}

export interface ServiceLike {
  metadata?: { name?: string; namespace?: string };
  spec?: { type?: string };
  status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } };
}

export const statusNode = (s: StatusLike): string | undefined =>
  s.status?.node || s.metadata?.labels?.["metallb.io/node"];
export const statusService = (s: StatusLike): string | undefined => {
  const ns = s.status?.serviceNamespace || s.metadata?.labels?.["metallb.io/service-namespace"];
  const name = s.status?.serviceName || s.metadata?.labels?.["metallb.io/service-name"];
  return ns && name ? `${ns}/${name}` : undefined;
};

export interface Ownership {
  /** IPs to answer for, merged across Services (shared IPs) with interfaces unioned. */
  desired: DesiredIP[];
  /** Service key -> its IPs, for the ones this node owns. */
  services: Map<string, string[]>;
}

/** The owner and ranked standbys a ServiceL2Status names. */
export const ownerRecord = (s: StatusLike): OwnerRecord | undefined => {
  const owner = statusNode(s);
  return owner ? { owner, standbys: (s.status?.standbys ?? []).filter((n) => typeof n === "string") } : undefined;
};

/**
 * What `node` answers for: the Services whose record `answers` accepts (by default: the
 * ones it owns; the agent passes its membership role, so a standby that took over counts).
 */
export function ownedByNode(
  node: string,
  statuses: Iterable<StatusLike>,
  services: ReadonlyMap<string, ServiceLike>,
  answers: (record: OwnerRecord) => boolean = (r) => r.owner === node,
): Ownership {
  const byIP = new Map<string, { ip: IP; interfaces: Set<string> | "all" }>();
  const owned = new Map<string, string[]>();
  for (const st of statuses) {
    const record = ownerRecord(st);
    if (!record || !answers(record)) continue;
    const key = statusService(st);
    const svc = key && services.get(key);
    if (!key || !svc || svc.spec?.type !== "LoadBalancer") continue;
    const ifaces = (st.status?.interfaces ?? []).map((i) => i.name).filter((n): n is string => !!n);
    const ips: string[] = [];
    for (const ing of svc.status?.loadBalancer?.ingress ?? []) {
      const ip = ing.ip ? parseIP(ing.ip) : undefined;
      if (!ip) continue;
      const text = formatIP(ip);
      ips.push(text);
      const entry = byIP.get(text) ?? { ip, interfaces: new Set<string>() };
      if (ifaces.length === 0) entry.interfaces = "all";
      else if (entry.interfaces !== "all") ifaces.forEach((i) => (entry.interfaces as Set<string>).add(i));
      byIP.set(text, entry);
    }
    if (ips.length > 0) owned.set(key, ips);
  }
  const desired = [...byIP.values()].map((e) => ({
    ip: e.ip,
    interfaces: e.interfaces === "all" ? [] : [...e.interfaces].sort(),
  }));
  return { desired, services: owned };
}

/** Service keys for which some other node (one `owner` accepts) holds a ServiceL2Status. */
export function ownedElsewhere(
  node: string,
  statuses: Iterable<StatusLike>,
  owner: (node: string) => boolean = () => true,
): Set<string> {
  const out = new Set<string>();
  for (const st of statuses) {
    const n = statusNode(st);
    const key = statusService(st);
    if (n && key && n !== node && owner(n)) out.add(key);
  }
  return out;
}

/**
 * How long a draining agent keeps answering a moved IP when it never sees the new owner
 * announce it: as long as a move between live nodes (release.ts), long enough for a new owner
 * whose watch lags (a starved node) to start answering first. The drain timeout still bounds
 * the whole stop.
 */
export const HANDOVER_GRACE_MS = RELEASE_GRACE_MS;

export interface HandOver {
  /** Service key -> IPs this draining node must still answer for. */
  remaining: Map<string, string[]>;
  /** When to look again (a grace period ends), if some Service waits on one. */
  recheckAt?: number;
}

/**
 * Make-before-break while draining: a Service we owned is let go once another node owns it
 * AND that node has announced each of its IPs on the wire (gratuitous ARP / unsolicited NA),
 * plus a short linger (release.ts), or `graceMs` after the move was first seen if no
 * announcement reaches us (the new owner on a link we do not listen on). `movedAt` holds when
 * each moved Service was first seen owned elsewhere; `announcedAt`, when other hosts announced
 * each IP since the drain began.
 */
export function handOver(
  frozen: ReadonlyMap<string, string[]>,
  elsewhere: ReadonlySet<string>,
  movedAt: ReadonlyMap<string, number>,
  announcedAt: ReadonlyMap<string, number>,
  now: number,
  graceMs = HANDOVER_GRACE_MS,
): HandOver {
  const remaining = new Map<string, string[]>();
  let recheckAt: number | undefined;
  for (const [key, ips] of frozen) {
    const since = movedAt.get(key);
    if (elsewhere.has(key) && since !== undefined) {
      const stopAt = stopAfterAnnouncement(ips, announcedAt, -Infinity);
      if ((stopAt !== undefined && now >= stopAt) || now - since >= graceMs) continue;
      recheckAt = Math.min(recheckAt ?? Infinity, since + graceMs, stopAt ?? Infinity);
    }
    remaining.set(key, ips);
  }
  return { remaining, ...(recheckAt !== undefined ? { recheckAt } : {}) };
}
