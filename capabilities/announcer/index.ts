/**
 * The announcer capability, controller side: admission for the L2/BGP
 * configuration kinds. L2 owner election and BGP session planning build on it.
 */
import { Capability, a } from "pepr";
import { BFDProfile, BGPAdvertisement, BGPPeer, Community, L2Advertisement } from "../../crds/register";
import { admitConfigObject } from "../shared/kube/config-admission";
import { configChanged } from "../shared/kube/config-changes";
import { onLeaseDelete, onLeaseUpsert } from "./l2/controller";
import { Lease } from "./l2/lease-kind";
import { endpointSliceEvents, nodeEvents } from "../shared/kube/watch-fanout";

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
When(BFDProfile).IsDeleted().Validate(admitConfigObject("BFDProfile"));

// The configuration is parsed as a whole: any change to these kinds re-reads it.
for (const model of [L2Advertisement, BGPAdvertisement, BGPPeer, Community, BFDProfile]) {
  When(model).IsCreatedOrUpdated().Watch(configChanged);
  When(model).IsDeleted().Watch(configChanged);
}

// Nodes and EndpointSlices: one Watch each, fanned out to the L2 and BGP controllers
// (shared/kube/watch-fanout.ts; Services arrive there from the allocator's binding).
// Subscribe there rather than adding a second binding.
When(a.Node).IsCreatedOrUpdated().Watch((n) => nodeEvents.emit(n, "upsert"));
When(a.Node).IsDeleted().Watch((n) => nodeEvents.emit(n, "delete"));
When(a.EndpointSlice).IsCreatedOrUpdated().Watch((e) => endpointSliceEvents.emit(e, "upsert"));
When(a.EndpointSlice).IsDeleted().Watch((e) => endpointSliceEvents.emit(e, "delete"));

// L2 owner election (l2/controller.ts) watches the agents' liveness Leases; it takes
// Nodes, Services and EndpointSlices from the fan-out above.
When(Lease).IsCreatedOrUpdated().Watch((l) => onLeaseUpsert(l));
When(Lease).IsDeleted().Watch((l) => onLeaseDelete(l));
