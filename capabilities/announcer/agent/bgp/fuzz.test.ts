/**
 * Fuzz regression set: (a) 20,000 seeded random and mutated-valid messages,
 * (b) every input under testdata/fuzz-regressions. The decoder, validator and
 * reader must never throw: every outcome is a message or a typed error.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeMessage } from "./decode";
import { encodeMessage } from "./encode";
import { cidr, fromHex, ip } from "./fixtures";
import type { FsmEvent } from "./fsm";
import { frameToEvent } from "./inbound";
import type { Message } from "./messages";
import { MessageReader } from "./reader";
import { xorshift32 } from "../fuzz-rng";

const SEEDS: Message[] = [
  { type: "keepalive" },
  { type: "notification", code: 6, subcode: 2, data: fromHex("0102") },
  { type: "route-refresh", afi: 2, safi: 1 },
  {
    type: "open",
    version: 4,
    myAS: 23456,
    holdTime: 90,
    bgpId: ip("10.0.0.1"),
    capabilities: [
      { type: "multiprotocol", afi: 1, safi: 1 },
      { type: "multiprotocol", afi: 2, safi: 1 },
      { type: "route-refresh" },
      { type: "four-octet-as", asn: 4200000000 },
      {
        type: "graceful-restart",
        restartState: true,
        restartTime: 120,
        families: [{ afi: 1, safi: 1, forwardingState: true }],
      },
      { type: "unknown", code: 70, value: Buffer.alloc(0) },
    ],
  },
  {
    type: "update",
    withdrawn: [cidr("10.1.0.0/16")],
    attributes: [
      { type: "origin", origin: 0 },
      {
        type: "as-path",
        segments: [
          { type: "sequence", asns: [65001, 65002] },
          { type: "set", asns: [7] },
        ],
      },
      { type: "next-hop", nextHop: ip("192.0.2.1") },
      { type: "med", med: 10 },
      { type: "local-pref", localPref: 100 },
      { type: "atomic-aggregate" },
      { type: "aggregator", asn: 65001, address: ip("192.0.2.2") },
      { type: "communities", communities: [1, 2, 3] },
      { type: "large-communities", communities: [{ globalAdmin: 1, localData1: 2, localData2: 3 }] },
      { type: "unknown", code: 99, flags: 0xe0, value: fromHex("00ff") },
    ],
    nlri: [cidr("203.0.113.0/24"), cidr("198.51.100.7/32")],
  },
  {
    type: "update",
    withdrawn: [],
    attributes: [
      {
        type: "mp-reach",
        afi: 2,
        safi: 1,
        nextHops: [ip("2001:db8::1"), ip("fe80::1")],
        nlri: [cidr("2001:db8:1::/48")],
      },
      { type: "mp-unreach", afi: 2, safi: 1, withdrawn: [cidr("2001:db8:2::/48")] },
      { type: "origin", origin: 2 },
      { type: "as-path", segments: [] },
    ],
    nlri: [],
  },
  { type: "update", withdrawn: [], attributes: [{ type: "mp-unreach", afi: 2, safi: 1, withdrawn: [] }], nlri: [] },
];

const EVENT_TYPES = new Set<FsmEvent["type"]>([
  "BGPOpen",
  "KeepAliveMsg",
  "UpdateMsg",
  "UpdateMsgErr",
  "NotifMsg",
  "RouteRefreshMsg",
  "BGPHeaderErr",
  "BGPOpenMsgErr",
]);

function setLength(buf: Buffer): Buffer {
  if (buf.length >= 18) buf.writeUInt16BE(Math.min(buf.length, 0xffff), 16);
  return buf;
}

function mutate(next: () => number, seed: Buffer): Buffer {
  let buf = Buffer.from(seed);
  const edits = 1 + (next() % 6);
  for (let i = 0; i < edits; i++) {
    const op = next() % 6;
    const at = next() % Math.max(buf.length, 1);
    if (op <= 2)
      buf[at] = next() & 0xff; // overwrite (bias toward the body)
    else if (op === 3) buf = Buffer.concat([buf.subarray(0, at), Buffer.from([next() & 0xff]), buf.subarray(at)]);
    else if (op === 4) buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + 1 + (next() % 4))]);
    else buf = buf.subarray(0, Math.max(at, 0));
  }
  // Usually keep the header honest so the body parsers get exercised.
  if (next() % 4 !== 0) {
    buf.fill(0xff, 0, Math.min(16, buf.length));
    setLength(buf);
  }
  return buf;
}

function randomMessage(next: () => number): Buffer {
  const len = 19 + (next() % 200);
  const buf = Buffer.alloc(len);
  for (let i = 0; i < len; i++) buf[i] = next() & 0xff;
  buf.fill(0xff, 0, 16);
  buf[18] = 1 + (next() % 5);
  return setLength(buf);
}

/** Checks one input through every entry point; throws (failing the test) only on an untyped outcome. */
function exercise(input: Buffer, next: () => number): void {
  for (const fourOctetAS of [true, false]) {
    const direct = decodeMessage(input, { fourOctetAS });
    if (direct.ok) {
      expect(typeof direct.message.type).toBe("string");
      // What decoded once must survive its own re-encoding unchanged (UPDATEs walked to the end).
      if (direct.message.type === "update" && direct.message.attributeListProblem === undefined) {
        const again = decodeMessage(encodeMessage(direct.message, { fourOctetAS }), { fourOctetAS });
        expect(again).toEqual(direct);
      }
    } else {
      expect(direct.error.code).toBeGreaterThanOrEqual(1);
      expect(Buffer.isBuffer(direct.error.data)).toBe(true);
    }
    const reader = new MessageReader();
    let pos = 0;
    while (pos < input.length) {
      const size = 1 + (next() % 64);
      for (const frame of reader.push(input.subarray(pos, pos + size))) {
        const event = frameToEvent(frame, { fourOctetAS, ebgp: next() % 2 === 0 });
        expect(EVENT_TYPES.has(event.type)).toBe(true);
      }
      pos += size;
    }
  }
}

describe("fuzz", () => {
  it("20,000 seeded random and mutated messages never throw", () => {
    const next = xorshift32(0x5eed);
    const seeds = SEEDS.map((m) => encodeMessage(m, { fourOctetAS: true }));
    for (let i = 0; i < 20000; i++) {
      const input = i % 5 === 0 ? randomMessage(next) : mutate(next, seeds[next() % seeds.length]!);
      try {
        exercise(input, next);
      } catch (e) {
        throw new Error(`input ${i} (${input.toString("hex")}): ${(e as Error).message}`);
      }
    }
  });

  const dir = join(__dirname, "testdata", "fuzz-regressions");
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".hex"))
    .sort();
  it("has regression inputs", () => expect(files.length).toBeGreaterThan(0));
  it.each(files)("regression %s", (file) => {
    const input = fromHex(readFileSync(join(dir, file), "utf8"));
    exercise(input, xorshift32(1));
  });
});
