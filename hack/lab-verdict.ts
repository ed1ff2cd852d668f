/**
 * Pure: is one Service address of the lab reachable, judged only from what was observed?
 *
 * L2: exactly one host answered the client's ARP/NDP request, and it is the node the
 * ServiceL2Status names. BGP: every router that some node announces the address to (per
 * ServiceBGPStatus, over an Established session) holds a route covering it whose valid
 * next hops are exactly those nodes, no more and no fewer.
 */

export interface AddressObservation {
  /** Nodes named by ServiceL2Status objects of the Service. */
  l2Owners: readonly string[];
  /** Hosts (node names, or other labels) whose MAC answered the client's ARP/NDP request. */
  answeredBy: readonly string[];
  /** Router -> nodes that should be next hops (ServiceBGPStatus peer + Established session). */
  bgpExpected: ReadonlyMap<string, ReadonlySet<string>>;
  /** Router -> next-hop nodes of the valid paths of the routes covering the address. */
  bgpRoutes: ReadonlyMap<string, ReadonlySet<string>>;
}

export interface Verdict {
  reachable: boolean;
  /** One short line per finding, e.g. "L2: node-0 answers" or "NO: router-b has no route". */
  lines: string[];
}

const list = (s: Iterable<string>): string => [...s].sort().join(",");

export function judgeAddress(o: AddressObservation): Verdict {
  const lines: string[] = [];
  let reachable = true;
  let ways = 0;
  const fail = (why: string): void => {
    reachable = false;
    lines.push(`NO: ${why}`);
  };

  if (o.l2Owners.length > 1) fail(`several L2 owners (${list(o.l2Owners)})`);
  else if (o.l2Owners.length === 1) {
    ways++;
    const owner = o.l2Owners[0];
    if (o.answeredBy.length === 0) fail(`no ARP/NDP answer (owner ${owner})`);
    else if (o.answeredBy.length > 1) fail(`several hosts answer (${list(o.answeredBy)})`);
    else if (o.answeredBy[0] !== owner) fail(`${o.answeredBy[0]} answers, owner is ${owner}`);
    else lines.push(`L2: ${owner} answers`);
  } else if (o.answeredBy.length > 0) fail(`answered by ${list(o.answeredBy)} without an L2 owner`);

  for (const [router, expected] of [...o.bgpExpected].sort(([a], [b]) => a.localeCompare(b))) {
    if (expected.size === 0) continue;
    ways++;
    const got = o.bgpRoutes.get(router);
    if (!got || got.size === 0) fail(`${router} has no route`);
    else if (list(got) !== list(expected)) fail(`${router} via ${list(got)}, expected ${list(expected)}`);
    else lines.push(`BGP: ${router} via ${got.size} node${got.size === 1 ? "" : "s"}`);
  }
  // Routes towards a router nobody should be announcing to are a leak, not extra reachability.
  for (const [router, got] of o.bgpRoutes) {
    if (got.size > 0 && !o.bgpExpected.get(router)?.size)
      fail(`${router} has a route via ${list(got)} nobody announces`);
  }

  if (ways === 0 && reachable) fail("neither an L2 owner nor a BGP announcement");
  return { reachable, lines };
}
