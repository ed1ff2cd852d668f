import { checkBFDProfileDelete } from "./bfd";
import { bfd, configOf, errorsOf, peer } from "./testing";

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

  it("applies the BFD defaults", () => {
    expect(configOf({ bfdProfiles: [bfd("b", { echoMode: true })] }).bfdProfiles[0]).toEqual({
      name: "b",
      receiveInterval: 300,
      transmitInterval: 300,
      detectMultiplier: 3,
      echoInterval: 50,
      echoMode: true,
      passiveMode: false,
      minimumTtl: 254,
    });
  });
});

describe("checkBFDProfileDelete", () => {
  const bgpPeers = [
    peer("p2", { bfdProfile: "fast" }),
    peer("p1", { bfdProfile: "fast", peerAddress: "192.0.2.2" }),
    peer("p3", { peerAddress: "192.0.2.3" }),
  ];

  it("refuses deleting a profile a peer uses", () => {
    expect(checkBFDProfileDelete("fast", { bgpPeers })).toBe(
      'failed to delete BFDProfile "fast", used by BGPPeer "p1", "p2"; remove spec.bfdProfile from those peers first',
    );
  });

  it("works on the parsed model too", () => {
    const config = configOf({ bgpPeers: [peer("p", { bfdProfile: "fast" })], bfdProfiles: [bfd("fast")] });
    expect(checkBFDProfileDelete("fast", config)).toBe(
      'failed to delete BFDProfile "fast", used by BGPPeer "p"; remove spec.bfdProfile from that peer first',
    );
    expect(checkBFDProfileDelete("slow", config)).toBeUndefined();
  });
});
