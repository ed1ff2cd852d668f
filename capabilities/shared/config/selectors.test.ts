import { parseDuration } from "./duration";
import type { LabelSelector } from "../../../crds/types";
import { formatSelector, provablyDisjoint, selectionsOverlap, selectorSyntaxProblem } from "./selectors";

const inSel = (key: string, values: string[]): LabelSelector => ({
  matchExpressions: [{ key, operator: "In", values }],
});
const notIn = (key: string, values: string[]): LabelSelector => ({
  matchExpressions: [{ key, operator: "NotIn", values }],
});

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

  it("without nodes, two lists overlap unless no node could match both", () => {
    const a = [{ matchLabels: { rack: "1" } }];
    const b = [{ matchLabels: { rack: "2" } }];
    expect(selectionsOverlap(a, b, undefined)).toBe(false);
    expect(selectionsOverlap(a, [], undefined)).toBe(true);
    expect(selectionsOverlap(a, [...b, ...a], undefined)).toBe(true);
    // Different keys: one node may carry both labels (the rack/zone case).
    expect(selectionsOverlap([{ matchLabels: { rack: "a" } }], [{ matchLabels: { zone: "z1" } }], undefined)).toBe(
      true,
    );
  });

  it("with nodes, decides against the nodes that exist", () => {
    const rackA = [{ matchLabels: { rack: "a" } }];
    const zone1 = [{ matchLabels: { zone: "z1" } }];
    const both = { name: "n1", labels: { rack: "a", zone: "z1" } };
    const apart = [
      { name: "n1", labels: { rack: "a", zone: "z2" } },
      { name: "n2", labels: { rack: "b", zone: "z1" } },
    ];
    expect(selectionsOverlap(rackA, zone1, [both])).toBe(true);
    expect(selectionsOverlap(rackA, zone1, apart)).toBe(false);
  });

  it.each<[string, LabelSelector, LabelSelector, boolean]>([
    ["same key, other value", { matchLabels: { r: "a" } }, { matchLabels: { r: "b" } }, true],
    ["same key, same value", { matchLabels: { r: "a" } }, { matchLabels: { r: "a" } }, false],
    ["other keys", { matchLabels: { r: "a" } }, { matchLabels: { z: "a" } }, false],
    ["In sets apart", inSel("r", ["a", "b"]), inSel("r", ["c"]), true],
    ["In sets meet", inSel("r", ["a", "b"]), inSel("r", ["b", "c"]), false],
    [
      "In vs NotIn covering it",
      inSel("r", ["a"]),
      { matchExpressions: [{ key: "r", operator: "NotIn", values: ["a", "x"] }] },
      true,
    ],
    ["NotIn vs NotIn (absent matches both)", notIn("r", ["a"]), notIn("r", ["b"]), false],
    [
      "Exists vs DoesNotExist",
      { matchExpressions: [{ key: "r", operator: "Exists" }] },
      { matchExpressions: [{ key: "r", operator: "DoesNotExist" }] },
      true,
    ],
    [
      "label vs DoesNotExist",
      { matchLabels: { r: "a" } },
      { matchExpressions: [{ key: "r", operator: "DoesNotExist" }] },
      true,
    ],
    ["NotIn vs DoesNotExist", notIn("r", ["a"]), { matchExpressions: [{ key: "r", operator: "DoesNotExist" }] }, false],
    ["Exists vs NotIn", { matchExpressions: [{ key: "r", operator: "Exists" }] }, notIn("r", ["a"]), false],
    [
      "a conflict inside one selector",
      { matchLabels: { r: "a" }, matchExpressions: [{ key: "r", operator: "In", values: ["b"] }] },
      {},
      true,
    ],
  ])("provablyDisjoint: %s", (_what, a, b, disjoint) => {
    expect(provablyDisjoint(a, b)).toBe(disjoint);
    expect(provablyDisjoint(b, a)).toBe(disjoint);
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
