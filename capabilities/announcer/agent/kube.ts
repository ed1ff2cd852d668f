/**
 * The agent's API client: JSON requests with a deadline (a Lease renewal that hangs must
 * not look like one still in flight) and list+watch streams. Written against node:https
 * directly so that the agent controls every timeout and reconnect itself: its safety
 * (self-fencing) depends on knowing when it has lost the API server.
 */
import { Agent } from "node:https";
import { apiRequest } from "../../shared/kube/api-request";
import type { ClientRequest, IncomingMessage } from "node:http";
import { loadCredentials, type Credentials } from "./credentials";
import type { ListWatchClient, WatchEvent } from "../../shared/kube/informer";
import { streamWatchEvents } from "../../shared/kube/watch-stream";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status}: ${body.slice(0, 300)}`);
  }
}

export class AgentKube implements ListWatchClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 8 });
  /** Watches get their own connections so a stuck stream never delays a renewal. */
  private readonly watchAgent = new Agent({ keepAlive: false });

  constructor(private readonly credentials: Credentials = loadCredentials()) {}

  private async open(
    method: string,
    path: string,
    headers: Record<string, string | number>,
    agent: Agent,
  ): Promise<ClientRequest> {
    const { server, tls } = this.credentials;
    const authorization = this.credentials.authorization();
    return apiRequest(server, tls, agent, method, path, {
      ...(authorization ? { Authorization: authorization } : {}),
      ...headers,
    });
  }

  /** One JSON request that fails after `timeoutMs`. */
  async send<T>(
    method: string,
    path: string,
    body?: unknown,
    contentType = "application/json",
    timeoutMs = 5000,
  ): Promise<T> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = payload
      ? { "Content-Type": contentType, "Content-Length": payload.length }
      : {};
    const req = await this.open(method, path, headers, this.agent);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      req.on("response", (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString("utf8");
          if ((res.statusCode ?? 0) >= 300) return reject(new ApiError(res.statusCode ?? 0, text, `${method} ${path}`));
          resolve((text ? JSON.parse(text) : undefined) as T);
        });
        res.on("error", (e) => {
          clearTimeout(timer);
          reject(e);
        });
      });
      req.on("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
      req.end(payload);
    });
  }

  /**
   * Streams watch events (one JSON object per line) until the server ends the stream or
   * it errors; `onEvent` gets each parsed event. Resolves when the stream ends.
   */
  async stream(path: string, onEvent: (e: WatchEvent) => void, signal: { abort?: () => void }): Promise<void> {
    const req = await this.open("GET", path, {}, this.watchAgent);
    return streamWatchEvents(req, onEvent, signal, (status) => new ApiError(status, "", `watch ${path}`));
  }

  close(): void {
    this.agent.destroy();
    this.watchAgent.destroy();
  }
}
