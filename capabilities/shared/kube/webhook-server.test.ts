import https from "node:https";
import { KEEP_ALIVE_MS, startWithLongKeepAlive } from "./webhook-server";

describe("startWithLongKeepAlive", () => {
  it("gives the server created during start an idle timeout above the API server's 90 s, then restores createServer", () => {
    const original = https.createServer;
    let server: https.Server | undefined;
    startWithLongKeepAlive(() => {
      server = https.createServer({});
    });
    expect(server!.keepAliveTimeout).toBe(KEEP_ALIVE_MS);
    expect(KEEP_ALIVE_MS).toBeGreaterThan(90_000);
    expect(server!.headersTimeout).toBeGreaterThan(KEEP_ALIVE_MS);
    expect(https.createServer).toBe(original);
    expect(https.createServer({}).keepAliveTimeout).toBe(5_000); // Node's default, untouched outside start
  });
});
