import type { ValidityStatus, LabelSelector, MetallbObject } from "./common";

export interface PreferredNodeSelector {
  /** 1..100; weights of all matching preferences add up. */
  weight: number;
  preference: LabelSelector;
}

export interface L2AdvertisementSpec {
  /** Pools by name; with ipAddressPoolSelectors empty too, every pool. */
  ipAddressPools?: string[];
  ipAddressPoolSelectors?: LabelSelector[];
  /** Nodes allowed to announce (ORed); empty means all. */
  nodeSelectors?: LabelSelector[];
  /** Empty means every suitable interface. */
  interfaces?: string[];
  serviceSelectors?: LabelSelector[];
  preferredNodeSelectors?: PreferredNodeSelector[];
}

export type L2AdvertisementStatus = ValidityStatus;

export type L2Advertisement = MetallbObject<L2AdvertisementSpec, L2AdvertisementStatus>;
