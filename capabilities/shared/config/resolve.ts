/**
 * resolveConfig: the configuration the reconcilers run on, where a bad object disables
 * only itself. MetalLB rejects the whole configuration for one bad object, and before
 * this we did too: one dangling Community alias on a restart left the allocator with no
 * pools and cleared every Service's address.
 *
 * Choices:
 * - The parser blames each error on one object (kind and name). Those objects are set
 *   aside and the rest parsed again, until nothing is blamed. Setting one aside can
 *   break what referred to it (a BGPAdvertisement naming a disabled BGPPeer): that
 *   object is then blamed in the next pass, with its own message.
 * - Of two conflicting objects the newcomer is blamed. "Older" is, in order: accepted
 *   before and unchanged since (by an earlier resolution in this process, or, across a
 *   restart, by the `Valid` condition a controller wrote in its status for this
 *   generation); for pools, holding Services' addresses; then creationTimestamp. The
 *   first two survive a restart, where creation timestamps (whole seconds) can tie.
 * - An object with a last good version (from an earlier resolution in this process)
 *   falls back to it when that version still fits, rather than vanishing: an edit
 *   that slipped past admission does not withdraw what was working.
 * - A pool is never set aside, because that would take addresses from the Services
 *   that hold them. It stays in the model `disabled`: it hands out nothing new, but
 *   its holders keep their addresses and advertisements still announce them.
 * - The allocator resolves the pools alone (`resolvePools`), so no L2 or BGP object can
 *   ever touch allocation.
 */
import { LIST_OF, withObject, type ListField } from "./object-lists";
import { analyzeConfig } from "./parse";
import type { Config, ConfigError, ConfigInput, ConfigKind, Pool } from "./types";

interface Named {
  metadata?: { name?: string };
}

/** `Kind/name`: how a configuration object is identified here. */
export { LIST_OF };

export const objectId = (kind: ConfigKind, name: string): string => `${kind}/${name}`;

/** The raw objects the last resolutions accepted, by objectId. */
export type LastGood = ReadonlyMap<string, unknown>;

/** One object that does not take part as written. */
export interface DisabledObject {
  kind: ConfigKind;
  name: string;
  /** Its errors as the parser worded them, field included. */
  errors: ConfigError[];
  /**
   * What runs instead: its last good version, nothing (it is left out), or, for a pool,
   * its addresses frozen (no new allocations; holders keep theirs).
   */
  fallback: "lastGood" | "none" | "frozen";
}

export interface Resolution {
  /** The model every reconciler runs on: disabled objects left out, pools frozen. */
  config: Config;
  disabled: DisabledObject[];
  warnings: string[];
  /** The raw objects in force (the good ones, and last good versions used): the next LastGood. */
  accepted: Map<string, unknown>;
}

const nameOf = (o: unknown): string => (o as Named)?.metadata?.name ?? "";

/** The parts of an object the parser reads: status and server-set metadata do not count. */
const essence = (o: unknown): string => {
  const obj = o as { metadata?: { name?: string; labels?: Record<string, string> }; spec?: unknown } | undefined;
  return JSON.stringify([obj?.metadata?.name, Object.entries(obj?.metadata?.labels ?? {}).sort(), obj?.spec]);
};
const sameObject = (a: unknown, b: unknown): boolean => a !== undefined && b !== undefined && essence(a) === essence(b);

const splitId = (id: string): [ConfigKind, string] => {
  const slash = id.indexOf("/");
  return [id.slice(0, slash) as ConfigKind, id.slice(slash + 1)];
};

interface StatusView {
  metadata?: { creationTimestamp?: string; generation?: number };
  status?: { conditions?: Array<{ type?: string; status?: string; observedGeneration?: number }> };
}

/** Whether a controller found this very generation valid (config-report.ts writes the condition). */
const validAsIs = (o: StatusView | undefined): boolean => {
  const valid = o?.status?.conditions?.find((c) => c.type === "Valid");
  return (
    valid?.status === "True" &&
    valid.observedGeneration !== undefined &&
    valid.observedGeneration === o?.metadata?.generation
  );
};

const currentObject = (input: ConfigInput, kind: ConfigKind, name: string): unknown =>
  ((input[LIST_OF[kind]] ?? []) as unknown[]).find((o) => nameOf(o) === name);

