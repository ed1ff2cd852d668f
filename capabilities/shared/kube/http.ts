/**
 * A minimal keep-alive JSON client for the hot write paths (Service status,
 * Events, BGPSession status). kubernetes-fluent-client re-reads the kubeconfig
 * and opens a new TLS connection for every request, which would dominate the
 * cost of publishing thousands of allocations; this reuses a small pool of
 * connections. Credentials come from the same kubeconfig (or in-cluster).
 */
import { KubeConfig } from "@kubernetes/client-node";
import { Agent, type RequestOptions } from "node:https";
import { apiRequest } from "./api-request";
import type { ListWatchClient, WatchEvent } from "./informer";
import { streamWatchEvents } from "./watch-stream";

export class KubeHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    method: string,
    path: string,
  ) {
    super(`${method} ${path}: HTTP ${status}: ${body.slice(0, 300)}`);
  }
}

export class KubeHttp implements ListWatchClient {
  private base?: Promise<{ url: URL; options: RequestOptions }>;
  private readonly agent: Agent;
  /** Watches hold their connection for minutes: never one of the pooled write sockets. */
  private readonly watchAgent = new Agent({ keepAlive: false });

  constructor(
    private readonly kubeConfig: KubeConfig = loadKubeConfig(),
    maxSockets = 16,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  private resolveBase(): Promise<{ url: URL; options: RequestOptions }> {
    this.base ??= (async () => {
      const cluster = this.kubeConfig.getCurrentCluster();
      if (!cluster) throw new Error("the kubeconfig has no current cluster");
      const options: RequestOptions = {};
      await this.kubeConfig.applyToHTTPSOptions(options);
      return { url: new URL(cluster.server), options };
    })();
    return this.base;
  }

  /**
   * A request that got no HTTP answer (a kept-alive socket the server had just
   * closed, a reset under load) is sent again, up to twice. Retried writes stay
   * safe: merge patches are idempotent and a repeated create answers 409.
   */
  async send<T>(
    method: string,
    path: string,
    body?: unknown,
    contentType = "application/json",
    timeoutMs?: number,
    accept?: string,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.sendOnce<T>(method, path, body, contentType, timeoutMs, accept);
      } catch (err) {
        if (err instanceof KubeHttpError || attempt >= 3) throw err;
        await new Promise((r) => setTimeout(r, 50 * attempt));
      }
    }
  }

  private async open(method: string, path: string, agent: Agent, headers: Record<string, string | number> = {}) {
    const { url, options } = await this.resolveBase();
    return apiRequest(url, options, agent, method, path, headers);
  }

  /**
   * Lists only the objects' metadata (PartialObjectMetadataList): labels of every Node
   * without their status and images, a fraction of the bytes on a large cluster.
   */
  listMetadata<T>(path: string): Promise<{ items: T[] | null }> {
    return this.send(
      "GET",
      path,
      undefined,
      undefined,
      undefined,
      "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json",
    );
  }

  private async sendOnce<T>(
    method: string,
    path: string,
    body: unknown,
    contentType: string,
    timeoutMs?: number,
    accept?: string,
  ): Promise<T> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = await this.open(method, path, this.agent, {
      ...(payload ? { "Content-Type": contentType, "Content-Length": payload.length } : {}),
      ...(accept ? { Accept: accept } : {}),
    });
    if (timeoutMs)
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
    return new Promise<T>((resolve, reject) => {
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          if ((res.statusCode ?? 0) >= 300) return reject(new KubeHttpError(res.statusCode ?? 0, text, method, path));
          const json = /json/.test(res.headers["content-type"] ?? "json");
          resolve((text ? (json ? JSON.parse(text) : text) : undefined) as T);
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(payload);
    });
  }

  /** A watch stream (see Informer); resolves when the server ends it. */
  async stream(path: string, onEvent: (e: WatchEvent) => void, signal: { abort?: () => void }): Promise<void> {
    const req = await this.open("GET", path, this.watchAgent);
    return streamWatchEvents(req, onEvent, signal, (status) => new KubeHttpError(status, "", "GET", path));
  }

  mergePatch<T>(path: string, patch: unknown): Promise<T> {
    return this.send<T>("PATCH", path, patch, "application/merge-patch+json");
  }

  close(): void {
    this.agent.destroy();
    this.watchAgent.destroy();
  }
}

function loadKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

let shared: KubeHttp | undefined;
/** One pool per process. */
export const kubeHttp = (): KubeHttp => (shared ??= new KubeHttp());
