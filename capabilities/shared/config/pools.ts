/**
 * IPAddressPool: addresses (CIDRs and ranges, summarized), address classes no pool may
 * hold, overlap across the whole configuration, serviceAllocation.
 */
import type { IPAddressPool } from "../../../crds/types";
import { refusedAddressClass } from "./address-classes";
import { cidrFirst, cidrLast, parseCIDR, parseIP, rangeToCIDRs, type CIDR, type Family } from "../net/ip";
import { isIntIn, q, show, type Diagnostics, type ObjectDiagnostics } from "./diagnostics";
import { namedObjects } from "./objects";
import { checkSelectorList, selectNames } from "./selectors";
import type { ConfigInput, Pool, PoolAddress, ServiceAllocationModel } from "./types";

const ADDRESS_HINT = `write a CIDR such as "192.0.2.0/24" or a range such as "192.0.2.10-192.0.2.20"`;

/** Parses one spec.addresses entry; undefined (after reporting) when malformed. */
export function parseAddress(text: string, field: string, poolName: string, d: ObjectDiagnostics): CIDR[] | undefined {
  const s = String(text ?? "").trim();
  if (s.includes("-")) {
    const parts = s.split("-").map((p) => p.trim());
    const start = parseIP(parts[0]);
    const end = parts.length === 2 ? parseIP(parts[1]) : undefined;
    const bad = (why: string) => d.error(field, `${field}: invalid IP range ${q(s)}: ${why}; ${ADDRESS_HINT}`);
    if (!start) return void bad(`invalid start IP ${q(parts[0])}`);
    if (!end) return void bad(`invalid end IP ${q(parts.slice(1).join("-"))}`);
    if (start.family !== end.family)
      return void bad(`start IP ${q(parts[0])} and end IP ${q(parts[1])} are of different families`);
    if (start.value > end.value) return void bad(`start IP ${q(parts[0])} is after the end IP ${q(parts[1])}`);
    return rangeToCIDRs(start, end);
  }
  const cidr = parseCIDR(s);
  if (!cidr) {
    const hint = parseIP(s) ? `write ${q(`${s}/${s.includes(":") ? 128 : 32}`)} for a single address` : ADDRESS_HINT;
    return void d.error(field, `${field}: invalid CIDR ${q(s)} in pool ${q(poolName)}; ${hint}`);
  }
  return [cidr];
}

interface Span {
  pool: string;
  index: number;
  text: string;
  family: Family;
  lo: bigint;
  hi: bigint;
}

/** Every entry is one contiguous block, so overlap is interval intersection. */
function spanOf(pool: string, index: number, a: PoolAddress): Span {
  const first = a.cidrs[0];
  const last = a.cidrs[a.cidrs.length - 1];
  return { pool, index, text: a.text, family: first.family, lo: cidrFirst(first).value, hi: cidrLast(last).value };
}

function parseServiceAllocation(
  obj: IPAddressPool,
  input: ConfigInput,
  d: ObjectDiagnostics,
): ServiceAllocationModel | undefined {
  const sa = obj.spec?.serviceAllocation;
  if (!sa) return undefined;
  const base = "spec.serviceAllocation";
  if (sa.priority !== undefined && !isIntIn(sa.priority, -(2 ** 31), 2 ** 31 - 1)) {
    d.error(
      `${base}.priority`,
      `${base}.priority: invalid priority ${show(sa.priority)}; use a whole number (lower is tried first)`,
    );
  }
  const names = new Set<string>();
  (sa.namespaces ?? []).forEach((ns, i) => {
    const f = `${base}.namespaces[${i}]`;
    if (names.has(ns)) d.error(f, `${f}: duplicate definition in namespaces field ${q(ns)}; list each namespace once`);
    names.add(ns);
  });
  const namespaceSelectors = checkSelectorList(
    sa.namespaceSelectors,
    {
      field: `${base}.namespaceSelectors`,
      parseError: "invalid namespace label selector",
      listName: "namespaceSelectors",
    },
    d,
  );
  const serviceSelectors = checkSelectorList(
    sa.serviceSelectors,
    { field: `${base}.serviceSelectors`, parseError: "invalid service label selector", listName: "serviceSelectors" },
    d,
  );
  if (input.namespaces && namespaceSelectors.length > 0) {
    for (const ns of selectNames(namespaceSelectors, input.namespaces)) names.add(ns);
  }
  return { priority: sa.priority ?? 0, namespaces: names, namespaceSelectors, serviceSelectors };
}

/** Parses every pool; pools with errors are still returned so references to them resolve. */
export function parsePools(input: ConfigInput, diags: Diagnostics): Map<string, Pool> {
  const pools = new Map<string, Pool>();
  const spans: Span[] = [];
  for (const { name, obj } of namedObjects("IPAddressPool", input.pools, input.namespace, diags)) {
    const d = diags.for("IPAddressPool", name);
    const texts = obj.spec?.addresses ?? [];
    if (texts.length === 0) {
      d.error("spec.addresses", `spec.addresses: pool has no prefixes defined; ${ADDRESS_HINT}`);
    }
    const addresses: PoolAddress[] = [];
    texts.forEach((text, i) => {
      const field = `spec.addresses[${i}]`;
      const cidrs = parseAddress(text, field, name, d);
      if (!cidrs) return;
      const entry: PoolAddress = { text: String(text).trim(), cidrs };
      // Left out of the model too, so that nothing ever hands out 0.0.0.0 or ::.
      const refused = refusedAddressClass(cidrs);
      if (refused) return d.error(field, `${field} ${q(entry.text)} ${refused}`);
      const span = spanOf(name, i, entry);
      const clash = spans.find((o) => o.family === span.family && o.lo <= span.hi && span.lo <= o.hi);
      if (clash && clash.pool === name) {
        d.error(
          field,
          `${field} ${q(entry.text)} overlaps with ${q(clash.text)} in spec.addresses[${clash.index}] of the same pool; list each address once`,
        );
      } else if (clash) {
        d.error(
          field,
          `${field} ${q(entry.text)} overlaps with ${q(clash.text)} in IPAddressPool ${q(clash.pool)}; pools must not share addresses`,
          {
            related: [{ kind: "IPAddressPool", name: clash.pool }],
          },
        );
      }
      spans.push(span);
      addresses.push(entry);
    });
    pools.set(name, {
      name,
      labels: obj.metadata?.labels ?? {},
      cidrs: addresses.flatMap((a) => a.cidrs),
      addresses,
      autoAssign: obj.spec?.autoAssign ?? true,
      avoidBuggyIPs: obj.spec?.avoidBuggyIPs ?? false,
      serviceAllocation: parseServiceAllocation(obj, input, d),
    });
  }
  return pools;
}
