import type { ValidityStatus, MetallbObject } from "./common";

export interface CommunityAlias {
  name: string;
  /** "AA:NN" or "large:A:B:C". */
  value: string;
}

export interface CommunitySpec {
  communities?: CommunityAlias[];
}

export type CommunityStatus = ValidityStatus;

export type Community = MetallbObject<CommunitySpec, CommunityStatus>;