/**
 * Whom an error disables. The parser names one side of a conflict between two objects
 * (the later of two overlapping pools by name). What already worked should keep
 * working, so the newcomer is disabled instead (the order is in the header).
 */
function blame(e: ConfigError, input: ConfigInput, lastGood: LastGood): string {
  const sides = [{ kind: e.kind, name: e.name }, ...(e.related ?? [])];
  const inUse = new Set(input.poolsInUse ?? []);
  const rank = ({ kind, name }: { kind: ConfigKind; name: string }): [number, number, string] => {
    const current = currentObject(input, kind, name) as StatusView | undefined;
    const good = lastGood.get(objectId(kind, name));
    const settled = (good !== undefined && sameObject(good, current)) || validAsIs(current);
    const holds = kind === "IPAddressPool" && inUse.has(name);
    return [settled ? 0 : 1, holds ? 0 : 1, String(current?.metadata?.creationTimestamp ?? "")];
  };
  const newer = (a: [number, number, string], b: [number, number, string]): boolean =>
    a[0] !== b[0] ? a[0] > b[0] : a[1] !== b[1] ? a[1] > b[1] : a[2] > b[2];
  let newest = sides[0];
  let newestRank = rank(newest);
  for (const side of sides.slice(1)) {
    if (currentObject(input, side.kind, side.name) === undefined) continue;
    const r = rank(side);
    if (newer(r, newestRank)) [newest, newestRank] = [side, r];
  }
  return objectId(newest.kind, newest.name);
}

export function resolveConfig(raw: ConfigInput, lastGood: LastGood = new Map()): Resolution {
  let input = raw;
  const disabled = new Map<string, DisabledObject>();
  const frozen = new Set<string>();
  // Each pass disables at least one more object, so this ends within (objects + 1) passes.
  for (;;) {
    const analysis = analyzeConfig(input);
    const blamed = new Map<string, ConfigError[]>();
    for (const e of analysis.errors) {
      const id = blame(e, input, lastGood);
      if (frozen.has(id)) continue;
      blamed.set(id, [...(blamed.get(id) ?? []), e]);
    }
    if (blamed.size === 0) {
      const config = freezePools(analysis.config, frozen, disabled);
      return {
        config,
        disabled: [...disabled.values()],
        warnings: analysis.warnings.map((w) => w.message),
        accepted: acceptedObjects(input, frozen),
      };
    }
    for (const [id, errors] of blamed) {
      const [kind, name] = splitId(id);
      const earlier = disabled.get(id);
      const good = lastGood.get(id);
      const current = currentObject(input, kind, name);
      if (!earlier && good !== undefined && !sameObject(good, current)) {
        disabled.set(id, { kind, name, errors, fallback: "lastGood" });
        input = withObject(input, kind, name, good);
      } else if (kind === "IPAddressPool" && name !== "") {
        disabled.set(id, { kind, name, errors: earlier?.errors ?? errors, fallback: "frozen" });
        frozen.add(id);
      } else {
        disabled.set(id, { kind, name, errors: earlier?.errors ?? errors, fallback: "none" });
        input = withObject(input, kind, name);
      }
    }
  }
}

/** The pools alone: what the allocator runs on. BGP and L2 objects cannot affect it. */
export function resolvePools(raw: ConfigInput, lastGood: LastGood = new Map()): Resolution {
  return resolveConfig(
    { namespace: raw.namespace, pools: raw.pools, namespaces: raw.namespaces, poolsInUse: raw.poolsInUse },
    lastGood,
  );
}

function freezePools(
  config: Config,
  frozen: ReadonlySet<string>,
  disabled: ReadonlyMap<string, DisabledObject>,
): Config {
  if (frozen.size === 0) return config;
  const pools: Pool[] = config.pools.map((p) => {
    const id = objectId("IPAddressPool", p.name);
    if (!frozen.has(id)) return p;
    const why = disabled
      .get(id)!
      .errors.map((e) => e.message)
      .join("; ");
    return { ...p, disabled: why };
  });
  return { ...config, pools };
}

function acceptedObjects(input: ConfigInput, frozen: ReadonlySet<string>): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [kind, field] of Object.entries(LIST_OF) as Array<[ConfigKind, ListField]>) {
    for (const obj of (input[field] ?? []) as unknown[]) {
      const id = objectId(kind, nameOf(obj));
      if (nameOf(obj) !== "" && !frozen.has(id)) out.set(id, obj);
    }
  }
  return out;
}
