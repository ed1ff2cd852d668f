/**
 * ServiceBGPStatus objects as MetalLB writes them: one per (Service, node) while
 * that node advertises the Service to at least one peer, listing the peers.
 * Pure: from the per-node plans and the existing objects, what to create,
 * patch and delete.
 */
import type { NodePlan } from "../../shared/bgp";

export const SERVICE_NAME_LABEL = "metallb.io/service-name";
export const SERVICE_NAMESPACE_LABEL = "metallb.io/service-namespace";
export const STATUS_NODE_LABEL = "metallb.io/node";

export interface DesiredStatus {
  readonly node: string;
  readonly serviceNamespace: string;
  readonly serviceName: string;
  readonly peers: readonly string[];
}

export interface ExistingStatus {
  metadata?: { name?: string; labels?: Record<string, string> };
  status?: { node?: string; serviceName?: string; serviceNamespace?: string; peers?: string[] };
}

export const statusKey = (node: string, namespace: string, name: string): string => `${namespace}/${name}@${node}`;

/** Every (Service, node) that should have a ServiceBGPStatus, keyed by statusKey. */
export function desiredStatuses(plans: ReadonlyMap<string, NodePlan>): Map<string, DesiredStatus> {
  const out = new Map<string, DesiredStatus>();
  for (const [node, plan] of plans) {
    for (const [svcKey, decision] of plan.services) {
      if (!decision.announce) continue;
      const slash = svcKey.indexOf("/");
      const serviceNamespace = svcKey.slice(0, slash);
      const serviceName = svcKey.slice(slash + 1);
      out.set(statusKey(node, serviceNamespace, serviceName), {
        node,
        serviceNamespace,
        serviceName,
        peers: decision.peers,
      });
    }
  }
  return out;
}

/**
 * Identity comes from the labels (always written at create time), falling back to
 * status for objects whose status is written but labels were edited away.
 */
function identity(obj: ExistingStatus): string | undefined {
  const l = obj.metadata?.labels ?? {};
  const node = l[STATUS_NODE_LABEL] ?? obj.status?.node;
  const ns = l[SERVICE_NAMESPACE_LABEL] ?? obj.status?.serviceNamespace;
  const name = l[SERVICE_NAME_LABEL] ?? obj.status?.serviceName;
  return node && ns && name ? statusKey(node, ns, name) : undefined;
}

const samePeers = (a: readonly string[] = [], b: readonly string[] = []): boolean =>
  a.length === b.length && a.every((p, i) => p === b[i]);

export interface StatusChanges {
  readonly create: DesiredStatus[];
  /** Existing objects whose status (peers, or status not yet written) must be patched. */
  readonly patch: Array<{ name: string; desired: DesiredStatus }>;
  readonly delete: string[];
}

export function diffStatuses(
  desired: ReadonlyMap<string, DesiredStatus>,
  existing: readonly ExistingStatus[],
): StatusChanges {
  const create: DesiredStatus[] = [];
  const patch: Array<{ name: string; desired: DesiredStatus }> = [];
  const del: string[] = [];
  const kept = new Set<string>();
  // Oldest name first so that, of two duplicates, the same one survives every time.
  const sorted = [...existing].sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
  for (const obj of sorted) {
    const name = obj.metadata?.name;
    if (!name) continue;
    const key = identity(obj);
    const want = key ? desired.get(key) : undefined;
    if (!key || !want || kept.has(key)) {
      del.push(name);
      continue;
    }
    const s = obj.status ?? {};
    // Status identity fields are immutable (CEL) once written: a mismatch needs a new object.
    const clash =
      (s.node !== undefined && s.node !== want.node) ||
      (s.serviceName !== undefined && s.serviceName !== want.serviceName) ||
      (s.serviceNamespace !== undefined && s.serviceNamespace !== want.serviceNamespace);
    if (clash) {
      del.push(name);
      continue;
    }
    kept.add(key);
    if (
      s.node !== want.node ||
      s.serviceName !== want.serviceName ||
      s.serviceNamespace !== want.serviceNamespace ||
      !samePeers(s.peers, want.peers)
    ) {
      patch.push({ name, desired: want });
    }
  }
  for (const [key, want] of desired) if (!kept.has(key)) create.push(want);
  return { create, patch, delete: del };
}

/** The object to POST (status follows through the status subresource). */
export function newStatusObject(want: DesiredStatus, namespace: string) {
  return {
    apiVersion: "metallb.io/v1beta1",
    kind: "ServiceBGPStatus",
    metadata: {
      generateName: "bgp-",
      namespace,
      labels: {
        [STATUS_NODE_LABEL]: want.node,
        [SERVICE_NAME_LABEL]: want.serviceName,
        [SERVICE_NAMESPACE_LABEL]: want.serviceNamespace,
      },
    },
    spec: {},
  };
}

export const statusBody = (want: DesiredStatus) => ({
  status: {
    node: want.node,
    serviceName: want.serviceName,
    serviceNamespace: want.serviceNamespace,
    peers: [...want.peers],
  },
});
