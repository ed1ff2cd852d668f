import { encodeMessage } from "./encode";
import { fromHex, MARKER } from "./fixtures";
import { MessageReader } from "./reader";

describe("MessageReader", () => {
  const ka = encodeMessage({ type: "keepalive" });
  const notif = encodeMessage({ type: "notification", code: 6, subcode: 2, data: fromHex("0102") });

  it("splits a chunk holding several messages", () => {
    const r = new MessageReader();
    const frames = r.push(Buffer.concat([ka, notif, ka]));
    expect(frames.map((f) => f.kind === "frame" && f.bytes)).toEqual([ka, notif, ka]);
    expect(r.buffered).toBe(0);
  });

  it("joins a message delivered one octet at a time", () => {
    const r = new MessageReader();
    const out = [];
    for (const b of notif) out.push(...r.push(Buffer.from([b])));
    expect(out).toEqual([{ kind: "frame", bytes: notif }]);
  });

  it("keeps a partial tail for the next chunk", () => {
    const r = new MessageReader();
    const both = Buffer.concat([ka, notif]);
    expect(r.push(both.subarray(0, 25))).toHaveLength(1);
    expect(r.buffered).toBe(6);
    expect(r.push(both.subarray(25))).toEqual([{ kind: "frame", bytes: notif }]);
  });

  it("reports a bad marker as 1/1 and then stops", () => {
    const r = new MessageReader();
    const bad = Buffer.from(ka);
    bad[0] = 0xfe;
    const out = r.push(Buffer.concat([ka, bad]));
    expect(out[0]).toEqual({ kind: "frame", bytes: ka });
    expect(out[1]).toMatchObject({ kind: "error", error: { code: 1, subcode: 1 } });
    expect(r.push(ka)).toEqual([]);
  });

  it("reports a length outside 19..4096 as 1/2 with the length", () => {
    expect(new MessageReader().push(fromHex(`${MARKER} 0010 04`))).toMatchObject([
      { kind: "error", error: { code: 1, subcode: 2, data: fromHex("0010") } },
    ]);
    expect(new MessageReader().push(fromHex(`${MARKER} 1001 02`))).toMatchObject([
      { kind: "error", error: { code: 1, subcode: 2, data: fromHex("1001") } },
    ]);
  });

  it("frames a 4096-octet message", () => {
    const max = Buffer.concat([fromHex(`${MARKER} 1000 02`), Buffer.alloc(4096 - 19)]);
    const r = new MessageReader();
    expect(r.push(max.subarray(0, 2000))).toEqual([]);
    expect(r.push(max.subarray(2000))).toEqual([{ kind: "frame", bytes: max }]);
  });

  it("does not alias the caller's chunk", () => {
    const chunk = Buffer.from(ka);
    const [f] = new MessageReader().push(chunk);
    chunk.fill(0);
    expect(f).toEqual({ kind: "frame", bytes: ka });
  });
});
