import { parseDuration } from "./duration";
import { formatSelector, selectionsOverlap, selectorSyntaxProblem } from "./selectors";

describe("selectors", () => {
  it("formats like kubectl, order-independent", () => {
    expect(
      formatSelector({
        matchLabels: { b: "2", a: "1" },
        matchExpressions: [
          { key: "z", operator: "DoesNotExist" },
          { key: "x", operator: "NotIn", values: ["q", "p"] },
        ],
      }),
    ).toBe("a=1,b=2,!z,x notin (p,q)");
  });

  it("accepts prefixed keys and empty values", () => {
    expect(
      selectorSyntaxProblem({
        matchLabels: { "kubernetes.io/hostname": "", "node-role.kubernetes.io/worker": "true" },
      }),
    ).toBeUndefined();
  });

  it("rejects a bad key prefix", () => {
    expect(selectorSyntaxProblem({ matchLabels: { "Bad_Prefix/x": "1" } })).toBe(
      'invalid label key "Bad_Prefix/x": the prefix must be a DNS subdomain',
    );
  });

  it("without nodes, only certain overlaps count", () => {
    const a = [{ matchLabels: { rack: "1" } }];
    const b = [{ matchLabels: { rack: "2" } }];
    expect(selectionsOverlap(a, b, undefined)).toBe(false);
    expect(selectionsOverlap(a, [], undefined)).toBe(true);
    expect(selectionsOverlap(a, [...b, ...a], undefined)).toBe(true);
  });
});

describe("durations", () => {
  it.each([
    ["90s", 90000],
    ["1m30s", 90000],
    ["1.5h", 5400000],
    ["500ms", 500],
    ["0", 0],
  ])("%s", (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(["", "90", "s", "1x", "1s2"])("rejects %p", (text) => expect(parseDuration(text)).toBeUndefined());
});
