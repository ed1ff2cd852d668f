/**
 * BGP planning shared by the controller and the node agent: which sessions
 * exist and which routes each node sends to each peer. Pure.
 */
export * from "./types";
export {
  planAdvertisements,
  planNode,
  plannedSessions,
  peerSelectsNode,
  aggregatedPrefix,
  type PlanInput,
} from "./plan";
export { nodeExclusion, endpointReason, endpointServes, EXCLUDE_LB_LABEL } from "./eligibility";
export {
  toPlanNode,
  toPlanService,
  endpointsByService,
  serviceKeyOf,
  SERVICE_NAME_LABEL,
  type NodeLike,
  type ServiceLike,
  type EndpointSliceLike,
} from "./kube-input";
export { standardValue, largeValue, sortedStandard, sortedLarge, formatStandard, formatLarge } from "./communities";
