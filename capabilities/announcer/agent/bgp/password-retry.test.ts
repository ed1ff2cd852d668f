import { PasswordRetries } from "./password-retry";

describe("PasswordRetries", () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it("retries after a jittered delay that grows with each failure, per session", () => {
    const retry = jest.fn();
    const r = new PasswordRetries(retry, { initialMs: 1000, maxMs: 8000, random: () => 0.999 });
    const delays = [r.failed("a"), r.failed("a"), r.failed("a"), r.failed("a"), r.failed("a")];
    expect(delays).toEqual([999, 1998, 3996, 7992, 7992]);
    expect(r.failures("a")).toBe(5);
    // Only the latest retry is pending: one call, when its delay is over.
    jest.advanceTimersByTime(7991);
    expect(retry).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(retry).toHaveBeenCalledTimes(1);
    expect(r.failed("b")).toBe(999); // another session starts from the beginning
  });

  it("a successful read (or a session removed) cancels the retry and starts the next failure from the beginning", () => {
    const retry = jest.fn();
    const r = new PasswordRetries(retry, { initialMs: 1000, maxMs: 60_000, random: () => 0.5 });
    r.failed("a");
    r.failed("a");
    r.forget("a");
    jest.advanceTimersByTime(120_000);
    expect(retry).not.toHaveBeenCalled();
    expect(r.failures("a")).toBe(0);
    expect(r.failed("a")).toBe(550);
    r.stop();
    jest.advanceTimersByTime(120_000);
    expect(retry).not.toHaveBeenCalled();
  });
});
