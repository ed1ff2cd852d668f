/**
 * The Informer's retry timing. The API client here is a FAKE (a scripted ListWatchClient
 * on Jest's fake clock): these tests are about when the Informer lists and watches again,
 * nothing about the wire. Lists, watches and a lost stream against a real API server are
 * in test/integration/informer.test.ts.
 */
import { Backoff } from "../backoff";
import { Informer, type KubeObject, type ListWatchClient, type WatchEvent } from "./informer";

/** What the next watch does: `gone` answers ERROR 410; `{ runMs, then }` lasts runMs and then fails or ends. */
type WatchStep = "gone" | { runMs: number; then: "fail" | "end" };

class ScriptedApi implements ListWatchClient {
  readonly lists: number[] = [];
  readonly watches: string[] = [];
  listFailures = 0;
  readonly watchSteps: WatchStep[] = [];

  async send<T>(): Promise<T> {
    this.lists.push(Date.now());
    if (this.listFailures > 0) {
      this.listFailures--;
      throw Object.assign(new Error("HTTP 500"), { status: 500 });
    }
    return { items: [], metadata: { resourceVersion: "7" } } as T;
  }

  stream(path: string, onEvent: (e: WatchEvent) => void, signal: { abort?: () => void }): Promise<void> {
    this.watches.push(path);
    const step = this.watchSteps.shift();
    return new Promise<void>((resolve, reject) => {
      signal.abort = () => reject(new Error("aborted"));
      if (step === "gone") return onEvent({ type: "ERROR", object: { code: 410 } });
      if (!step) return; // no script left: a healthy watch that runs until aborted
      setTimeout(() => (step.then === "fail" ? reject(new Error("connection reset")) : resolve()), step.runMs);
    });
  }
}

/** An Informer over `api` whose back-off always draws its ceiling, so delays are exact. */
function start(api: ScriptedApi, backoff = new Backoff({ initialMs: 200, maxMs: 30_000, random: () => 1 })) {
  const delays: number[] = [];
  const informer = new Informer<KubeObject>(
    api,
    "/api/v1/things",
    () => undefined,
    (msg) => {
      const m = /retrying in (\d+) ms/.exec(msg);
      if (m) delays.push(Number(m[1]));
    },
    undefined,
    { backoff },
  );
  informer.start();
  return { informer, delays };
}

describe("Informer retries back off with jitter", () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it("a list the API server keeps refusing is retried after delays doubling from 200 ms to a 30 s cap", async () => {
    const api = new ScriptedApi();
    api.listFailures = 11;
    const { informer, delays } = start(api);
    await jest.advanceTimersByTimeAsync(200_000);
    expect(delays).toEqual([200, 400, 800, 1600, 3200, 6400, 12_800, 25_600, 30_000, 30_000, 30_000]);
    expect(api.lists).toHaveLength(12);
    expect(informer.syncedAt).toBeGreaterThan(0);
    informer.stop();
  });

  it("a 410 Gone on every watch is not a tight relist loop: a successful list does not reset the back-off", async () => {
    const api = new ScriptedApi();
    api.watchSteps.push(...Array.from({ length: 100 }, () => "gone" as const));
    const { informer, delays } = start(api);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(delays.slice(0, 8)).toEqual([200, 400, 800, 1600, 3200, 6400, 12_800, 25_600]);
    expect(api.lists.length).toBeLessThanOrEqual(9); // one per delay: 60 s holds about eight
    informer.stop();
  });

  it("a watch that ran healthily (30 s) resets the back-off; a short one does not", async () => {
    const api = new ScriptedApi();
    api.listFailures = 3; // 200, 400, 800
    api.watchSteps.push({ runMs: 5, then: "fail" }); // a short watch: 1600
    api.watchSteps.push({ runMs: 31_000, then: "fail" }); // healthy, then lost: back to 200
    const { informer, delays } = start(api);
    await jest.advanceTimersByTimeAsync(40_000);
    expect(delays).toEqual([200, 400, 800, 1600, 200]);
    informer.stop();
  });

  it("a watch the server ends early is resumed from its resourceVersion after a delay, with no list", async () => {
    const api = new ScriptedApi();
    api.watchSteps.push({ runMs: 10, then: "end" }, { runMs: 10, then: "end" });
    const { informer, delays } = start(api);
    await jest.advanceTimersByTimeAsync(5_000);
    expect(delays).toEqual([200, 400]);
    expect(api.lists).toHaveLength(1);
    expect(api.watches).toHaveLength(3);
    expect(api.watches.every((p) => p.includes("resourceVersion=7"))).toBe(true);
    informer.stop();
  });

  it("relist() cuts a long wait short", async () => {
    const api = new ScriptedApi();
    api.listFailures = 9; // the ninth wait is 30 s
    const { informer } = start(api);
    await jest.advanceTimersByTimeAsync(51_500); // 200 + ... + 25,600 = 51,000: now in the 30 s wait
    expect(api.lists).toHaveLength(9);
    informer.relist();
    await jest.advanceTimersByTimeAsync(0);
    expect(api.lists).toHaveLength(10);
    informer.stop();
  });

  it("stop() ends a wait and the loop", async () => {
    const api = new ScriptedApi();
    api.listFailures = 100;
    const { informer } = start(api);
    await jest.advanceTimersByTimeAsync(1_000);
    const lists = api.lists.length;
    informer.stop();
    await jest.advanceTimersByTimeAsync(120_000);
    expect(api.lists).toHaveLength(lists);
    expect(jest.getTimerCount()).toBe(0);
  });

  it("by default the delay is drawn at random under the ceiling (full jitter)", async () => {
    const random = jest.spyOn(Math, "random").mockReturnValue(0.25);
    try {
      const api = new ScriptedApi();
      api.listFailures = 1;
      const delays: number[] = [];
      const informer = new Informer<KubeObject>(
        api,
        "/api/v1/things",
        () => undefined,
        (msg) => {
          const m = /retrying in (\d+) ms/.exec(msg);
          if (m) delays.push(Number(m[1]));
        },
      );
      informer.start();
      await jest.advanceTimersByTimeAsync(1_000);
      expect(delays).toEqual([65]); // 20 ms floor + 0.25 x (200 - 20)
      informer.stop();
    } finally {
      random.mockRestore();
    }
  });
});
