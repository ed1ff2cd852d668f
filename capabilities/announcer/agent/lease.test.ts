import { ApiError, type AgentKube } from "./kube";
import { DOWN_ANNOTATION, HEARTBEAT_ADDRESS_ANNOTATION, LeaseKeeper, microTime } from "./lease";

/** A fake API (no server is needed for the write schedule): succeeds or fails on demand; records calls. */
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

const opts = { namespace: "m", nodeName: "n1", renewMs: 10_000, heartbeatAddress: "192.0.2.11" };
const annotationsOf = (body: unknown): Record<string, string> =>
  (body as Array<{ path: string; value: Record<string, string> }>).find((op) => op.path === "/metadata/annotations")!
    .value;

describe("LeaseKeeper", () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it("creates the Lease with the heartbeat address, then renews every renewMs with a compare-and-swap", async () => {
    const f = fakeKube();
    const k = new LeaseKeeper(f.kube, opts);
    k.start();
    await flush();
    expect(f.calls[0].method).toBe("POST");
    expect(
      (f.calls[0].body as { metadata: { annotations: Record<string, string> } }).metadata.annotations[
        HEARTBEAT_ADDRESS_ANNOTATION
      ],
    ).toBe("192.0.2.11");
    await jest.advanceTimersByTimeAsync(9_999);
    expect(f.calls).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(f.calls[1].method).toBe("PATCH");
    expect((f.calls[1].body as Array<{ op: string }>)[0].op).toBe("test");
    k.stop();
  });

  it("writes a changed down set at once, not at the next renewal", async () => {
    const f = fakeKube();
    const k = new LeaseKeeper(f.kube, opts);
    k.start();
    await flush();
    k.reportDown(["n3", "n2"]);
    await flush();
    expect(f.calls).toHaveLength(2);
    expect(annotationsOf(f.calls[1].body)[DOWN_ANNOTATION]).toBe("n2,n3");
    k.reportDown(["n2", "n3"]); // unchanged: no write
    await flush();
    expect(f.calls).toHaveLength(2);
    k.stop();
  });

  it("a report that fails is retried within a second, not after a whole renewal period", async () => {
    const f = fakeKube();
    const k = new LeaseKeeper(f.kube, opts);
    k.start();
    await flush();
    f.setFail(new Error("connection refused"));
    k.reportDown(["n2"]);
    await flush();
    await jest.advanceTimersByTimeAsync(10_000); // the renewal fails too
    f.setFail(undefined);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(annotationsOf(f.calls[f.calls.length - 1].body)[DOWN_ANNOTATION]).toBe("n2");
    k.stop();
  });

  it("a lost compare-and-swap re-reads the Lease before writing again", async () => {
    const f = fakeKube();
    const k = new LeaseKeeper(f.kube, opts);
    k.start();
    await flush();
    f.setFail(new ApiError(422, "test failed", "PATCH"));
    await jest.advanceTimersByTimeAsync(10_000);
    f.setFail(undefined);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(f.calls.map((c) => c.method)).toEqual(["POST", "PATCH", "POST"]);
    k.stop();
  });

  it("MicroTime has six fractional digits", () => {
    expect(microTime(Date.parse("2026-01-02T03:04:05.678Z"))).toBe("2026-01-02T03:04:05.678000Z");
  });
});
