/**
 * The agent's Prometheus metrics, by MetalLB's names (dashboards and alerts keep working),
 * served on METALLB_METRICS_PORT (default 7472) at /metrics.
 */
import { createServer, type Server } from "node:http";
import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";

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
    help: "1 while the agent has not renewed its Lease recently enough and answers nothing",
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
