import { ApiError, type AgentKube } from "./kube";
import { LeaseKeeper, microTime } from "./lease";

/** A fake API: succeeds or fails on demand; records calls. */
function fakeKube() {
  const calls: Array<{ method: string; body: unknown }> = [];
  let fail: Error | undefined;
  let rv = 1;
  const kube = {
    send: async (method: string, _path: string, body?: unknown) => {
      calls.push({ method, body });
      if (fail) throw fail;
      return { metadata: { resourceVersion: String(rv++) } };
    },
  } as unknown as AgentKube;
  return { kube, calls, setFail: (e?: Error) => (fail = e) };
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe("LeaseKeeper", () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it("starts fenced, unfences on the first write, fences fenceAfter after the last good send", async () => {
    const f = fakeKube();
    const events: string[] = [];
    const k = new LeaseKeeper(f.kube, { namespace: "m", nodeName: "n1", renewMs: 500, fenceAfterMs: 1000 });
    k.on("fenced", () => events.push("fenced"));
    k.on("unfenced", () => events.push("unfenced"));
    expect(k.fenced).toBe(true);
    k.start();
    await flush();
    expect(f.calls[0].method).toBe("POST");
    expect(k.fenced).toBe(false);
    await jest.advanceTimersByTimeAsync(500);
    expect(f.calls[1].method).toBe("PATCH");
    expect((f.calls[1].body as Array<{ op: string }>)[0].op).toBe("test");
    f.setFail(new Error("connection refused"));
    // Last good send at t=500; fenced at t=1500 although renewals keep failing.
    await jest.advanceTimersByTimeAsync(990);
    expect(k.fenced).toBe(false);
    await jest.advanceTimersByTimeAsync(20);
    expect(k.fenced).toBe(true);
    f.setFail(undefined);
    await jest.advanceTimersByTimeAsync(500);
    expect(k.fenced).toBe(false);
    expect(events).toEqual(["unfenced", "fenced", "unfenced"]);
    k.stop();
  });

  it("a lost compare-and-swap re-reads the Lease before writing again", async () => {
    const f = fakeKube();
    const k = new LeaseKeeper(f.kube, { namespace: "m", nodeName: "n1", renewMs: 500, fenceAfterMs: 1000 });
    k.start();
    await flush();
    f.setFail(new ApiError(422, "test failed", "PATCH"));
    await jest.advanceTimersByTimeAsync(500);
    f.setFail(undefined);
    await jest.advanceTimersByTimeAsync(500);
    expect(f.calls.map((c) => c.method)).toEqual(["POST", "PATCH", "POST"]);
    k.stop();
  });

  it("MicroTime has six fractional digits", () => {
    expect(microTime(Date.parse("2026-01-02T03:04:05.678Z"))).toBe("2026-01-02T03:04:05.678000Z");
  });
});
