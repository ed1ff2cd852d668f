/**
 * The announcer capability, controller side: admission for the L2/BGP
 * configuration kinds. L2 owner election and BGP session planning build on it.
 */
import { Capability } from "pepr";
import { BFDProfile, BGPAdvertisement, BGPPeer, Community, L2Advertisement } from "../../crds/register";
import { admitConfigObject } from "../shared/kube/config-admission";
import { onLeaseDelete, onLeaseUpsert } from "./l2/controller";
import { Lease } from "./l2/lease-kind";

export const announcer = new Capability({
  name: "announcer",
  description: "Decides which nodes announce which IPs, over L2 or BGP",
});
const { When } = announcer;

When(L2Advertisement).IsCreatedOrUpdated().Validate(admitConfigObject("L2Advertisement"));
When(BGPAdvertisement).IsCreatedOrUpdated().Validate(admitConfigObject("BGPAdvertisement"));
When(BGPPeer).IsCreatedOrUpdated().Validate(admitConfigObject("BGPPeer"));
When(Community).IsCreatedOrUpdated().Validate(admitConfigObject("Community"));
When(BFDProfile).IsCreatedOrUpdated().Validate(admitConfigObject("BFDProfile"));
// Deletes too: one that takes away something another object still names is refused.
When(L2Advertisement).IsDeleted().Validate(admitConfigObject("L2Advertisement"));
When(BGPAdvertisement).IsDeleted().Validate(admitConfigObject("BGPAdvertisement"));
When(BGPPeer).IsDeleted().Validate(admitConfigObject("BGPPeer"));
When(Community).IsDeleted().Validate(admitConfigObject("Community"));
When(BFDProfile).IsDeleted().Validate(admitConfigObject("BFDProfile"));

// The configuration kinds are watched once for the whole module by the configuration
// store (shared/kube/config-store.ts), not through bindings.

// Nodes, Services and EndpointSlices are not bound here: the module lists and watches
// each once (shared/kube/cluster-cache.ts) and fans them out to L2 election and BGP
// planning. L2 election also watches the agents' liveness Leases.
When(Lease)
  .IsCreatedOrUpdated()
  .Watch((l) => onLeaseUpsert(l));
When(Lease)
  .IsDeleted()
  .Watch((l) => onLeaseDelete(l));
