import type { ValidityStatus, LabelSelector, MetallbObject, SecretReference } from "./common";

export type DynamicASNMode = "internal" | "external";

/**
 * BGPPeer spec as stored (v1beta2). v1beta1 objects have the same shape: we
 * run no conversion webhook, so both versions share one schema, and v1beta1's
 * legacy node selector is structurally a LabelSelector.
 */
export interface BGPPeerSpec {
  myASN: number;
  /** Exactly one of peerASN (non-zero) and dynamicASN. */
  peerASN?: number;
  dynamicASN?: DynamicASNMode;
  localASN?: number;
  /** Exactly one of peerAddress and interface. */
  peerAddress?: string;
  interface?: string;
  sourceAddress?: string;
  /** Defaults to 179; 0 (old v1beta1 objects only) also means 179. */
  peerPort?: number;
  /** Go-style durations ("90s", "1m30s"). */
  holdTime?: string;
  keepaliveTime?: string;
  connectTime?: string;
  routerID?: string;
  nodeSelectors?: LabelSelector[];
  password?: string;
  passwordSecret?: SecretReference;
  bfdProfile?: string;
  enableGracefulRestart?: boolean;
  ebgpMultiHop?: boolean;
  vrf?: string;
  /** Deprecated, no effect. */
  disableMP?: boolean;
  dualStackAddressFamily?: boolean;
}

export type BGPPeerStatus = ValidityStatus;

export type BGPPeer = MetallbObject<BGPPeerSpec, BGPPeerStatus>;
