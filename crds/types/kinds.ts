/** API group, and which version each kind is stored and served at. Pure. */
export const GROUP = "metallb.io";

export interface KindInfo {
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  /** The storage version: the one clients should write. */
  readonly version: string;
  /** Every served version, storage version last. */
  readonly versions: readonly string[];
  /** Name of the CustomResourceDefinition, `<plural>.metallb.io`. */
  readonly crdName: string;
}

const info = (kind: string, plural: string, versions: readonly string[] = ["v1beta1"]): KindInfo => ({
  kind,
  plural,
  singular: kind.toLowerCase(),
  version: versions[versions.length - 1],
  versions,
  crdName: `${plural}.${GROUP}`,
});

export const KINDS = {
  IPAddressPool: info("IPAddressPool", "ipaddresspools"),
  L2Advertisement: info("L2Advertisement", "l2advertisements"),
  BGPAdvertisement: info("BGPAdvertisement", "bgpadvertisements"),
  BGPPeer: info("BGPPeer", "bgppeers", ["v1beta1", "v1beta2"]),
  BFDProfile: info("BFDProfile", "bfdprofiles"),
  Community: info("Community", "communities"),
  ServiceL2Status: info("ServiceL2Status", "servicel2statuses"),
  ServiceBGPStatus: info("ServiceBGPStatus", "servicebgpstatuses"),
  ConfigurationState: info("ConfigurationState", "configurationstates"),
  BGPSession: info("BGPSession", "bgpsessions"),
} as const satisfies Record<string, KindInfo>;

export type KindName = keyof typeof KINDS;

export const ALL_KINDS: readonly KindInfo[] = Object.values(KINDS);

/** `metallb.io/<storage version>` for a kind, e.g. apiVersionOf("BGPPeer") === "metallb.io/v1beta2". */
export const apiVersionOf = (kind: KindName): string => `${GROUP}/${KINDS[kind].version}`;
