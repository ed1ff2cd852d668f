/**
 * How the agent reaches the API server: a kubeconfig (KUBECONFIG, else ~/.kube/config) or,
 * in a Pod, the ServiceAccount token — the same order client-go and @kubernetes/client-node
 * use. Written here rather than taken from @kubernetes/client-node because that library
 * alone costs the agent about 70 MB of resident memory, and a DaemonSet pays it on every node.
 *
 * Supported: server + CA (file or data, or insecure-skip-tls-verify), client certificate
 * and key (file or data), bearer token or tokenFile. Token files are re-read every minute:
 * bound ServiceAccount tokens rotate. exec and auth-provider plugins get a clear error.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join } from "node:path";
import type { RequestOptions } from "node:https";
import { parse } from "yaml";

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
const TOKEN_REREAD_MS = 60_000;

export interface Credentials {
  /** The API server's base URL (path prefix kept). */
  server: URL;
  /** TLS options for node:https (ca, cert, key, rejectUnauthorized). */
  tls: Pick<RequestOptions, "ca" | "cert" | "key" | "rejectUnauthorized">;
  /** The Authorization header value, or undefined for certificate-only auth. */
  authorization(): string | undefined;
}

interface KubeconfigFile {
  "current-context"?: string;
  contexts?: Array<{ name?: string; context?: { cluster?: string; user?: string } }>;
  clusters?: Array<{ name?: string; cluster?: Record<string, unknown> }>;
  users?: Array<{ name?: string; user?: Record<string, unknown> }>;
}

/** A token read from a file, re-read at most once a minute. */
function fileToken(path: string, now: () => number = Date.now): () => string {
  let value = "";
  let readAt = -Infinity;
  return () => {
    if (now() - readAt >= TOKEN_REREAD_MS) {
      value = readFileSync(path, "utf8").trim();
      readAt = now();
    }
    return value;
  };
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** Parses kubeconfig text; `baseDir` resolves relative file paths, as kubectl does. */
export function credentialsFromKubeconfig(text: string, baseDir: string, what = "the kubeconfig"): Credentials {
  const doc = (parse(text) ?? {}) as KubeconfigFile;
  const contextName = str(doc["current-context"]);
  if (!contextName) throw new Error(`${what} has no current-context`);
  const context = doc.contexts?.find((c) => c.name === contextName)?.context;
  if (!context) throw new Error(`${what}: context ${JSON.stringify(contextName)} is not defined`);
  const cluster = doc.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster)
    throw new Error(
      `${what}: cluster ${JSON.stringify(context.cluster)} of context ${JSON.stringify(contextName)} is not defined`,
    );
  const user = (context.user ? doc.users?.find((u) => u.name === context.user)?.user : undefined) ?? {};

  const server = str(cluster.server);
  if (!server) throw new Error(`${what}: cluster ${JSON.stringify(context.cluster)} has no server`);
  const file = (p: string): Buffer => readFileSync(isAbsolute(p) ? p : join(baseDir, p));
  const material = (dataKey: string, fileKey: string, from: Record<string, unknown>): Buffer | undefined => {
    const data = str(from[dataKey]);
    if (data) return Buffer.from(data, "base64");
    const path = str(from[fileKey]);
    return path ? file(path) : undefined;
  };
  if (user.exec || user["auth-provider"]) {
    throw new Error(
      `${what}: user ${JSON.stringify(context.user)} uses an exec or auth-provider plugin, which the agent does not run; give it a token, a tokenFile or a client certificate`,
    );
  }

  const ca = material("certificate-authority-data", "certificate-authority", cluster);
  const tls: Credentials["tls"] = {
    ...(ca ? { ca } : {}),
    rejectUnauthorized: cluster["insecure-skip-tls-verify"] !== true,
  };
  const cert = material("client-certificate-data", "client-certificate", user);
  const key = material("client-key-data", "client-key", user);
  if (cert && key) Object.assign(tls, { cert, key });

  const token = str(user.token);
  const tokenFile = str(user.tokenFile);
  const readToken = token
    ? () => token
    : tokenFile
      ? fileToken(isAbsolute(tokenFile) ? tokenFile : join(baseDir, tokenFile))
      : undefined;
  return { server: new URL(server), tls, authorization: () => (readToken ? `Bearer ${readToken()}` : undefined) };
}

/** In a Pod: the ServiceAccount token and CA, and the API server from the service env vars. */
export function inClusterCredentials(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT_DIR): Credentials {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port)
    throw new Error("no kubeconfig (KUBECONFIG, ~/.kube/config) and not in a Pod (KUBERNETES_SERVICE_HOST/PORT unset)");
  const tokenPath = join(dir, "token");
  if (!existsSync(tokenPath))
    throw new Error(`in-cluster: ${tokenPath} is missing (is automountServiceAccountToken off?)`);
  const readToken = fileToken(tokenPath);
  const hostPart = host.includes(":") ? `[${host}]` : host;
  return {
    server: new URL(`https://${hostPart}:${port}`),
    tls: { ca: readFileSync(join(dir, "ca.crt")), rejectUnauthorized: true },
    authorization: () => `Bearer ${readToken()}`,
  };
}

/** KUBECONFIG (its first file), else ~/.kube/config, else in-cluster. */
export function loadCredentials(env: NodeJS.ProcessEnv = process.env): Credentials {
  const fromEnv = env.KUBECONFIG?.split(":").find((p) => p !== "");
  const path = fromEnv ?? join(homedir(), ".kube", "config");
  if (fromEnv || existsSync(path)) {
    if (!existsSync(path)) throw new Error(`KUBECONFIG names ${path}, which does not exist`);
    return credentialsFromKubeconfig(readFileSync(path, "utf8"), dirname(path), path);
  }
  return inClusterCredentials(env);
}
