/**
 * parseConfig: every metallb.io object at once into the typed model, with every
 * rule that spans objects. The allocator, the announcer, the agent and admission
 * all call this one function.
 */
import { parseBGPAdvertisements, parseL2Advertisements } from "./advertisements";
import { parseBFDProfiles } from "./bfd";
import { parseCommunityAliases } from "./communities";
import { Diagnostics } from "./diagnostics";
import { parsePeers } from "./peers";
import { parsePools } from "./pools";
import { conformInput } from "./shape";
import type { Config, ConfigError, ConfigInput, ParseOptions, ParseResult } from "./types";

export interface Analysis {
  config: Config;
  errors: ConfigError[];
  warnings: ConfigError[];
}

/** Runs every rule and returns the model together with structured errors and warnings. */
export function analyzeConfig(raw: ConfigInput, options: ParseOptions = {}): Analysis {
  const d = new Diagnostics();
  const input = conformInput(raw, d);
  const bfdProfiles = parseBFDProfiles(input, d);
  const aliases = parseCommunityAliases(input, d);
  const pools = parsePools(input, d);
  const peers = [...parsePeers(input, bfdProfiles, d).values()];
  const l2Advertisements = parseL2Advertisements(input, pools, d);
  const bgpAdvertisements = parseBGPAdvertisements(input, pools, peers, aliases, d);
  const config: Config = {
    pools: [...pools.values()],
    l2Advertisements,
    bgpAdvertisements,
    peers,
    bfdProfiles: [...bfdProfiles.values()],
    communities: [...aliases.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, a]) => ({ name, value: a.value })),
  };
  if (!options.deferReferences) return { config, errors: d.errors, warnings: d.warnings };
  return {
    config,
    errors: d.errors.filter((e) => !e.transient),
    warnings: [...d.errors.filter((e) => e.transient), ...d.warnings],
  };
}

/** Parses the whole configuration: the model, or every error found. */
export function parseConfig(input: ConfigInput, options: ParseOptions = {}): ParseResult {
  const { config, errors, warnings } = analyzeConfig(input, options);
  const texts = warnings.map((w) => w.message);
  return errors.length === 0 ? { ok: true, config, warnings: texts } : { ok: false, errors, warnings: texts };
}
