/**
 * Weighted ECMP for externalTrafficPolicy: Local (metallb#1): each node tells the router
 * how much of a Service it serves, so traffic follows the pods instead of being split
 * evenly over nodes that hold one pod or ten.
 *
 * Choices:
 * - Opt-in per BGPAdvertisement (WEIGHTED_ECMP_ANNOTATION: "true"): the router must
 *   understand the link-bandwidth extended community (RFC 10005) and be told to use it.
 * - The weight is the node's serving endpoints of the Service times ENDPOINT_BANDWIDTH:
 *   a router divides traffic in proportion to the values, so only ratios matter; one
 *   endpoint is 1 Mbit/s so the values read naturally in `show bgp`.
 * - Only Local Services get it: with Cluster every node forwards to every pod, so even
 *   shares are right. A prefix shared with a Cluster Service, or from an advertisement that
 *   did not opt in, carries none, and the router falls back to plain ECMP for it.
 */
export const WEIGHTED_ECMP_ANNOTATION = "metallb.io/weighted-ecmp";

/** Bytes per second one serving endpoint is worth: 1 Mbit/s. */
export const ENDPOINT_BANDWIDTH = 125_000;
