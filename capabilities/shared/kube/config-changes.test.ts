import { isConfigChange } from "./config-changes";

const pool = (generation: number, labels: Record<string, string> = {}) => ({
  metadata: { uid: "u1", generation, labels },
});

describe("which watch events change the configuration", () => {
  it("the first sight, a spec edit (new generation) and a label change count", () => {
    const seen = new Map<string, string>();
    expect(isConfigChange(seen, pool(1), false)).toBe(true);
    expect(isConfigChange(seen, pool(2), false)).toBe(true);
    expect(isConfigChange(seen, pool(2, { zone: "a" }), false)).toBe(true);
  });

  it("a status-only update (same generation and labels) does not", () => {
    const seen = new Map<string, string>();
    isConfigChange(seen, pool(3, { b: "2", a: "1" }), false);
    expect(isConfigChange(seen, pool(3, { a: "1", b: "2" }), false)).toBe(false);
  });

  it("an annotation the parser reads counts; any other annotation does not", () => {
    const seen = new Map<string, string>();
    const ad = (annotations: Record<string, string>) => ({ metadata: { uid: "u2", generation: 1, annotations } });
    isConfigChange(seen, ad({}), false);
    expect(isConfigChange(seen, ad({ "kubectl.kubernetes.io/last-applied-configuration": "{}" }), false)).toBe(false);
    expect(isConfigChange(seen, ad({ "metallb.io/service-communities": "true" }), false)).toBe(true);
    expect(isConfigChange(seen, ad({ "metallb.io/service-communities": "true", other: "x" }), false)).toBe(false);
  });

  it("a delete always counts, and the object is forgotten", () => {
    const seen = new Map<string, string>();
    isConfigChange(seen, pool(1), false);
    expect(isConfigChange(seen, pool(1), true)).toBe(true);
    expect(seen.size).toBe(0);
    expect(isConfigChange(seen, pool(1), false)).toBe(true);
  });

  it("an object without uid or generation always counts", () => {
    expect(isConfigChange(new Map(), { metadata: {} }, false)).toBe(true);
  });
});
