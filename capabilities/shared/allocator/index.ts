/** Public surface of the allocation engine. */
export { Allocator } from "./allocator";
export { MAX_INT64, cidrCapacity, isBuggyIP, poolCapacity } from "./capacity";
export { candidatePools, poolAdmits } from "./pool-order";
export { checkFamiliesFit, parseRequestedIPs } from "./requested";
export { backendKeyFor } from "./sharing";
export type * from "./types";
