/**
 * Service admission's decision. The configuration reader is a function here: making the
 * real API server fail one list on demand is not possible in a test; what a failure does
 * to the verdict is what these tests pin down.
 */
import type { V1Service } from "@kubernetes/client-node";
import { configOf, pool } from "../shared/config/testing";
import { cachedPoolsReader, judgeService } from "./service-admission";

const config = configOf({ pools: [pool("a", ["192.0.2.0/24"])] });
const svc = (annotations: Record<string, string>): V1Service => ({
  metadata: { name: "web", namespace: "shop", annotations },
  spec: { type: "LoadBalancer", ports: [{ port: 80 }] },
});
const unreachable = async () => {
  throw new Error("GET ipaddresspools: connect ECONNREFUSED");
};

describe("Service admission", () => {
  it("refuses a malformed address request, naming the Service", async () => {
    const v = await judgeService(svc({ "metallb.io/loadBalancerIPs": "192.0.2.300" }), async () => config);
    expect(v.allowed).toBe(false);
    expect(v.allowed === false && v.message).toMatch(/Service "shop\/web"/);
  });

  it("admits with a warning saying what was not checked when the configuration cannot be read", async () => {
    const v = await judgeService(svc({ "metallb.io/loadBalancerIPs": "192.0.2.300" }), unreachable);
    expect(v.allowed).toBe(true);
    expect(v.warnings.join()).toMatch(/could not read its configuration .*ECONNREFUSED.*admitted unchecked/);
  });

  it("never reads the configuration for a Service that asks for nothing", async () => {
    expect(await judgeService(svc({}), unreachable)).toEqual({ allowed: true, warnings: [] });
  });

  it("a failed re-read checks against the last configuration read", async () => {
    let t = 0;
    let fail = false;
    const read = cachedPoolsReader(
      async () => {
        if (fail) throw new Error("timeout");
        return config;
      },
      2000,
      () => t,
    );
    expect(await read()).toBe(config);
    fail = true;
    t = 5000; // past the cache's lifetime
    const v = await judgeService(svc({ "metallb.io/loadBalancerIPs": "192.0.2.300" }), read);
    expect(v.allowed).toBe(false);
  });
});
