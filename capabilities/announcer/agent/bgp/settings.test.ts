import { readBgpSettings } from "./settings";

describe("readBgpSettings", () => {
  it("defaults to 100,000 prefixes per family", () => {
    expect(readBgpSettings({})).toEqual({ maxPrefixes: 100_000 });
    expect(readBgpSettings({ METALLB_BGP_MAX_PREFIXES: "" })).toEqual({ maxPrefixes: 100_000 });
  });

  it("takes a positive whole number", () => {
    expect(readBgpSettings({ METALLB_BGP_MAX_PREFIXES: "2000000" })).toEqual({ maxPrefixes: 2_000_000 });
  });

  it.each(["0", "-1", "1.5", "lots", "1e12"])("refuses %s with a message naming the variable", (v) => {
    expect(() => readBgpSettings({ METALLB_BGP_MAX_PREFIXES: v })).toThrow(
      /METALLB_BGP_MAX_PREFIXES must be a whole number/,
    );
  });
});
