import type { ValidityStatus, MetallbObject } from "./common";

/** Intervals in milliseconds. Unset fields take the BFD defaults (300/300/3/50). */
export interface BFDProfileSpec {
  receiveInterval?: number;
  transmitInterval?: number;
  detectMultiplier?: number;
  echoInterval?: number;
  echoMode?: boolean;
  passiveMode?: boolean;
  minimumTtl?: number;
}

export type BFDProfileStatus = ValidityStatus;

export type BFDProfile = MetallbObject<BFDProfileSpec, BFDProfileStatus>;
