/**
 * The kubelet's probes for the agent: GET /healthz answers "ok" while the event loop runs.
 *
 * Separate from /metrics on purpose. Metrics may be bound to 127.0.0.1 or served over HTTPS
 * only (metrics-server.ts), and a probe aimed at them would then fail and restart a healthy
 * agent. This endpoint tells nothing but that the process answers, so it can listen where
 * the kubelet reaches a host-network pod (the node's address) in plain HTTP.
 */
import { createServer, type Server } from "node:http";
import { readListenOn, type ListenOn } from "./listen-env";

export type HealthServing = ListenOn;

/** METALLB_HEALTH_PORT (0, off: the DaemonSet sets 7473) and METALLB_HEALTH_ADDRESS (""). */
export const readHealthServing = (env: NodeJS.ProcessEnv): HealthServing => readListenOn(env, "HEALTH", 0);

/** Starts the endpoint; undefined when the port is 0. A failure to bind is logged, not fatal. */
export function startHealthServer(serving: HealthServing, log: (msg: string) => void): Server | undefined {
  if (serving.port === 0) return undefined;
  const server = createServer((req, res) => {
    if (req.method === "GET" && (req.url ?? "").split("?")[0] === "/healthz")
      res.writeHead(200, { "Content-Type": "text/plain" }).end("ok\n");
    else res.writeHead(404).end();
  });
  server.on("error", (err) => log(`health endpoint on ${serving.address || "*"}:${serving.port}: ${err.message}`));
  server.listen(serving.port, serving.address || undefined);
  return server;
}
