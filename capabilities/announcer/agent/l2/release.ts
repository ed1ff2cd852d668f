/**
 * Make-before-break when the controller moves an address from this node to another live one
 * (the spread evening out, announcer/l2/spread.ts). Pure; the agent keeps the state.
 *
 * The two agents see the new record at different moments. If this node stopped at once and
 * the new owner saw the record later, the address would go unanswered in between. So this
 * node keeps answering a moved Service until shortly after the new owner has announced each
 * of its IPs on the wire (gratuitous ARP / unsolicited NA), or a grace period passes. The overlap is two
 * live nodes of the same cluster, both able to deliver the traffic; a client follows the
 * newest announcement.
 *
 * Failures do not take this path: a node that is not serving (out of quorum, fenced) keeps
 * nothing, and a release ends at once when the new owner is judged down (its standbys take
 * over by membership) or the record goes away (Service deleted).
 */
export interface Release {
  readonly ips: readonly string[];
  /** When the move was first seen. */
  readonly since: number;
}

export interface ReleaseInput {
  /** Serving by the membership verdict (in quorum, not fenced). */
  readonly serving: boolean;
  /** Service key -> IPs this node answered at the previous update. */
  readonly answered: ReadonlyMap<string, readonly string[]>;
  /** Service key -> IPs its role makes this node answer now. */
  readonly owned: ReadonlyMap<string, readonly string[]>;
  /** Services whose record names another node as owner, one the verdict does not judge down. */
  readonly movedToLive: ReadonlySet<string>;
  readonly releasing: ReadonlyMap<string, Release>;
  /** IP -> when another host last announced it. */
  readonly announcedAt: ReadonlyMap<string, number>;
  readonly now: number;
  readonly graceMs?: number;
}

export interface ReleaseStep {
  readonly releasing: Map<string, Release>;
  /** When to look again (a grace period ends), if something is still being released. */
  readonly recheckAt?: number;
}

/**
 * How long after the move is seen this node keeps answering when the new owner's announcement
 * never reaches it (it answers on a link we do not listen on). Long enough to cover the new
 * owner seeing the record a few seconds after us (a lagging watch); overlap costs nothing.
 */
export const RELEASE_GRACE_MS = 3000;
/**
 * The new owner may announce before this node sees the move (its watch event came first):
 * an announcement this long before the move counts too.
 */
export const ANNOUNCEMENT_LOOKBACK_MS = 2000;

/**
 * How long this node keeps answering after the new owner's announcement: the new owner may
 * still be busy starting (a burst of gratuitous ARPs for many addresses, a starved CPU), and
 * a short overlap of two live nodes costs nothing while a gap loses the client's requests.
 */
export const ANNOUNCED_LINGER_MS = 500;

/**
 * When this node may stop answering `ips`: ANNOUNCED_LINGER_MS after the last of them was
 * announced by another host (at or after `notBefore`); undefined while one is unannounced.
 */
export function stopAfterAnnouncement(
  ips: readonly string[],
  announcedAt: ReadonlyMap<string, number>,
  notBefore: number,
): number | undefined {
  let last = -Infinity;
  for (const ip of ips) {
    const at = announcedAt.get(ip);
    if (at === undefined || at < notBefore) return undefined;
    last = Math.max(last, at);
  }
  return last + ANNOUNCED_LINGER_MS;
}

export function releaseStep(input: ReleaseInput): ReleaseStep {
  const releasing = new Map<string, Release>();
  if (!input.serving) return { releasing };
  const grace = input.graceMs ?? RELEASE_GRACE_MS;
  let recheckAt: number | undefined;
  for (const [key, ips] of input.answered) {
    if (input.owned.has(key) || !input.movedToLive.has(key)) continue;
    const release = input.releasing.get(key) ?? { ips, since: input.now };
    const stopAt = stopAfterAnnouncement(release.ips, input.announcedAt, release.since - ANNOUNCEMENT_LOOKBACK_MS);
    if ((stopAt !== undefined && input.now >= stopAt) || input.now - release.since >= grace) continue;
    releasing.set(key, release);
    recheckAt = Math.min(recheckAt ?? Infinity, release.since + grace, stopAt ?? Infinity);
  }
  return { releasing, ...(recheckAt !== undefined ? { recheckAt } : {}) };
}
