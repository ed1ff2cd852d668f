/**
 * The allocator capability: pools -> IPs. Bindings only; the work is in the
 * reconciler (runtime.ts, service-controller.ts) and the shared parser.
 */
import { Capability, a } from "pepr";
import { IPAddressPool } from "../../crds/register";
import { admitConfigObject } from "../shared/kube/config-admission";
import { admitService } from "./service-admission";
import { configChanged } from "../shared/kube/config-changes";
import { onNamespace } from "./runtime";

export const allocator = new Capability({
  name: "allocator",
  description: "Assigns LoadBalancer Service IPs from IPAddressPools and keeps pool status current",
});
const { When } = allocator;

When(IPAddressPool).IsCreatedOrUpdated().Validate(admitConfigObject("IPAddressPool"));
When(a.Service).IsCreatedOrUpdated().Validate(admitService);

When(IPAddressPool).IsCreatedOrUpdated().Watch(configChanged);
When(IPAddressPool).IsDeleted().Watch(configChanged);
// Services are watched once for the whole module (shared/kube/cluster-cache.ts), not
// through a binding: the allocator subscribes to serviceEvents in runtime.ts.
When(a.Namespace)
  .IsCreatedOrUpdated()
  .Watch((ns) => onNamespace(ns.metadata!.name!, ns.metadata?.labels ?? {}));
When(a.Namespace)
  .IsDeleted()
  .Watch((ns) => onNamespace(ns.metadata!.name!, undefined));
