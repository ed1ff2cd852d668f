/**
 * BGP communities: standard "AA:NN" (two uint16), large "large:A:B:C" (three uint32),
 * and the aliases defined by Community objects.
 */
import { q, type Diagnostics } from "./diagnostics";
import { namedObjects } from "./objects";
import type { CommunityValue, ConfigInput, LargeCommunity, ObjectRef, StandardCommunity } from "./types";

export type CommunityParse =
  | { ok: true; value: CommunityValue }
  /** shape: the text is neither two nor four ":"-separated parts (may be an alias name). */
  | { ok: false; shape: boolean; error: string };

function section(text: string, max: number): number | undefined {
  if (!/^\d{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= max ? n : undefined;
}

/** Parses a community value (not an alias). */
export function parseCommunity(text: string): CommunityParse {
  const parts = text.split(":");
  if (parts.length === 2) {
    const nums: number[] = [];
    for (const p of parts) {
      const n = section(p, 0xffff);
      if (n === undefined) {
        return {
          ok: false,
          shape: false,
          error: `invalid community value: invalid section ${q(p)} of community ${q(text)}: must be a number from 0 to 65535`,
        };
      }
      nums.push(n);
    }
    return { ok: true, value: { type: "standard", standard: { asn: nums[0], value: nums[1] } } };
  }
  if (parts.length === 4) {
    if (parts[0] !== "large") {
      return {
        ok: false,
        shape: false,
        error: `invalid community value: invalid marker for large community, expected community to be of format large:<uint32>:<uint32>:<uint32> but got ${q(text)} instead`,
      };
    }
    const nums: number[] = [];
    for (const p of parts.slice(1)) {
      const n = section(p, 0xffffffff);
      if (n === undefined) {
        return {
          ok: false,
          shape: false,
          error: `invalid community value: invalid section ${q(p)} of community ${q(text)}: must be a number from 0 to 4294967295`,
        };
      }
      nums.push(n);
    }
    return { ok: true, value: { type: "large", large: { global: nums[0], local1: nums[1], local2: nums[2] } } };
  }
  return { ok: false, shape: true, error: `invalid community format: ${q(text)}; write AA:NN or large:A:B:C` };
}

/** One entry of a community list, as a BGPAdvertisement or a Service writes it. */
export type CommunityEntry =
  | { ok: true; value: CommunityValue }
  /** Not a community's shape, or no ":" at all: read as the name of an alias nobody defines. */
  | { ok: false; unknownAlias: true }
  | { ok: false; unknownAlias: false; error: string };

/** Resolves one entry: an alias name first, then a literal value. */
export function resolveCommunityEntry(
  text: string,
  aliasValue: (name: string) => CommunityValue | undefined,
): CommunityEntry {
  const alias = aliasValue(text);
  if (alias) return { ok: true, value: alias };
  const parsed = parseCommunity(text);
  if (parsed.ok) return parsed;
  if (parsed.shape || !text.includes(":")) return { ok: false, unknownAlias: true };
  return { ok: false, unknownAlias: false, error: parsed.error };
}

/** Standard and large communities, each value once, in the order first seen. */
export function splitCommunities(values: readonly CommunityValue[]): {
  standard: StandardCommunity[];
  large: LargeCommunity[];
} {
  const standard = new Map<string, StandardCommunity>();
  const large = new Map<string, LargeCommunity>();
  for (const v of values) {
    if (v.type === "standard") standard.set(JSON.stringify(v.standard), v.standard);
    else large.set(JSON.stringify(v.large), v.large);
  }
  return { standard: [...standard.values()], large: [...large.values()] };
}

export interface Alias {
  value: CommunityValue;
  /** The Community object that defines it. */
  owner: ObjectRef;
}

/** Parses every Community object into one alias table (names unique across objects). */
export function parseCommunityAliases(input: ConfigInput, diags: Diagnostics): Map<string, Alias> {
  const aliases = new Map<string, Alias>();
  for (const { name, obj } of namedObjects("Community", input.communities, input.namespace, diags)) {
    const d = diags.for("Community", name);
    (obj.spec?.communities ?? []).forEach((c, i) => {
      const field = `spec.communities[${i}]`;
      const alias = c?.name ?? "";
      if (alias === "") return d.error(`${field}.name`, `${field}.name: missing community name; give the alias a name`);
      const parsed = parseCommunity(String(c.value ?? ""));
      if (!parsed.ok) return d.error(`${field}.value`, `${field}.value: ${parsed.error}`);
      const prior = aliases.get(alias);
      if (prior) {
        const where = prior.owner.name === name ? "in this Community" : `in Community ${q(prior.owner.name)}`;
        return d.error(
          `${field}.name`,
          `${field}.name: duplicate definition of community ${q(alias)}, already defined ${where}; alias names must be unique across all Communities`,
          {
            related: prior.owner.name === name ? undefined : [prior.owner],
          },
        );
      }
      aliases.set(alias, { value: parsed.value, owner: { kind: "Community", name } });
    });
  }
  return aliases;
}
