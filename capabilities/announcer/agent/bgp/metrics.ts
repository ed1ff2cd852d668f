/**
 * The native speaker's Prometheus metrics (reference/metallb.md §6), label `peer` =
 * "addr:port" as MetalLB's native speaker. The four native-mode metrics (session_up,
 * updates_total, announced_prefixes_total, pending_prefixes_total) and the message counters
 * MetalLB's FRR mode exports keep MetalLB's names (without FRR's `vrf` label: we run no
 * VRFs); the counters MetalLB has no name for are ours (metallb_pepr_*). Registered on the
 * agent's registry, served at /metrics.
 */
import { Counter, Gauge, type Registry } from "prom-client";
import { serviceKeyOf, type NodePlan, type PlanService } from "../../../shared/bgp";
import { agentRegistry } from "../metrics";
import type { DrainReason } from "./graceful-shutdown";
import type { MessageKind, SessionObserver, SessionSnapshot } from "./session";

function make(registry: Registry) {
  const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames: ["peer"], registers: [registry] });
  const counter = (name: string, help: string) =>
    new Counter({ name, help, labelNames: ["peer"], registers: [registry] });
  return {
    sessionUp: gauge("metallb_bgp_session_up", "BGP session state (1 is up, 0 is down)"),
    updates: counter("metallb_bgp_updates_total", "Number of BGP UPDATE messages sent"),
    announced: gauge(
      "metallb_bgp_announced_prefixes_total",
      "Number of prefixes currently being advertised on the BGP session",
    ),
    pending: gauge(
      "metallb_bgp_pending_prefixes_total",
      "Number of prefixes that should be advertised on the BGP session but are not yet",
    ),
    opensSent: counter("metallb_bgp_opens_sent", "Number of BGP OPEN messages sent"),
    opensReceived: counter("metallb_bgp_opens_received", "Number of BGP OPEN messages received"),
    keepalivesSent: counter("metallb_bgp_keepalives_sent", "Number of BGP KEEPALIVE messages sent"),
    keepalivesReceived: counter("metallb_bgp_keepalives_received", "Number of BGP KEEPALIVE messages received"),
    notificationsSent: counter("metallb_bgp_notifications_sent", "Number of BGP NOTIFICATION messages sent"),
    routeRefreshSent: counter("metallb_bgp_route_refresh_sent", "Number of BGP ROUTE-REFRESH messages sent"),
    updatesReceived: counter("metallb_bgp_updates_total_received", "Number of BGP UPDATE messages received"),
    totalSent: counter("metallb_bgp_total_sent", "Number of BGP messages sent"),
    totalReceived: counter("metallb_bgp_total_received", "Number of BGP messages received"),
    notificationsReceived: counter(
      "metallb_pepr_bgp_notifications_received_total",
      "Number of BGP NOTIFICATION messages received",
    ),
    routeRefreshReceived: counter(
      "metallb_pepr_bgp_route_refresh_received_total",
      "Number of BGP ROUTE-REFRESH messages received",
    ),
    gracefulShutdown: new Gauge({
      name: "metallb_pepr_bgp_graceful_shutdown",
      help: "1 while this node's BGP routes carry GRACEFUL_SHUTDOWN (RFC 8326), by reason: stopping, cordoned or excluded",
      labelNames: ["reason"],
      registers: [registry],
    }),
  };
}

let metrics: ReturnType<typeof make> | undefined;
/** The metric set (created once, on the agent registry unless another is given first). */
export function bgpMetrics(registry: Registry = agentRegistry): ReturnType<typeof make> {
  return (metrics ??= make(registry));
}

/** A session observer that keeps the metrics current. */
export function metricsObserver(registry?: Registry): Required<Pick<SessionObserver, "onMessage" | "onRoutesSent">> & {
  snapshot(s: SessionSnapshot): void;
  forget(peer: string): void;
} {
  const m = bgpMetrics(registry);
  const perKind: Partial<Record<`${"sent" | "received"}:${MessageKind}`, Counter<"peer">>> = {
    "sent:open": m.opensSent,
    "received:open": m.opensReceived,
    "sent:keepalive": m.keepalivesSent,
    "received:keepalive": m.keepalivesReceived,
    "sent:notification": m.notificationsSent,
    "received:notification": m.notificationsReceived,
    "received:routeRefresh": m.routeRefreshReceived,
    "sent:routeRefresh": m.routeRefreshSent,
    "received:update": m.updatesReceived,
  };
  return {
    onMessage(direction, kind, peer) {
      perKind[`${direction}:${kind}`]?.inc({ peer });
      (direction === "sent" ? m.totalSent : m.totalReceived).inc({ peer });
    },
    onRoutesSent(count, peer) {
      m.updates.inc({ peer }, count);
    },
    snapshot(s) {
      m.sessionUp.set({ peer: s.peer }, s.state === "Established" ? 1 : 0);
      m.announced.set({ peer: s.peer }, s.advertisedPrefixes);
      m.pending.set({ peer: s.peer }, s.pendingPrefixes);
    },
    forget(peer) {
      for (const g of [m.sessionUp, m.announced, m.pending]) g.remove({ peer });
    },
  };
}

/**
 * The rows of MetalLB's metallb_speaker_announced{protocol="bgp"} for one plan: every IP of
 * each Service the plan advertises to at least one peer ("namespace/name" -> IPs), as
 * MetalLB's speaker counts a Service it announces.
 */
export function bgpAnnouncements(
  services: readonly PlanService[],
  decisions: NodePlan["services"],
): Array<readonly [string, readonly string[]]> {
  return services.flatMap((s) => {
    const key = serviceKeyOf(s.namespace, s.name);
    return decisions.get(key)?.announce ? [[key, s.ips] as const] : [];
  });
}

/** Sets metallb_pepr_bgp_graceful_shutdown{reason} to 1 for `reason` (if any) and 0 for the others. */
export function setGracefulShutdown(reasons: ReadonlySet<DrainReason>, registry?: Registry): void {
  const g = bgpMetrics(registry).gracefulShutdown;
  for (const r of ["stopping", "cordoned", "excluded"] as const) g.set({ reason: r }, reasons.has(r) ? 1 : 0);
}
