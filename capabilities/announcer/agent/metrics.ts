/**
 * The agent's Prometheus metrics, by MetalLB's names (dashboards and alerts keep working),
 * served on METALLB_METRICS_PORT (default 7472) at /metrics.
 */
import { createServer, type Server } from "node:http";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

export const agentRegistry = new Registry();
collectDefaultMetrics({ register: agentRegistry });

export const agentMetrics = {
  announced: new Gauge({
    name: "metallb_speaker_announced",
    help: "Services being announced from this node (1 per service, IP and protocol)",
    labelNames: ["node", "protocol", "service", "ip"],
    registers: [agentRegistry],
  }),
  requestsReceived: new Counter({
    name: "metallb_layer2_requests_received",
    help: "ARP/NDP requests received for owned IPs",
    labelNames: ["device", "ip"],
    registers: [agentRegistry],
  }),
  responsesSent: new Counter({
    name: "metallb_layer2_responses_sent",
    help: "ARP/NDP responses sent for owned IPs",
    labelNames: ["device", "ip"],
    registers: [agentRegistry],
  }),
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

/** Serves /metrics; port 0 disables it. */
export function serveMetrics(port: number, log: (msg: string) => void): Server | undefined {
  if (port === 0) return undefined;
  const server = createServer((req, res) => {
    if (req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    agentRegistry.metrics().then(
      (text) => res.writeHead(200, { "Content-Type": agentRegistry.contentType }).end(text),
      (err: Error) => res.writeHead(500).end(err.message),
    );
  });
  server.on("error", (err) => log(`metrics server: ${err.message}`));
  server.listen(port);
  return server;
}
