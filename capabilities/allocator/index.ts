/**
 * The allocator capability: pools -> IPs. Bindings only; the work is in the
 * reconciler (runtime.ts, service-controller.ts) and the shared parser.
 */
import { Capability, a } from "pepr";
import { IPAddressPool } from "../../crds/register";
import { admitConfigObject } from "../shared/kube/config-admission";
import { admitService } from "./service-admission";
import { onNamespace } from "./runtime";

export const allocator = new Capability({
  name: "allocator",
  description: "Assigns LoadBalancer Service IPs from IPAddressPools and keeps pool status current",
});
const { When } = allocator;

When(IPAddressPool).IsCreatedOrUpdated().Validate(admitConfigObject("IPAddressPool"));
// A pool whose addresses Services hold, or that an advertisement names, is not deleted silently.
When(IPAddressPool).IsDeleted().Validate(admitConfigObject("IPAddressPool"));
When(a.Service).IsCreatedOrUpdated().Validate(admitService);

// IPAddressPools are watched by the configuration store (shared/kube/config-store.ts)
// with the other metallb.io kinds, not through bindings. Services are watched once for the whole module (shared/kube/cluster-cache.ts), not
// through a binding: the allocator subscribes to serviceEvents in runtime.ts.
When(a.Namespace)
  .IsCreatedOrUpdated()
  .Watch((ns) => onNamespace(ns.metadata!.name!, ns.metadata?.labels ?? {}));
When(a.Namespace)
  .IsDeleted()
  .Watch((ns) => onNamespace(ns.metadata!.name!, undefined));
