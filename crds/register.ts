/**
 * kubernetes-fluent-client models for the metallb.io kinds, so capabilities can
 * write `K8s(IPAddressPool)` and `When(IPAddressPool)`. Importing this module
 * registers the kinds (RegisterKind keys on the class name, so each class is
 * named after its kind). Plurals are explicit because KFC's guess ("kind + s")
 * is wrong for several of them (communities, servicel2statuses, ...).
 *
 * Pure code (the agent, parsers) should import ./types instead.
 */
import { GenericKind, RegisterKind } from "kubernetes-fluent-client";
import type * as T from "./types";
import { GROUP, KINDS, type KindName } from "./types/kinds";

// `declare` keeps the fields type-only: with ES2022 class fields a plain
// `spec?: X` would define an own `spec: undefined` on every instance.
export class IPAddressPool extends GenericKind {
  declare spec?: T.IPAddressPoolSpec;
  declare status?: T.IPAddressPoolStatus;
}
export class L2Advertisement extends GenericKind {
  declare spec?: T.L2AdvertisementSpec;
  declare status?: T.L2AdvertisementStatus;
}
export class BGPAdvertisement extends GenericKind {
  declare spec?: T.BGPAdvertisementSpec;
  declare status?: T.BGPAdvertisementStatus;
}
/** Registered at v1beta2, the storage version; v1beta1 is served for old manifests only. */
export class BGPPeer extends GenericKind {
  declare spec?: T.BGPPeerSpec;
  declare status?: T.BGPPeerStatus;
}
export class BFDProfile extends GenericKind {
  declare spec?: T.BFDProfileSpec;
  declare status?: T.BFDProfileStatus;
}
export class Community extends GenericKind {
  declare spec?: T.CommunitySpec;
  declare status?: T.CommunityStatus;
}
export class ServiceL2Status extends GenericKind {
  declare spec?: T.ServiceL2StatusSpec;
  declare status?: T.ServiceL2StatusStatus;
}
export class ServiceBGPStatus extends GenericKind {
  declare spec?: T.ServiceBGPStatusSpec;
  declare status?: T.ServiceBGPStatusStatus;
}
export class ConfigurationState extends GenericKind {
  declare spec?: T.ConfigurationStateSpec;
  declare status?: T.ConfigurationStateStatus;
}
export class BGPSession extends GenericKind {
  declare spec?: T.BGPSessionSpec;
  declare status?: T.BGPSessionStatus;
}

export const MODELS = {
  IPAddressPool,
  L2Advertisement,
  BGPAdvertisement,
  BGPPeer,
  BFDProfile,
  Community,
  ServiceL2Status,
  ServiceBGPStatus,
  ConfigurationState,
  BGPSession,
} as const satisfies Record<KindName, typeof GenericKind>;

for (const name of Object.keys(MODELS) as KindName[]) {
  const { kind, version, plural } = KINDS[name];
  RegisterKind(MODELS[name], { group: GROUP, version, kind, plural });
}

/**
 * Compile-time check that an object read through a model can be handed to pure
 * code typed with ./types: tsc fails here if the two drift apart.
 */
type Assignable<A extends B, B> = [A, B];
export type ModelsConformToTypes = [
  Assignable<IPAddressPool, T.IPAddressPool>,
  Assignable<L2Advertisement, T.L2Advertisement>,
  Assignable<BGPAdvertisement, T.BGPAdvertisement>,
  Assignable<BGPPeer, T.BGPPeer>,
  Assignable<BFDProfile, T.BFDProfile>,
  Assignable<Community, T.Community>,
  Assignable<ServiceL2Status, T.ServiceL2Status>,
  Assignable<ServiceBGPStatus, T.ServiceBGPStatus>,
  Assignable<ConfigurationState, T.ConfigurationState>,
  Assignable<BGPSession, T.BGPSession>,
];
