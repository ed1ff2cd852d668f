/**
 * One HTTPS request to the API server. Shared by the controller's client (http.ts) and
 * the agent's (agent/kube.ts): they differ in where their TLS material and credentials
 * come from, not in how a request is addressed. No @kubernetes/client-node here: the
 * agent bundle must not pull it in.
 */
import type { ClientRequest } from "node:http";
import { request, type Agent, type RequestOptions } from "node:https";

export function apiRequest(
  server: URL,
  tls: RequestOptions,
  agent: Agent,
  method: string,
  path: string,
  headers: Record<string, string | number>,
): ClientRequest {
  return request({
    ...tls,
    agent,
    method,
    // URL.hostname keeps an IPv6 literal's brackets; node:https wants it bare.
    hostname: server.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: server.port || 443,
    path: `${server.pathname.replace(/\/$/, "")}${path}`,
    headers: { ...(tls.headers ?? {}), Accept: "application/json", ...headers },
  });
}
