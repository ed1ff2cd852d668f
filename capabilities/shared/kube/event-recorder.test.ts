/**
 * The recorder's queue against a fake API client: these tests are about how many writes
 * go out, in what order and how many at once, not about the wire (the integration test
 * test/integration/events.test.ts writes to a real API server).
 */
import { EventAggregator, type EventInput } from "./event-aggregator";
import { EventRecorder, type EventApi } from "./event-recorder";

interface Call {
  method: string;
  path: string;
  body: Record<string, unknown>;
  settle: (err?: Error & { status?: number }) => void;
}

/** Holds every request until the test settles it. */
class FakeApi implements EventApi {
  readonly calls: Call[] = [];
  inFlight = 0;
  maxInFlight = 0;
  send<T>(method: string, path: string, body?: unknown): Promise<T> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise<T>((resolve, reject) => {
      this.calls.push({
        method,
        path,
        body: body as Record<string, unknown>,
        settle: (err) => {
          this.inFlight--;
          if (err) reject(err);
          else resolve(undefined as T);
        },
      });
    });
  }
  /** Settles every open call (successfully unless `err`) and lets the recorder react. */
  async settleAll(err?: Error & { status?: number }): Promise<void> {
    for (const c of this.calls.filter((c) => !(c as { done?: boolean }).done)) {
      (c as { done?: boolean }).done = true;
      c.settle(err);
    }
    await flush();
  }
}

const flush = () => new Promise((r) => setImmediate(r));
/** Waits (real time: the back-off is jittered, at most a few seconds here) until `ok`. */
async function until(ok: () => boolean): Promise<void> {
  while (!ok()) await new Promise((r) => setTimeout(r, 20));
}
const httpError = (status: number) => Object.assign(new Error(`HTTP ${status}`), { status });

const ev = (reason = "AllocationFailed", uid = "u1"): EventInput => ({
  object: { apiVersion: "v1", kind: "Service", name: "web", namespace: "team-a", uid },
  type: "Warning",
  reason,
  message: "no available IPs",
  component: "metallb-controller",
});

