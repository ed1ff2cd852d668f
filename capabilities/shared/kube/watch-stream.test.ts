/** The watch stream reader over a loopback HTTP server standing in for the API server. */
import { createServer, request, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { streamWatchEvents, type WatchEvent } from "./watch-stream";

let server: Server;
let respond: (res: ServerResponse) => void = () => {};
beforeAll(async () => {
  server = createServer((_req, res) => respond(res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

function watch(silenceMs?: number) {
  const events: WatchEvent[] = [];
  const req = request({ host: "127.0.0.1", port: (server.address() as AddressInfo).port, path: "/watch" });
  const done = streamWatchEvents(
    req,
    (e) => events.push(e),
    {},
    (s) => new Error(`HTTP ${s}`),
    silenceMs,
  );
  return { events, done };
}

describe("streamWatchEvents", () => {
  it("reassembles events split anywhere, even inside a multi-byte character", async () => {
    respond = (res) => {
      const body = Buffer.from('{"type":"ADDED","object":{"n":"é"}}\n{"type":"DELETED","object":{"n":"ü"}}\n');
      res.writeHead(200);
      const cut = body.indexOf(0xc3) + 1; // between the two bytes of "é"
      res.write(body.subarray(0, cut));
      setTimeout(() => res.end(body.subarray(cut)), 20);
    };
    const { events, done } = watch();
    await done;
    expect(events).toEqual([
      { type: "ADDED", object: { n: "é" } },
      { type: "DELETED", object: { n: "ü" } },
    ]);
  });

  it("gives up on a stream that goes silent, so the watcher lists again", async () => {
    respond = (res) => {
      res.writeHead(200);
      res.write('{"type":"ADDED","object":{}}\n'); // then nothing, never closed
    };
    const { events, done } = watch(200);
    await expect(done).rejects.toThrow("watch stream silent for 200 ms");
    expect(events).toHaveLength(1);
  });

  it("reports an HTTP error status", async () => {
    respond = (res) => res.writeHead(410).end();
    await expect(watch().done).rejects.toThrow("HTTP 410");
  });
});
