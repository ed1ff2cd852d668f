/**
 * A KFC model for coordination.k8s.io/v1 Lease (KFC has none built in), so the announcer
 * can `When(Lease).Watch(...)` the agents' liveness Leases. RegisterKind keys on the class
 * name, hence the class is named after the kind.
 */
import { GenericKind, RegisterKind } from "kubernetes-fluent-client";

export class Lease extends GenericKind {
  declare spec?: { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number };
}
RegisterKind(Lease, { group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases" });
