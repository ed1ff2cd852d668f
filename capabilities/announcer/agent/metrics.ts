/**
 * The agent's Prometheus metrics. MetalLB's speaker metrics keep MetalLB's names and label
 * sets exactly (dashboards and alerts written for MetalLB keep working); what only we know
 * is exported under names MetalLB does not use. Served at /metrics (metrics-server.ts:
 * METALLB_METRICS_PORT, METALLB_METRICS_ADDRESS, optional HTTPS).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { startMetricsServer, type MetricsServer, type MetricsServing } from "./metrics-server";

export const agentRegistry = new Registry();
collectDefaultMetrics({ register: agentRegistry });

const announced = new Gauge({
  name: "metallb_speaker_announced",
  help: "Services being announced from this node (1 per service, IP and protocol)",
  labelNames: ["node", "protocol", "service", "ip"],
  registers: [agentRegistry],
});

/** MetalLB counts per IP only; the interface is ours, in a second counter. */
function perDevice(name: string, ourName: string, help: string) {
  const metallb = new Counter({ name, help, labelNames: ["ip"], registers: [agentRegistry] });
  const ours = new Counter({
    name: ourName,
    help: `${help}, per interface`,
    labelNames: ["device", "ip"],
    registers: [agentRegistry],
  });
  return {
    inc(labels: { device: string; ip: string }): void {
      metallb.inc({ ip: labels.ip });
      ours.inc(labels);
    },
  };
}

export type AnnounceProtocol = "layer2" | "bgp";
const announcedKeys = new Map<AnnounceProtocol, Array<Record<"node" | "protocol" | "service" | "ip", string>>>();

/**
 * Replaces one protocol's metallb_speaker_announced series (L2 and BGP are decided by
 * different loops; neither may clear the other's). `services`: "namespace/name" -> IPs.
 */
export function setAnnounced(
  protocol: AnnounceProtocol,
  node: string,
  services: Iterable<readonly [string, readonly string[]]>,
): void {
  for (const labels of announcedKeys.get(protocol) ?? []) announced.remove(labels);
  const next: Array<Record<"node" | "protocol" | "service" | "ip", string>> = [];
  for (const [service, ips] of services)
    for (const ip of ips) {
      const labels = { node, protocol, service, ip };
      announced.set(labels, 1);
      next.push(labels);
    }
  announcedKeys.set(protocol, next);
}

export const agentMetrics = {
  requestsReceived: perDevice(
    "metallb_layer2_requests_received",
    "metallb_pepr_layer2_requests_received_total",
    "ARP/NDP requests received for owned IPs",
  ),
  responsesSent: perDevice(
    "metallb_layer2_responses_sent",
    "metallb_pepr_layer2_responses_sent_total",
    "ARP/NDP responses sent for owned IPs",
  ),
  gratuitousSent: new Counter({
    name: "metallb_layer2_gratuitous_sent",
    help: "Gratuitous ARP / unsolicited NA packets sent for owned IPs",
    labelNames: ["ip"],
    registers: [agentRegistry],
  }),
  leaseWrites: new Counter({
    name: "metallb_agent_lease_writes_total",
    help: "Successful liveness Lease writes",
    registers: [agentRegistry],
  }),
  fenced: new Gauge({
    name: "metallb_agent_fenced",
    help: "1 while the agent is not in L2 quorum (or has not held it for the settle time) and answers nothing",
    registers: [agentRegistry],
  }),
  membershipVoters: new Gauge({
    name: "metallb_l2_membership_voters",
    help: "Voters in the L2 membership roster (agents, plus 1 when the API server votes)",
    registers: [agentRegistry],
  }),
  membershipVotes: new Gauge({
    name: "metallb_l2_membership_votes",
    help: "Votes this agent holds now (itself, agents that heard it and that it heard within the fence window, the tie-breaker)",
    registers: [agentRegistry],
  }),
  membershipDown: new Gauge({
    name: "metallb_l2_membership_down",
    help: "Voters a majority has not heard for the down time",
    registers: [agentRegistry],
  }),
  tiebreakerHeld: new Gauge({
    name: "metallb_l2_tiebreaker_held",
    help: "1 while this agent holds the tie-breaker Lease (the API server's vote)",
    registers: [agentRegistry],
  }),
  heartbeatsSent: new Counter({
    name: "metallb_l2_heartbeats_sent_total",
    help: "Membership heartbeats sent (one per peer)",
    registers: [agentRegistry],
  }),
  heartbeatsReceived: new Counter({
    name: "metallb_l2_heartbeats_received_total",
    help: "Membership heartbeats accepted",
    registers: [agentRegistry],
  }),
  heartbeatsRejected: new Counter({
    name: "metallb_l2_heartbeats_rejected_total",
    help: "Membership datagrams refused, by reason (bad-mac: wrong key or forged; replay; not-a-voter; other-roster; ...)",
    labelNames: ["reason"],
    registers: [agentRegistry],
  }),
  failover: new Histogram({
    name: "metallb_l2_failover_seconds",
    help: "From the last heartbeat heard from an address's owner to this standby answering for it",
    buckets: [0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1, 2, 5, 10, 30],
    registers: [agentRegistry],
  }),
};

/** Serves the agent's registry at /metrics (settings from readMetricsServing); port 0 disables it. */
export function serveMetrics(serving: MetricsServing, log: (msg: string) => void): MetricsServer | undefined {
  return startMetricsServer(agentRegistry, serving, log);
}
