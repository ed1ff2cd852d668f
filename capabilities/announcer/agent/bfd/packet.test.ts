import { AuthType, BfdState, Diag, authError, controlPacket, decode, encode, type ControlPacket } from "./packet";
import { xorshift32 } from "../fuzz-rng";

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");

const up = controlPacket({
  state: BfdState.Up,
  detectMult: 3,
  myDiscriminator: 0x01020304,
  yourDiscriminator: 0x0a0b0c0d,
  desiredMinTxUs: 300_000,
  requiredMinRxUs: 300_000,
});

describe("BFD control packet codec (RFC 5880 §4.1)", () => {
  it("encodes the mandatory section bit for bit", () => {
    const p = { ...up, diag: Diag.ControlDetectionTimeExpired, poll: true, requiredMinEchoRxUs: 50_000 };
    // vers 1 | diag 1 = 0x21; Up(3)<<6 | P = 0xe0; mult 3; length 24
    expect(encode(p).toString("hex")).toBe("21e00318" + "01020304" + "0a0b0c0d" + "000493e0" + "000493e0" + "0000c350");
  });

  it("decodes what it encodes, flags included", () => {
    for (const flags of [{ poll: true }, { final: true }, { cpi: true }, { demand: true }, {}]) {
      const p: ControlPacket = { ...up, ...flags };
      expect(decode(encode(p))).toEqual({ ok: true, packet: p });
    }
  });

  it("decodes a Down packet from a peer that does not know us yet (your discriminator 0)", () => {
    const r = decode(hex("20 40 03 18  00000007 00000000 000f4240 000f4240 00000000"));
    expect(r).toEqual({
      ok: true,
      packet: expect.objectContaining({
        state: BfdState.Down,
        myDiscriminator: 7,
        yourDiscriminator: 0,
        desiredMinTxUs: 1_000_000,
      }),
    });
  });

  it("ignores padding after Length", () => {
    const padded = Buffer.concat([encode(up), Buffer.alloc(8, 0xff)]);
    expect(decode(padded)).toEqual({ ok: true, packet: up });
  });

  it.each([
    ["too short", encode(up).subarray(0, 23), /shorter than 24/],
    ["version 0", Buffer.from([0x00, ...encode(up).subarray(1)]), /version 0 is not 1/],
    ["length below 24", Object.assign(encode(up), { 3: 20 }), /length 20 is less than 24/],
    ["length past the datagram", Object.assign(encode(up), { 3: 40 }), /exceeds the 24-octet payload/],
    ["detect mult zero", encode({ ...up, detectMult: 0 }), /detect mult is zero/],
    ["multipoint", encode({ ...up, multipoint: true }), /multipoint/],
    ["my discriminator zero", encode({ ...up, myDiscriminator: 0 }), /my discriminator is zero/],
    [
      "your discriminator zero while Up",
      encode({ ...up, yourDiscriminator: 0 }),
      /your discriminator is zero in state Up/,
    ],
    ["your discriminator zero while Init", encode({ ...up, state: BfdState.Init, yourDiscriminator: 0 }), /state Init/],
  ])("discards: %s (§6.8.6)", (_what, bytes, reason) => {
    const r = decode(bytes);
    expect(r.ok).toBe(false);
    expect(r.ok ? "" : r.reason).toMatch(reason);
  });

  it("keeps Down and AdminDown with your discriminator zero", () => {
    for (const state of [BfdState.Down, BfdState.AdminDown]) {
      expect(decode(encode({ ...up, state, yourDiscriminator: 0 })).ok).toBe(true);
    }
  });

  describe("authentication section (§4.2-§4.4)", () => {
    const withAuth = (type: number, length: number): ControlPacket => ({
      ...up,
      auth: { type, length, keyId: 5, data: Buffer.alloc(length - 3, 0x61) },
    });

    it.each([
      ["simple password", AuthType.SimplePassword, 3 + 8],
      ["keyed MD5", AuthType.KeyedMD5, 24],
      ["meticulous keyed MD5", AuthType.MeticulousKeyedMD5, 24],
      ["keyed SHA1", AuthType.KeyedSHA1, 28],
      ["meticulous keyed SHA1", AuthType.MeticulousKeyedSHA1, 28],
    ])("%s round-trips with Length = 24 + Auth Len", (_n, type, len) => {
      const bytes = encode(withAuth(type, len));
      expect(bytes[1]! & 0x04).toBe(0x04);
      expect(bytes[3]).toBe(24 + len);
      expect(decode(bytes)).toEqual({ ok: true, packet: withAuth(type, len) });
    });

    it.each([
      ["MD5 of the wrong length", withAuth(AuthType.KeyedMD5, 20), /MD5 auth length 20 is not 24/],
      ["SHA1 of the wrong length", withAuth(AuthType.KeyedSHA1, 24), /SHA1 auth length 24 is not 28/],
      ["empty password", withAuth(AuthType.SimplePassword, 3), /simple password auth length 3/],
      ["unknown type", withAuth(9, 8), /unknown auth type 9/],
    ])("discards %s", (_n, p, reason) => {
      const r = decode(encode(p));
      expect(r.ok ? "" : r.reason).toMatch(reason);
    });

    it("discards an A bit with Length 24 (§6.8.6: at least 26)", () => {
      const bytes = encode(up);
      bytes[1] = bytes[1]! | 0x04;
      expect(decode(bytes)).toEqual({ ok: false, reason: "length 24 is less than 26" });
    });

    it("a session without authentication refuses the A bit, one with it refuses its absence", () => {
      expect(authError(withAuth(AuthType.KeyedSHA1, 28), false)).toBe("authentication present but not configured");
      expect(authError(up, true)).toBe("authentication configured but not present");
      expect(authError(up, false)).toBeUndefined();
    });
  });

  describe("fuzzing", () => {
    /** Seeded from the environment or the clock; the seed is printed to replay a failure. */
    const seed = Number(process.env.BFD_FUZZ_SEED ?? Date.now() % 2 ** 31) >>> 0 || 1;
    const next = xorshift32(seed);
    beforeAll(() => console.log(`BFD packet fuzz seed ${seed} (BFD_FUZZ_SEED=${seed} replays it)`));

    it("never throws; every accepted packet re-encodes to the same fields", () => {
      let accepted = 0;
      for (let i = 0; i < 20_000; i++) {
        let bytes: Buffer;
        if (i % 2 === 0) {
          bytes = Buffer.alloc(next() % 64);
          for (let j = 0; j < bytes.length; j++) bytes[j] = next() & 0xff;
        } else {
          // A valid packet with a few octets flipped: reaches the deeper checks.
          bytes = encode({ ...up, diag: next() % 9 });
          for (let k = 0; k < 1 + (next() % 3); k++) bytes[next() % bytes.length] ^= 1 << next() % 8;
        }
        const r = decode(bytes);
        if (!r.ok) {
          expect(typeof r.reason).toBe("string");
          continue;
        }
        accepted++;
        const p = r.packet;
        expect(p.version).toBe(1);
        expect(p.detectMult).toBeGreaterThan(0);
        expect(p.myDiscriminator).not.toBe(0);
        expect(p.multipoint).toBe(false);
        if (p.yourDiscriminator === 0) expect([BfdState.Down, BfdState.AdminDown]).toContain(p.state);
        // Length may legitimately exceed what we re-encode (trailing octets inside Length); the rest matches.
        const again = encode(p);
        again[3] = bytes[3]!;
        expect(again.subarray(0, 24).equals(bytes.subarray(0, 24))).toBe(true);
        expect(decode(encode(p))).toEqual({ ok: true, packet: p });
      }
      expect(accepted).toBeGreaterThan(1000);
    });
  });
});
