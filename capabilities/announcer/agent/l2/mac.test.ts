import { parseIP } from "../../../shared/net/ip";
import {
  BROADCAST_MAC,
  formatMAC,
  ipv6MulticastMAC,
  isBroadcastMAC,
  isMulticastMAC,
  isUnicastMAC,
  macEquals,
  parseMAC,
  ZERO_MAC,
} from "./mac";

describe("MAC helpers", () => {
  it("parses colon and dash forms in any case", () => {
    expect([...parseMAC("EE:f7:ac:57:d9:3c")!]).toEqual([0xee, 0xf7, 0xac, 0x57, 0xd9, 0x3c]);
    expect(formatMAC(parseMAC("02-00-00-00-00-0A")!)).toBe("02:00:00:00:00:0a");
  });

  it.each(["", "02:00:00:00:00", "02:00:00:00:00:0g", "02:00-00:00:00:0a", "0200.0000.000a", "02:00:00:00:00:00:01"])(
    "rejects %p",
    (bad) => expect(parseMAC(bad)).toBeUndefined(),
  );

  it("classifies addresses", () => {
    expect(isBroadcastMAC(BROADCAST_MAC)).toBe(true);
    expect(isMulticastMAC(BROADCAST_MAC)).toBe(true);
    expect(isMulticastMAC(parseMAC("33:33:ff:00:00:01")!)).toBe(true);
    expect(isMulticastMAC(parseMAC("01:00:5e:00:00:01")!)).toBe(true);
    expect(isUnicastMAC(parseMAC("02:00:00:00:00:0a")!)).toBe(true);
    expect(isUnicastMAC(ZERO_MAC)).toBe(false);
    expect(isUnicastMAC(BROADCAST_MAC)).toBe(false);
    expect(macEquals(parseMAC("02:00:00:00:00:0a")!, parseMAC("02:00:00:00:00:0A")!)).toBe(true);
    expect(macEquals(parseMAC("02:00:00:00:00:0a")!, Buffer.alloc(5))).toBe(false);
    expect(() => formatMAC(Buffer.alloc(4))).toThrow(/6 bytes/);
  });

  it("maps IPv6 multicast groups to 33:33 plus the low 32 bits (RFC 2464 §7)", () => {
    expect(formatMAC(ipv6MulticastMAC(parseIP("ff02::1")!))).toBe("33:33:00:00:00:01");
    expect(formatMAC(ipv6MulticastMAC(parseIP("ff02::1:ff12:3456")!))).toBe("33:33:ff:12:34:56");
    expect(() => ipv6MulticastMAC(parseIP("2001:db8::1")!)).toThrow(/multicast/);
  });
});
