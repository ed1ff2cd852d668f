import { Backoff } from "./backoff";

describe("Backoff", () => {
  it("doubles its ceiling per failure up to maxMs, and draws below it", () => {
    const top = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.999999 });
    expect([1, 2, 3, 4, 5, 6].map(() => top.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it("never draws below minMs, and starts over after reset()", () => {
    const low = new Backoff({ initialMs: 100, maxMs: 1000, minMs: 30, random: () => 0 });
    expect(low.next()).toBe(30);
    low.next();
    expect(low.attempts).toBe(2);
    low.reset();
    expect(low.attempts).toBe(0);
  });

  it("spreads retries: many clients failing at once do not retry in step", () => {
    const delays = Array.from({ length: 200 }, () => new Backoff({ initialMs: 1000, maxMs: 30_000 }).next());
    expect(new Set(delays).size).toBeGreaterThan(100);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(100);
    expect(Math.max(...delays)).toBeLessThanOrEqual(1000);
  });
});
