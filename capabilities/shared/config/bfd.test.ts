import { bfd, configOf, errorsOf } from "./testing";

describe("BFDProfile rules", () => {
  it.each([
    ["receiveInterval", 9, "10-60000"],
    ["transmitInterval", 60001, "10-60000"],
    ["detectMultiplier", 1, "2-255"],
    ["echoInterval", 5, "10-60000"],
    ["minimumTtl", 255, "1-254"],
  ])("%s out of range", (field, value, range) => {
    expect(errorsOf({ bfdProfiles: [bfd("b", { [field]: value })] })).toEqual([
      `BFDProfile "b": spec.${field}: invalid value ${value}, must be in ${range} range`,
    ]);
  });

  it("duplicate profile", () => {
    expect(errorsOf({ bfdProfiles: [bfd("b"), bfd("b")] })).toEqual([
      'BFDProfile "b": metadata.name: duplicate definition of bfd profile "b"',
    ]);
  });

  it("refuses echo mode, saying why and what to do", () => {
    expect(errorsOf({ bfdProfiles: [bfd("b", { echoMode: true })] })).toEqual([
      expect.stringMatching(
        /^BFDProfile "b": spec.echoMode: echo mode is not supported by metallb-pepr: .*RFC 5880 §6.4.*; remove spec.echoMode/,
      ),
    ]);
    expect(errorsOf({ bfdProfiles: [bfd("b", { echoMode: false, echoInterval: 100 })] })).toEqual([]);
  });

  it("applies the BFD defaults", () => {
    expect(configOf({ bfdProfiles: [bfd("b")] }).bfdProfiles[0]).toEqual({
      name: "b",
      receiveInterval: 300,
      transmitInterval: 300,
      detectMultiplier: 3,
      echoInterval: 50,
      echoMode: false,
      passiveMode: false,
      minimumTtl: 254,
    });
  });
});
