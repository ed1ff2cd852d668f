/** Builders for the parser's tests. */
import type {
  BFDProfileSpec,
  BGPAdvertisementSpec,
  BGPPeerSpec,
  CommunityAlias,
  IPAddressPoolSpec,
  L2AdvertisementSpec,
} from "../../../crds/types";
import { parseConfig } from "./parse";
import type { Config, ConfigInput, ParseOptions } from "./types";

export const NS = "metallb-system";
const meta = (name: string, labels?: Record<string, string>) => ({
  name,
  namespace: NS,
  ...(labels ? { labels } : {}),
});

export const pool = (
  name: string,
  addresses: string[],
  spec: Partial<IPAddressPoolSpec> = {},
  labels?: Record<string, string>,
) => ({
  metadata: meta(name, labels),
  spec: { addresses, ...spec },
});
export const peer = (name: string, spec: Partial<BGPPeerSpec>) => ({
  metadata: meta(name),
  spec: { myASN: 64512, peerASN: 64513, peerAddress: "192.0.2.1", ...spec } as BGPPeerSpec,
});
export const l2 = (name: string, spec: L2AdvertisementSpec = {}) => ({ metadata: meta(name), spec });
export const bgpAd = (name: string, spec: BGPAdvertisementSpec = {}) => ({ metadata: meta(name), spec });
export const community = (name: string, communities: CommunityAlias[]) => ({
  metadata: meta(name),
  spec: { communities },
});
export const bfd = (name: string, spec: BFDProfileSpec = {}) => ({ metadata: meta(name), spec });

export const input = (parts: Partial<ConfigInput>): ConfigInput => ({ namespace: NS, ...parts });

/** Every error message, or [] when the configuration parses. */
export function errorsOf(parts: Partial<ConfigInput>, options?: ParseOptions): string[] {
  const r = parseConfig(input(parts), options);
  return r.ok ? [] : r.errors.map((e) => e.message);
}

export function warningsOf(parts: Partial<ConfigInput>, options?: ParseOptions): string[] {
  return parseConfig(input(parts), options).warnings;
}

/** The parsed model; throws with the messages when the configuration is invalid. */
export function configOf(parts: Partial<ConfigInput>): Config {
  const r = parseConfig(input(parts));
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
  return r.config;
}
