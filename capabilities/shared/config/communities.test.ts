import { parseCommunity } from "./communities";
import { community, configOf, errorsOf } from "./testing";

describe("Community rules", () => {
  it("invalid standard value", () => {
    expect(errorsOf({ communities: [community("c", [{ name: "x", value: "1:abc" }])] })).toEqual([
      'Community "c": spec.communities[0].value: invalid community value: invalid section "abc" of community "1:abc": must be a number from 0 to 65535',
    ]);
  });

  it("invalid large value section", () => {
    expect(errorsOf({ communities: [community("c", [{ name: "x", value: "large:1:4294967296:3" }])] })).toEqual([
      'Community "c": spec.communities[0].value: invalid community value: invalid section "4294967296" of community "large:1:4294967296:3": must be a number from 0 to 4294967295',
    ]);
  });

  it("invalid shape", () => {
    expect(errorsOf({ communities: [community("c", [{ name: "x", value: "1:2:3" }])] })).toEqual([
      'Community "c": spec.communities[0].value: invalid community format: "1:2:3"; write AA:NN or large:A:B:C',
    ]);
  });

  it("missing alias name", () => {
    expect(errorsOf({ communities: [community("c", [{ name: "", value: "1:2" }])] })).toEqual([
      'Community "c": spec.communities[0].name: missing community name; give the alias a name',
    ]);
  });

  it("alias defined twice across Community objects", () => {
    expect(
      errorsOf({
        communities: [community("b", [{ name: "x", value: "1:2" }]), community("a", [{ name: "x", value: "1:3" }])],
      }),
    ).toEqual([
      'Community "b": spec.communities[0].name: duplicate definition of community "x", already defined in Community "a"; alias names must be unique across all Communities',
    ]);
  });

  it("alias defined twice in one object", () => {
    expect(
      errorsOf({
        communities: [
          community("a", [
            { name: "x", value: "1:2" },
            { name: "x", value: "1:2" },
          ]),
        ],
      }),
    ).toEqual([
      'Community "a": spec.communities[1].name: duplicate definition of community "x", already defined in this Community; alias names must be unique across all Communities',
    ]);
  });
});

describe("community values", () => {
  it("parses standard and large values at their limits", () => {
    expect(parseCommunity("65535:0")).toEqual({
      ok: true,
      value: { type: "standard", standard: { asn: 65535, value: 0 } },
    });
    expect(parseCommunity("large:4294967295:0:7")).toEqual({
      ok: true,
      value: { type: "large", large: { global: 4294967295, local1: 0, local2: 7 } },
    });
  });

  it("lists aliases by name", () => {
    const c = configOf({
      communities: [
        community("c", [
          { name: "z", value: "1:1" },
          { name: "a", value: "large:1:1:1" },
        ]),
      ],
    });
    expect(c.communities.map((a) => a.name)).toEqual(["a", "z"]);
  });
});
