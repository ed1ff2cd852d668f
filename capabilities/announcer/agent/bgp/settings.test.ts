import { readBgpSettings } from "./settings";

describe("readBgpSettings", () => {
  it("defaults to 100,000 prefixes per family and a 15 s graceful shutdown", () => {
    expect(readBgpSettings({})).toEqual({ maxPrefixes: 100_000, gracefulShutdownSeconds: 15 });
    expect(readBgpSettings({ METALLB_BGP_MAX_PREFIXES: "", METALLB_BGP_GRACEFUL_SHUTDOWN_SECONDS: " " })).toEqual({
      maxPrefixes: 100_000,
      gracefulShutdownSeconds: 15,
    });
  });

  it("takes a positive whole number", () => {
    expect(readBgpSettings({ METALLB_BGP_MAX_PREFIXES: "2000000" }).maxPrefixes).toBe(2_000_000);
  });

  it.each(["0", "-1", "1.5", "lots", "1e12"])("refuses %s with a message naming the variable", (v) => {
    expect(() => readBgpSettings({ METALLB_BGP_MAX_PREFIXES: v })).toThrow(
      /METALLB_BGP_MAX_PREFIXES must be a whole number/,
    );
  });

  it("takes 0 (withdraw at once) or a whole number of seconds up to an hour", () => {
    expect(readBgpSettings({ METALLB_BGP_GRACEFUL_SHUTDOWN_SECONDS: "0" }).gracefulShutdownSeconds).toBe(0);
    expect(readBgpSettings({ METALLB_BGP_GRACEFUL_SHUTDOWN_SECONDS: "25" }).gracefulShutdownSeconds).toBe(25);
  });

  it.each(["-1", "2.5", "15s", "3601"])("refuses a graceful shutdown of %s with a message naming the variable", (v) => {
    expect(() => readBgpSettings({ METALLB_BGP_GRACEFUL_SHUTDOWN_SECONDS: v })).toThrow(
      /METALLB_BGP_GRACEFUL_SHUTDOWN_SECONDS must be a whole number of seconds from 0 to 3600/,
    );
  });
});
