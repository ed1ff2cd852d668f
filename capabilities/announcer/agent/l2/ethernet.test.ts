import {
  decodeEthernet,
  encodeEthernet,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV6,
  ETHERTYPE_QINQ,
  ETHERTYPE_VLAN,
} from "./ethernet";
import { formatMAC, parseMAC } from "./mac";
import { hex } from "./testvectors";

const A = parseMAC("02:00:00:00:00:0a")!;
const B = parseMAC("02:00:00:00:00:0b")!;

describe("Ethernet II", () => {
  it("decodes an untagged frame", () => {
    const f = decodeEthernet(hex("ffffffffffff 02000000000b 0806 deadbeef"))!;
    expect(formatMAC(f.dst)).toBe("ff:ff:ff:ff:ff:ff");
    expect(formatMAC(f.src)).toBe("02:00:00:00:00:0b");
    expect(f.etherType).toBe(ETHERTYPE_ARP);
    expect(f.vlans).toEqual([]);
    expect(f.payload.toString("hex")).toBe("deadbeef");
  });

  it("decodes 802.1Q and QinQ tags and reports them", () => {
    // TCI 0xa064 = PCP 5, DEI 0, VID 100
    const q = decodeEthernet(hex("02000000000a 02000000000b 8100 a064 86dd 60"))!;
    expect(q.vlans).toEqual([{ tpid: ETHERTYPE_VLAN, pcp: 5, dei: false, vid: 100 }]);
    expect(q.etherType).toBe(ETHERTYPE_IPV6);
    expect([...q.payload]).toEqual([0x60]);
    // Outer S-tag VID 10 with DEI, inner C-tag VID 4095.
    const qq = decodeEthernet(hex("02000000000a 02000000000b 88a8 100a 8100 0fff 0806"))!;
    expect(qq.vlans).toEqual([
      { tpid: ETHERTYPE_QINQ, pcp: 0, dei: true, vid: 10 },
      { tpid: ETHERTYPE_VLAN, pcp: 0, dei: false, vid: 4095 },
    ]);
    expect(qq.etherType).toBe(ETHERTYPE_ARP);
  });

  it.each([
    ["too short", "02000000000a 02000000000b 08"],
    ["truncated VLAN tag", "02000000000a 02000000000b 8100 0064"],
    ["802.3 length field instead of EtherType", "02000000000a 02000000000b 0040 aaaa03"],
  ])("rejects %s", (_name, h) => expect(decodeEthernet(hex(h))).toBeUndefined());

  it("encodes with zero padding to 60 bytes", () => {
    const out = encodeEthernet({ dst: B, src: A, etherType: ETHERTYPE_ARP, payload: hex("0102") });
    expect(out.length).toBe(60);
    expect(out.subarray(0, 16).toString("hex")).toBe("02000000000b02000000000a08060102");
    expect(out.subarray(16).every((b) => b === 0)).toBe(true);
  });

  it("encodes a VLAN tag and round-trips", () => {
    const payload = Buffer.alloc(100, 7);
    const out = encodeEthernet({ dst: B, src: A, etherType: ETHERTYPE_IPV6, vlans: [{ vid: 100 }], payload });
    expect(out.length).toBe(118);
    expect(out.subarray(12, 18).toString("hex")).toBe("8100006486dd");
    const back = decodeEthernet(out)!;
    expect(back.vlans[0].vid).toBe(100);
    expect(back.payload.equals(payload)).toBe(true);
  });

  it("refuses bad inputs", () => {
    expect(() =>
      encodeEthernet({ dst: Buffer.alloc(5), src: A, etherType: ETHERTYPE_ARP, payload: Buffer.alloc(0) }),
    ).toThrow(/6 bytes/);
    expect(() => encodeEthernet({ dst: B, src: A, etherType: 0x05dc, payload: Buffer.alloc(0) })).toThrow(/EtherType/);
    expect(() =>
      encodeEthernet({ dst: B, src: A, etherType: ETHERTYPE_ARP, vlans: [{ vid: 4096 }], payload: Buffer.alloc(0) }),
    ).toThrow(/VLAN/);
  });
});
