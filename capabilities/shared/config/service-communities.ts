/**
 * Communities a Service asks for on its own routes (metallb#934: one tenant's routes
 * tagged with that tenant's communities, which a BGPAdvertisement cannot say when many
 * tenants share a pool).
 *
 * Choices:
 * - The Service lists values ("AA:NN", "large:A:B:C") or Community alias names, comma
 *   separated, in SERVICE_COMMUNITIES_ANNOTATION: the same vocabulary as a
 *   BGPAdvertisement's spec.communities, so a network team can hand tenants aliases.
 * - Only advertisements the network team opted in (ADVERTISEMENT_OPT_IN_ANNOTATION set to
 *   "true") add them. A community steers the routers (no-export, blackhole), and Service
 *   authors are often not the people who run the routers.
 * - A malformed entry is refused at admission; an alias not defined yet is admitted with a
 *   warning and skipped until a Community defines it, as for advertisements.
 */
import { resolveCommunityEntry, splitCommunities } from "./communities";
import { q } from "./diagnostics";
import type { CommunityAliasModel, CommunityValue, LargeCommunity, StandardCommunity } from "./types";

export const SERVICE_COMMUNITIES_ANNOTATION = "metallb.io/bgp-communities";
export const ADVERTISEMENT_OPT_IN_ANNOTATION = "metallb.io/service-communities";

/** As many as MetalLB's native speaker puts on one advertisement. */
export const MAX_SERVICE_COMMUNITIES = 63;

export interface ServiceCommunities {
  readonly standard: readonly StandardCommunity[];
  readonly large: readonly LargeCommunity[];
  /** Entries that can never be honoured, each with the reason and the fix. */
  readonly errors: readonly string[];
  /** Alias names no Community defines (yet). */
  readonly unknownAliases: readonly string[];
}

const NONE: ServiceCommunities = { standard: [], large: [], errors: [], unknownAliases: [] };

/** Reads the annotation's entries against the Community aliases; text undefined means none. */
export function parseServiceCommunities(
  text: string | undefined,
  aliases: readonly CommunityAliasModel[],
): ServiceCommunities {
  if (text === undefined) return NONE;
  const entries = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const errors: string[] = [];
  const unknownAliases: string[] = [];
  const values: CommunityValue[] = [];
  if (entries.length > MAX_SERVICE_COMMUNITIES)
    errors.push(`${entries.length} communities; list at most ${MAX_SERVICE_COMMUNITIES}`);
  const aliasValue = (name: string) => aliases.find((a) => a.name === name)?.value;
  for (const text of entries.slice(0, MAX_SERVICE_COMMUNITIES)) {
    const entry = resolveCommunityEntry(text, aliasValue);
    if (entry.ok) values.push(entry.value);
    else if (entry.unknownAlias) unknownAliases.push(text);
    else errors.push(entry.error);
  }
  return { ...splitCommunities(values), errors, unknownAliases };
}

/**
 * Admission's words for one annotation: errors refuse the Service, warnings are printed by
 * kubectl. Without the configuration (aliases and opt-in undefined) only the syntax is judged.
 */
export function checkServiceCommunities(
  text: string | undefined,
  aliases: readonly CommunityAliasModel[] | undefined,
  anyAdvertisementOptedIn: boolean | undefined,
): { errors: string[]; warnings: string[] } {
  if (text === undefined) return { errors: [], warnings: [] };
  const field = `annotation ${SERVICE_COMMUNITIES_ANNOTATION}`;
  const parsed = parseServiceCommunities(text, aliases ?? []);
  const errors = parsed.errors.map(
    (e) => `${field}: ${e}; list values (AA:NN or large:A:B:C) or Community alias names separated by commas`,
  );
  if (aliases === undefined) return { errors, warnings: [] };
  const warnings = parsed.unknownAliases.map(
    (a) =>
      `${field}: unknown community alias ${q(a)}; it is left off this Service's routes until a Community object defines it`,
  );
  if (anyAdvertisementOptedIn === false)
    warnings.push(
      `${field}: no BGPAdvertisement carries Service communities; they are added only by advertisements annotated ${ADVERTISEMENT_OPT_IN_ANNOTATION}: "true"`,
    );
  return { errors, warnings };
}
