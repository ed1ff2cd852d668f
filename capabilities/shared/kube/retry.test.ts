import { Backoff } from "../backoff";
import { isTransient, retryTransient } from "./retry";

const httpError = (status: number) => Object.assign(new Error(`HTTP ${status}`), { status });

/** A call that fails with each of `errors` in turn, then answers "ok". */
function failing(errors: unknown[]) {
  let calls = 0;
  const fn = async () => {
    calls++;
    if (errors.length) throw errors.shift();
    return "ok";
  };
  return { fn, calls: () => calls };
}

describe("retryTransient", () => {
  it("retries 429, 5xx and lost connections with the back-off's jittered delays", async () => {
    const slept: number[] = [];
    const { fn, calls } = failing([httpError(429), httpError(503), new Error("ECONNRESET")]);
    const result = await retryTransient(fn, 120_000, {
      backoff: new Backoff({ initialMs: 200, maxMs: 5000, random: () => 0.5 }),
      sleep: async (ms) => void slept.push(ms),
    });
    expect(result).toBe("ok");
    expect(calls()).toBe(4);
    // Half-way between the 20 ms floor and the ceilings 200, 400, 800.
    expect(slept).toEqual([110, 210, 410]);
  });

  it("by default two callers failing together do not retry in step", async () => {
    const delays = async () => {
      const slept: number[] = [];
      const { fn } = failing([httpError(500), httpError(500), httpError(500)]);
      await retryTransient(fn, 120_000, { sleep: async (ms) => void slept.push(ms) });
      return slept;
    };
    const runs = await Promise.all(Array.from({ length: 20 }, delays));
    expect(new Set(runs.map((r) => r.join(","))).size).toBeGreaterThan(1);
    for (const r of runs) r.forEach((ms, i) => expect(ms).toBeLessThanOrEqual(200 * 2 ** i));
  });

  it("throws a real error at once", async () => {
    const { fn, calls } = failing([httpError(422)]);
    await expect(retryTransient(fn, 120_000, { sleep: async () => undefined })).rejects.toThrow("HTTP 422");
    expect(calls()).toBe(1);
  });

  it("gives up with the last error when the next delay would pass the deadline", async () => {
    let t = 0;
    const { fn, calls } = failing(Array.from({ length: 100 }, () => httpError(503)));
    await expect(
      retryTransient(fn, 3000, {
        backoff: new Backoff({ initialMs: 1000, maxMs: 1000, random: () => 1 }),
        now: () => t,
        sleep: async (ms) => void (t += ms),
      }),
    ).rejects.toThrow("HTTP 503");
    expect(calls()).toBe(4); // at 0, 1000, 2000, 3000 ms
  });

  it("isTransient: no status, 429 and 5xx are; 4xx are not", () => {
    expect(
      [undefined, 429, 500, 503, 400, 403, 404, 409, 422].map((s) =>
        isTransient(s === undefined ? new Error() : httpError(s)),
      ),
    ).toEqual([true, true, true, true, false, false, false, false, false]);
  });
});
