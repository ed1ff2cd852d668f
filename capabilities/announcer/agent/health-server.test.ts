import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { readHealthServing, startHealthServer } from "./health-server";

const get = (port: number, path: string): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });

describe("the agent's /healthz", () => {
  it("answers ok on /healthz and 404 elsewhere, over a real socket", async () => {
    const server = startHealthServer({ port: 0, address: "127.0.0.1" }, () => undefined);
    expect(server).toBeUndefined(); // port 0 disables it
    const live = startHealthServer({ port: 47473, address: "127.0.0.1" }, () => undefined)!;
    await new Promise((r) => live.once("listening", r));
    const port = (live.address() as AddressInfo).port;
    try {
      expect(await get(port, "/healthz")).toEqual({ status: 200, body: "ok\n" });
      expect((await get(port, "/metrics")).status).toBe(404);
    } finally {
      live.close();
    }
  });

  it("reads its port and address from the environment, off by default, refusing nonsense", () => {
    expect(readHealthServing({})).toEqual({ port: 0, address: "" });
    expect(readHealthServing({ METALLB_HEALTH_PORT: "7473", METALLB_HEALTH_ADDRESS: "192.0.2.7" })).toEqual({
      port: 7473,
      address: "192.0.2.7",
    });
    expect(() => readHealthServing({ METALLB_HEALTH_PORT: "http" })).toThrow(/METALLB_HEALTH_PORT/);
    expect(() => readHealthServing({ METALLB_HEALTH_ADDRESS: "node-1" })).toThrow(/METALLB_HEALTH_ADDRESS/);
  });
});