describe("EventRecorder", () => {
  it("returns at once and never throws, even when the client cannot be built or the write fails", async () => {
    const broken = new EventRecorder(() => {
      throw new Error("no kubeconfig");
    });
    expect(() => broken.record(ev())).not.toThrow();
    await broken.idle();
    const api = new FakeApi();
    const rec = new EventRecorder(() => api);
    rec.record(ev());
    expect(api.calls).toHaveLength(1); // issued, not awaited
    await api.settleAll(httpError(403)); // refused: not tried again
    await rec.idle();
    expect(api.calls).toHaveLength(1);
  });

  it("a write the API server could not take (503, a refused connection) is tried again until it lands", async () => {
    const api = new FakeApi();
    const rec = new EventRecorder(() => api);
    rec.record(ev());
    let settled = false;
    void rec.idle().then(() => (settled = true));
    await api.settleAll(httpError(503));
    expect(settled).toBe(false); // a retry is pending: an eventsFirst status write keeps waiting
    await until(() => api.calls.length === 2);
    await api.settleAll(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }));
    await until(() => api.calls.length === 3);
    expect(api.calls.map((c) => c.method)).toEqual(["POST", "POST", "POST"]);
    await api.settleAll();
    await rec.idle();
    expect(settled).toBe(true);
  });

  it("a write waiting out its back-off goes at once when another write lands", async () => {
    jest.useFakeTimers();
    try {
      const api = new FakeApi();
      const rec = new EventRecorder(() => api);
      rec.record(ev("ClearAssignment", "u1"));
      api.calls[0].settle(httpError(429));
      await jest.advanceTimersByTimeAsync(0);
      expect(api.calls).toHaveLength(1); // waiting: no clock has moved
      rec.record(ev("IPAllocated", "u2"));
      expect(api.calls).toHaveLength(2);
      api.calls[1].settle();
      await jest.advanceTimersByTimeAsync(0); // still no clock: the success sends the waiting write
      expect(api.calls).toHaveLength(3);
      expect(api.calls[2]).toMatchObject({ method: "POST", body: { reason: "ClearAssignment" } });
      api.calls[2].settle();
      await jest.advanceTimersByTimeAsync(0);
      await rec.idle();
      await jest.advanceTimersByTimeAsync(60_000);
      expect(api.calls).toHaveLength(3); // its old timer was cleared: no second copy
    } finally {
      jest.useRealTimers();
    }
  });

  it("a caller's status write that lands sends the waiting writes too (apiTookWrite)", async () => {
    jest.useFakeTimers();
    try {
      const api = new FakeApi();
      const rec = new EventRecorder(() => api);
      rec.record(ev("ClearAssignment"));
      api.calls[0].settle(httpError(503));
      await jest.advanceTimersByTimeAsync(0);
      expect(api.calls).toHaveLength(1);
      rec.apiTookWrite();
      expect(api.calls).toHaveLength(2);
      api.calls[1].settle();
      await jest.advanceTimersByTimeAsync(0);
      await rec.idle();
    } finally {
      jest.useRealTimers();
    }
  });

  it("50 identical Events: one POST, then one merge PATCH with count 50", async () => {
    const api = new FakeApi();
    const rec = new EventRecorder(() => api);
    for (let i = 0; i < 50; i++) rec.record(ev());
    expect(api.calls.map((c) => c.method)).toEqual(["POST"]);
    expect(api.calls[0].path).toBe("/api/v1/namespaces/team-a/events");
    await api.settleAll();
    expect(api.calls.map((c) => c.method)).toEqual(["POST", "PATCH"]);
    const name = (api.calls[0].body.metadata as { name: string }).name;
    expect(api.calls[1].path).toBe(`/api/v1/namespaces/team-a/events/${name}`);
    expect(api.calls[1].body).toMatchObject({ count: 50 });
    await api.settleAll();
    await rec.idle();
    expect(api.calls).toHaveLength(2);
  });

  it("runs at most `concurrency` writes at once", async () => {
    const api = new FakeApi();
    const rec = new EventRecorder(() => api, new EventAggregator(), { concurrency: 2 });
    for (let i = 0; i < 10; i++) rec.record(ev("R", `u${i}`));
    expect(api.calls).toHaveLength(2);
    for (let i = 0; i < 5; i++) await api.settleAll();
    expect(api.calls).toHaveLength(10);
    expect(api.maxInFlight).toBe(2);
    await rec.idle();
  });

  it("a full queue drops its oldest write, not the newest", async () => {
    const api = new FakeApi();
    const rec = new EventRecorder(() => api, new EventAggregator(), { concurrency: 1, maxQueued: 2 });
    for (let i = 0; i < 5; i++) rec.record(ev("R", `u${i}`)); // u0 in flight; u1, u2 dropped; u3, u4 queued
    expect(rec.overflowed).toBe(2);
    for (let i = 0; i < 3; i++) await api.settleAll();
    const uids = api.calls.map((c) => (c.body.involvedObject as { uid: string }).uid);
    expect(uids).toEqual(["u0", "u3", "u4"]);
    // A dropped write is not forgotten: the next repeat writes it with the whole count.
    rec.record(ev("R", "u1"));
    await flush();
    expect(api.calls[3].body).toMatchObject({ count: 2, involvedObject: { uid: "u1" } });
    await api.settleAll();
  });

  it("a PATCH that gets 404 (the Event expired) creates a new Event with the count so far", async () => {
    const api = new FakeApi();
    const rec = new EventRecorder(() => api);
    rec.record(ev());
    await api.settleAll();
    rec.record(ev());
    expect(api.calls[1].method).toBe("PATCH");
    await api.settleAll(httpError(404));
    expect(api.calls[2]).toMatchObject({ method: "POST", body: { count: 2 } });
    expect((api.calls[2].body.metadata as { name: string }).name).not.toBe(
      (api.calls[0].body.metadata as { name: string }).name,
    );
    await api.settleAll();
    await rec.idle();
    expect(api.calls).toHaveLength(3);
  });

  it("a rate-limited repeat is written when its object's next token comes, with the whole count", async () => {
    jest.useFakeTimers();
    try {
      const api = new FakeApi();
      const rec = new EventRecorder(() => api, new EventAggregator({ burst: 1, refillMs: 60_000 }));
      rec.record(ev());
      api.calls[0].settle();
      await jest.advanceTimersByTimeAsync(0);
      rec.record(ev());
      rec.record(ev());
      expect(api.calls).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(59_000);
      expect(api.calls).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(1_100);
      expect(api.calls).toHaveLength(2);
      expect(api.calls[1]).toMatchObject({ method: "PATCH", body: { count: 3 } });
    } finally {
      jest.useRealTimers();
    }
  });
});
