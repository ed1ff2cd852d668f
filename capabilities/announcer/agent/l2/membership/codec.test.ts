import { createHmac, randomBytes } from "node:crypto";
import { decodeHeartbeat, encodeHeartbeat, FLAG_SERVING, FLAG_TIEBREAKER, type Heartbeat } from "./heartbeat";
import { ReplayWindow, WINDOW } from "./replay-window";
import { majority, makeRoster, parseRoster } from "./roster";
import { xorshift32 } from "../../fuzz-rng";

const key = Buffer.alloc(32, 7);
const hb: Heartbeat = {
  sender: "node-a",
  flags: FLAG_SERVING | FLAG_TIEBREAKER,
  rosterDigest: Buffer.from("0123456789abcdef", "hex"),
  seq: 1_764_000_000_000_123,
  tiebreakerHeldMs: 4321,
  entries: [
    { voter: 1, ackSeq: 1_764_000_000_000_100, silenceMs: 40 },
    { voter: 2, ackSeq: 0, silenceMs: 0xffffffff },
  ],
};

describe("heartbeat codec", () => {
  it("round-trips every field under the right key", () => {
    expect(decodeHeartbeat(encodeHeartbeat(hb, key), key)).toEqual(hb);
  });

  it("refuses a packet signed with another key (a host on the LAN cannot forge one)", () => {
    expect(decodeHeartbeat(encodeHeartbeat(hb, Buffer.alloc(32, 8)), key)).toBe("bad-mac");
  });

  it("refuses any single flipped bit", () => {
    const packet = encodeHeartbeat(hb, key);
    for (let i = 0; i < packet.length; i++) {
      const bad = Buffer.from(packet);
      bad[i] ^= 0x10;
      expect(decodeHeartbeat(bad, key)).toBe("bad-mac");
    }
  });

  it("refuses truncated packets without throwing", () => {
    const packet = encodeHeartbeat(hb, key);
    for (let n = 0; n < packet.length; n++) expect(typeof decodeHeartbeat(packet.subarray(0, n), key)).toBe("string");
  });

  it("never throws on random input, signed or not", () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) >>> 0;
    const next = xorshift32(seed);
    console.log(`heartbeat fuzz seed ${seed} (FUZZ_SEED=${seed} reproduces)`);
    try {
      for (let i = 0; i < 2000; i++) {
        const n = next() % 200;
        const body = Buffer.from(Array.from({ length: n }, () => next() & 0xff));
        // Half the cases carry a valid MAC, so the parser behind it is exercised too.
        const packet = i % 2 ? Buffer.concat([body, createHmac("sha256", key).update(body).digest()]) : body;
        const r = decodeHeartbeat(packet, key);
        expect(typeof r === "string" || typeof r === "object").toBe(true);
      }
    } catch (err) {
      throw new Error(`seed ${seed}: ${(err as Error).message}`);
    }
  });

  it("refuses a node name that does not fit", () => {
    expect(() => encodeHeartbeat({ ...hb, sender: "x".repeat(256) }, key)).toThrow(/node name/);
  });

  it("a 50-voter heartbeat fits in one Ethernet frame", () => {
    const entries = Array.from({ length: 49 }, (_, voter) => ({ voter, ackSeq: hb.seq, silenceMs: 10 }));
    const packet = encodeHeartbeat({ ...hb, sender: "n".repeat(63), entries }, randomBytes(32));
    expect(packet.length).toBeLessThan(1472); // 1500 minus IPv4 and UDP headers
  });
});

describe("replay window (RFC 4303 §3.4.3)", () => {
  it("accepts each number once, in order or reordered within the window", () => {
    const w = new ReplayWindow();
    expect(w.accept(100)).toBe(true);
    expect(w.accept(100)).toBe(false);
    expect(w.accept(102)).toBe(true);
    expect(w.accept(101)).toBe(true);
    expect(w.accept(101)).toBe(false);
    expect(w.latest).toBe(102);
  });

  it("refuses numbers older than the window", () => {
    const w = new ReplayWindow();
    w.accept(1000);
    expect(w.accept(1000 - WINDOW)).toBe(false);
    expect(w.accept(1000 - WINDOW + 1)).toBe(true);
  });

  it("a big jump forgets the old bitmap but still refuses what it passed", () => {
    const w = new ReplayWindow();
    w.accept(5);
    w.accept(5000);
    expect(w.accept(5)).toBe(false);
    expect(w.accept(4999)).toBe(true);
    expect(w.accept(4999)).toBe(false);
  });

  it("refuses zero, negatives and unsafe integers", () => {
    const w = new ReplayWindow();
    expect(w.accept(0)).toBe(false);
    expect(w.accept(-1)).toBe(false);
    expect(w.accept(2 ** 60)).toBe(false);
  });
});

describe("roster", () => {
  it("majority counts the API server's vote when it votes", () => {
    expect(majority(makeRoster(["a", "b", "c"], false, new Map()))).toBe(2);
    expect(majority(makeRoster(["a", "b"], true, new Map()))).toBe(2);
    expect(majority(makeRoster(["a", "b", "c", "d"], true, new Map()))).toBe(3);
    expect(majority(makeRoster(["a"], false, new Map()))).toBe(1);
  });

  it("the digest depends on voters and tie-breaker, not on order or addresses", () => {
    const a = makeRoster(["b", "a"], false, new Map([["a", "192.0.2.1"]]));
    const b = makeRoster(["a", "b"], false, new Map());
    expect(a.digest.equals(b.digest)).toBe(true);
    expect(a.digest.equals(makeRoster(["a", "b"], true, new Map()).digest)).toBe(false);
  });

  it("parses roster.json and names what is wrong", () => {
    const r = parseRoster(
      JSON.stringify({ voters: ["n2", "n1"], tiebreaker: true, addresses: { n1: "192.0.2.11", n2: "192.0.2.12" } }),
    );
    expect(r.voters).toEqual(["n1", "n2"]);
    expect(r.addresses.get("n2")).toBe("192.0.2.12");
    expect(() => parseRoster(JSON.stringify({ voters: "n1", tiebreaker: false }))).toThrow(/voters/);
    expect(() => parseRoster(JSON.stringify({ voters: ["n1"] }))).toThrow(/tiebreaker/);
  });
});
