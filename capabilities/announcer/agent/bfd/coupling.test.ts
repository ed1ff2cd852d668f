import { bfdPeerOf, bfdStatusOf, bgpReaction } from "./coupling";
import type { BfdSnapshot } from "./sessions";

const snap = (over: Partial<BfdSnapshot>): BfdSnapshot => ({
  state: "Down",
  remoteState: "Down",
  localDiagnostic: "no diagnostic",
  remoteDiagnostic: "no diagnostic",
  since: new Date("2026-01-01T00:00:00Z"),
  localDiscriminator: 1,
  remoteDiscriminator: 2,
  transmitIntervalMs: 300,
  detectionTimeMs: 900,
  multihop: false,
  packetsSent: 0,
  packetsReceived: 0,
  upEvents: 0,
  downEvents: 0,
  ...over,
});

describe("what a BFD change does to BGP (RFC 5882)", () => {
  it("Up -> Down on a detection timeout or the peer's Down tears BGP down", () => {
    expect(bgpReaction("Up", snap({ state: "Down", localDiagnostic: "control detection time expired" }))).toBe(
      "tear-down",
    );
    expect(bgpReaction("Up", snap({ state: "Down", remoteState: "Down" }))).toBe("tear-down");
  });

  it("the peer's AdminDown is not a failure (§3.2): BGP stays, a hold is lifted", () => {
    expect(bgpReaction("Up", snap({ state: "Down", remoteState: "AdminDown" }))).toBe("release");
    expect(bgpReaction("Init", snap({ state: "Down", remoteState: "AdminDown" }))).toBe("release");
  });

  it("a session that never came Up leaves BGP alone (§4.3)", () => {
    expect(bgpReaction(undefined, snap({ state: "Down" }))).toBe("none");
    expect(bgpReaction("Down", snap({ state: "Init" }))).toBe("none");
    expect(bgpReaction("Init", snap({ state: "Down" }))).toBe("none");
  });

  it("Up lifts a hold; our own AdminDown (stopping) does nothing", () => {
    expect(bgpReaction("Init", snap({ state: "Up" }))).toBe("release");
    expect(bgpReaction("Up", snap({ state: "AdminDown" }))).toBe("none");
  });
});

describe("BFD settings from a BGPSession spec", () => {
  const base = { node: "n", peer: "p", peerAddress: "192.0.2.1" };

  it("none without spec.bfd", () => {
    expect(bfdPeerOf(base)).toBeUndefined();
  });

  it("milliseconds to microseconds, single hop without a TTL minimum, from the source address", () => {
    expect(
      bfdPeerOf({
        ...base,
        sourceAddress: "192.0.2.11",
        bfd: {
          profile: "b",
          receiveInterval: 100,
          transmitInterval: 200,
          detectMultiplier: 5,
          passiveMode: true,
          minimumTtl: 200,
        },
      }),
    ).toEqual({
      peerAddress: "192.0.2.1",
      localAddress: "192.0.2.11",
      multihop: false,
      config: { desiredMinTxUs: 200_000, requiredMinRxUs: 100_000, detectMult: 5, passive: true },
    });
  });

  it("multihop keeps the profile's minimum TTL; MetalLB's defaults fill the gaps", () => {
    expect(bfdPeerOf({ ...base, bfd: { profile: "b", multihop: true, minimumTtl: 250 } })).toEqual({
      peerAddress: "192.0.2.1",
      multihop: true,
      minimumTtl: 250,
      config: { desiredMinTxUs: 300_000, requiredMinRxUs: 300_000, detectMult: 3, passive: false },
    });
  });

  it("status: what kubectl shows", () => {
    expect(bfdStatusOf(snap({ state: "Up", remoteState: "Up", downEvents: 2 }))).toEqual({
      state: "Up",
      remoteState: "Up",
      diagnostic: "no diagnostic",
      remoteDiagnostic: "no diagnostic",
      since: "2026-01-01T00:00:00.000Z",
      transmitInterval: 300,
      detectionTime: 900,
      multihop: false,
      downEvents: 2,
    });
  });
});
