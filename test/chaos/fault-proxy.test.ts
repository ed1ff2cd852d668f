import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, request, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FaultProxy } from "./fault-proxy";
import { selfSignedPair } from "./system";

let dir: string;
let key: string;
let cert: string;
let upstream: Server;
let proxy: FaultProxy;
let port: number;
const seen: Array<{ method?: string; url?: string; auth?: string; body: string }> = [];
let openStreams: ServerResponse[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "fault-proxy-"));
  const pair = await selfSignedPair(dir);
  key = readFileSync(pair.key, "utf8");
  cert = readFileSync(pair.cert, "utf8");
  upstream = createServer({ key, cert }, (req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
      if (req.url?.includes("watch=1")) {
        // A watch: one event now, then the stream stays open.
        res.writeHead(200, { "Content-Type": "application/json" });
        res.write('{"type":"ADDED","object":{}}\n');
        openStreams.push(res);
        return;
      }
      res.writeHead(201, { "Content-Type": "application/json", "X-Upstream": "yes" });
      res.end(JSON.stringify({ echoed: body }));
    });
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()));
  proxy = new FaultProxy({
    upstream: `https://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
    upstreamCa: cert,
    key,
    cert,
  });
  port = await proxy.listen();
});

afterAll(async () => {
  await proxy.close();
  for (const s of openStreams) s.destroy();
  upstream.closeAllConnections();
  await new Promise<void>((r) => upstream.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(method: string, path: string, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, method, path, ca: cert, agent: false, headers: { Authorization: "Bearer t0ken" } },
      (res) => {
        let text = "";
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

it("forwards a request with its token and body, and the answer with its headers", async () => {
  const a = await call("POST", "/api/v1/namespaces/x/services", '{"a":1}');
  expect(a.status).toBe(201);
  expect(a.headers["x-upstream"]).toBe("yes");
  expect(JSON.parse(a.body)).toEqual({ echoed: '{"a":1}' });
  expect(seen.at(-1)).toEqual({
    method: "POST",
    url: "/api/v1/namespaces/x/services",
    auth: "Bearer t0ken",
    body: '{"a":1}',
  });
});

it("streams a watch as it comes, and cuts it on command", async () => {
  const lines: string[] = [];
  const ended = new Promise<string>((resolve) => {
    const req = request(
      { host: "127.0.0.1", port, path: "/api/v1/services?watch=1", ca: cert, agent: false },
      (res) => {
        res.setEncoding("utf8");
        res.on("data", (c: string) => lines.push(c));
        res.on("end", () => resolve("end"));
        res.on("error", () => resolve("error"));
        res.on("close", () => resolve("close"));
      },
    );
    req.on("error", () => resolve("error"));
    req.end();
  });
  for (let i = 0; i < 100 && lines.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  expect(lines.join("")).toContain('"ADDED"'); // the first event arrived while the stream is still open
  expect(proxy.cutStreams()).toBeGreaterThanOrEqual(1);
  await expect(ended).resolves.toMatch(/end|error|close/);
});

it("answers 429 with Retry-After for a while, then forwards again", async () => {
  const before = seen.length;
  proxy.failFor(429, 300, 1, 2);
  const a = await call("GET", "/api/v1/services");
  expect(a.status).toBe(429);
  expect(a.headers["retry-after"]).toBe("2");
  expect(JSON.parse(a.body)).toMatchObject({
    kind: "Status",
    code: 429,
    reason: "TooManyRequests",
    details: { retryAfterSeconds: 2 },
  });
  expect(seen.length).toBe(before); // never reached the API server
  await new Promise((r) => setTimeout(r, 350));
  expect((await call("GET", "/api/v1/services")).status).toBe(201);
});

it("answers 500 to about the given share of requests", async () => {
  proxy.failFor(500, 5_000, 0.5);
  const statuses = await Promise.all(
    Array.from({ length: 40 }, () => call("GET", "/api/v1/nodes").then((a) => a.status)),
  );
  proxy.failFor(500, 0);
  const failed = statuses.filter((s) => s === 500).length;
  expect(failed).toBeGreaterThan(5);
  expect(failed).toBeLessThan(35);
  expect(statuses.every((s) => s === 500 || s === 201)).toBe(true);
});
