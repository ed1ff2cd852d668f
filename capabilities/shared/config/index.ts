/**
 * The configuration parser: all metallb.io objects into one typed model, the
 * admission helpers built on it, and the Service annotation checks. Pure.
 */
export * from "./types";
export { parseConfig, analyzeConfig, type Analysis } from "./parse";
export { validateChange, type ConfigChange, type ChangeVerdict, type ChangedObject } from "./validate-change";
export { checkServiceRequest, type ServiceLike, type ServiceCheck, type ServiceCheckOptions } from "./service-request";
export { parseCommunity } from "./communities";
export {
  parseServiceCommunities,
  SERVICE_COMMUNITIES_ANNOTATION,
  ADVERTISEMENT_OPT_IN_ANNOTATION,
} from "./service-communities";
export { WEIGHTED_ECMP_ANNOTATION, ENDPOINT_BANDWIDTH } from "./weighted-ecmp";
export { parseDuration } from "./duration";
export { formatSelector, selectorSyntaxProblem } from "./selectors";
