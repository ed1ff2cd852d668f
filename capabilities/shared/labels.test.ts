import { anySelectorMatches, formatLabels, selectorMatches, selectorProblem } from "./labels";

describe("selectorMatches", () => {
  const labels = { app: "web", tier: "front", empty: "" };

  it("matches everything with an empty selector", () => {
    expect(selectorMatches({}, labels)).toBe(true);
    expect(selectorMatches({}, {})).toBe(true);
  });

  it("requires every matchLabels pair", () => {
    expect(selectorMatches({ matchLabels: { app: "web" } }, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { app: "web", tier: "back" } }, labels)).toBe(false);
    expect(selectorMatches({ matchLabels: { missing: "" } }, labels)).toBe(false);
    expect(selectorMatches({ matchLabels: { empty: "" } }, labels)).toBe(true);
  });

  it.each([
    ["In", ["web", "api"], true],
    ["In", ["api"], false],
    ["NotIn", ["api"], true],
    ["NotIn", ["web"], false],
  ])("evaluates %s %p on a present key", (operator, values, expected) => {
    expect(selectorMatches({ matchExpressions: [{ key: "app", operator, values }] }, labels)).toBe(expected);
  });

  it("treats an absent key as NotIn-satisfying and In-failing", () => {
    expect(selectorMatches({ matchExpressions: [{ key: "zone", operator: "NotIn", values: ["a"] }] }, labels)).toBe(
      true,
    );
    expect(selectorMatches({ matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] }, labels)).toBe(false);
  });

  it("evaluates Exists and DoesNotExist", () => {
    expect(selectorMatches({ matchExpressions: [{ key: "tier", operator: "Exists" }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: "zone", operator: "Exists" }] }, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: "zone", operator: "DoesNotExist" }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: "tier", operator: "DoesNotExist" }] }, labels)).toBe(false);
  });

  it("ANDs matchLabels with every expression", () => {
    const sel = { matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "In", values: ["back"] }] };
    expect(selectorMatches(sel, labels)).toBe(false);
  });

  it("does not see inherited object properties as labels", () => {
    expect(selectorMatches({ matchExpressions: [{ key: "toString", operator: "Exists" }] }, {})).toBe(false);
  });

  it("reports malformed selectors and never matches them", () => {
    const badIn = { matchExpressions: [{ key: "app", operator: "In", values: [] }] };
    const badExists = { matchExpressions: [{ key: "app", operator: "Exists", values: ["x"] }] };
    const badOp = { matchExpressions: [{ key: "app", operator: "Gt", values: ["1"] }] };
    expect(selectorProblem(badIn)).toBe('values must be non-empty for operator "In" on key "app"');
    expect(selectorProblem(badExists)).toBe('values must be empty for operator "Exists" on key "app"');
    expect(selectorProblem(badOp)).toBe('unknown operator "Gt" on key "app"');
    expect(selectorProblem({ matchLabels: { a: "b" } })).toBeUndefined();
    for (const bad of [badIn, badExists, badOp]) expect(selectorMatches(bad, labels)).toBe(false);
  });
});

describe("anySelectorMatches / formatLabels", () => {
  it("ORs a list of selectors; an empty list matches nothing", () => {
    expect(anySelectorMatches([{ matchLabels: { app: "x" } }, { matchLabels: { app: "web" } }], { app: "web" })).toBe(
      true,
    );
    expect(anySelectorMatches([], { app: "web" })).toBe(false);
  });

  it("renders a label set canonically", () => {
    expect(formatLabels({ b: "2", a: "1" })).toBe("a=1,b=2");
    expect(formatLabels({})).toBe("");
  });
});
