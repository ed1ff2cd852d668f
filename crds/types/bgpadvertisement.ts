import type { ValidityStatus, LabelSelector, MetallbObject } from "./common";

export interface BGPAdvertisementSpec {
  /** Defaults to 32 (set by the API server). */
  aggregationLength?: number;
  /** Defaults to 128 (set by the API server). */
  aggregationLengthV6?: number;
  /** 0 or unset: no LOCAL_PREF attribute. */
  localPref?: number;
  /** "AA:NN", "large:A:B:C" or a Community alias name. */
  communities?: string[];
  ipAddressPools?: string[];
  ipAddressPoolSelectors?: LabelSelector[];
  nodeSelectors?: LabelSelector[];
  /** BGPPeer names; empty means every peer. */
  peers?: string[];
  /** Only with the default aggregation lengths. */
  serviceSelectors?: LabelSelector[];
}

export type BGPAdvertisementStatus = ValidityStatus;

export type BGPAdvertisement = MetallbObject<BGPAdvertisementSpec, BGPAdvertisementStatus>;
