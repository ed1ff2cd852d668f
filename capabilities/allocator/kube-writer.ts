/** The Service controller's edge: status patches, Events and IPAddressPool status on the API server. */
import type { V1Service } from "@kubernetes/client-node";
import { GROUP, KINDS } from "../../crds/types/kinds";
import type { Allocator } from "../shared/allocator/allocator";
import { eventRecorder, recordEvent } from "../shared/kube/events";
import { kubeHttp } from "../shared/kube/http";
import { publishedPools, publishPoolStats, toGaugeValue } from "./metrics";
import { ANNOTATION } from "./service-request";
import type { ServiceWriter } from "./service-controller";

const component = "metallb-controller";
/** How long a status write that takes an address away waits for the Events that explain it. */
const EVENTS_FIRST_MS = 2000;

export class KubeServiceWriter implements ServiceWriter {
  constructor(
    private readonly engine: Allocator,
    private readonly namespace: string,
  ) {}

  /** One /status merge patch carries both the ingress list and the pool annotation, as MetalLB does. */
  async writeStatus(
    svc: V1Service,
    ips: readonly string[],
    pool: string | undefined,
    eventsFirst: boolean,
  ): Promise<V1Service> {
    // Events are written in the background; wait for them (bounded) before an address goes.
    if (eventsFirst) await Promise.race([eventRecorder().idle(), new Promise((r) => setTimeout(r, EVENTS_FIRST_MS))]);
    const { name, namespace } = svc.metadata!;
    const updated = await kubeHttp().mergePatch<V1Service>(`/api/v1/namespaces/${namespace}/services/${name}/status`, {
      metadata: { annotations: { [ANNOTATION.allocatedFromPool]: pool ?? null } },
      status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } },
    });
    // The API server takes writes again: an Event still waiting out a 429 back-off goes now,
    // close behind the status it explains, not seconds later.
    eventRecorder().apiTookWrite();
    // Kept by the controller until the watch delivers it: without the bulk the cache drops too.
    if (updated.metadata) delete updated.metadata.managedFields;
    return updated;
  }

  event(svc: V1Service, type: "Normal" | "Warning", reason: string, message: string): void {
    void recordEvent({ ...svc, apiVersion: "v1", kind: "Service" }, type, reason, message, component);
  }

  poolsChanged(poolNames: ReadonlySet<string>): void {
    // Pools that have series but no stats any more were deleted: their series go.
    for (const name of new Set([...poolNames, ...publishedPools()])) {
      const stats = this.engine.poolStats(name);
      publishPoolStats(name, stats);
      if (stats) this.schedulePoolStatus(name);
    }
  }

  private readonly pendingPools = new Set<string>();
  private poolTimer?: NodeJS.Timeout;

  /** Pool status is a summary: coalesce bursts into at most one write per pool every 500 ms. */
  private schedulePoolStatus(name: string): void {
    this.pendingPools.add(name);
    this.poolTimer ??= setTimeout(() => {
      this.poolTimer = undefined;
      const names = [...this.pendingPools];
      this.pendingPools.clear();
      for (const pool of names) void this.writePoolStatus(pool);
    }, 500);
  }

  private async writePoolStatus(name: string): Promise<void> {
    const stats = this.engine.poolStats(name);
    if (!stats) return;
    const int64 = (n: bigint) => toGaugeValue(n);
    try {
      // On the pooled keep-alive client: written every 500 ms while allocating.
      await kubeHttp().mergePatch(
        `/apis/${GROUP}/${KINDS.IPAddressPool.version}/namespaces/${this.namespace}/${KINDS.IPAddressPool.plural}/${name}/status`,
        {
          status: {
            assignedIPv4: int64(stats.assignedIPv4),
            assignedIPv6: int64(stats.assignedIPv6),
            availableIPv4: int64(stats.availableIPv4),
            availableIPv6: int64(stats.availableIPv6),
          },
        },
      );
    } catch {
      // The pool may have just been deleted; the next change rewrites it.
    }
  }
}
