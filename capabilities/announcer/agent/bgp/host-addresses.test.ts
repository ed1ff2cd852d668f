import type { NetworkInterfaceInfo } from "node:os";
import { formatIP, parseIP } from "../../../shared/net/ip";
import { sameInterfaceAddress } from "./host-addresses";

const info = (address: string, internal = false): NetworkInterfaceInfo =>
  ({
    address,
    family: address.includes(":") ? "IPv6" : "IPv4",
    internal,
    netmask: "",
    mac: "00:00:00:00:00:00",
    cidr: null,
  }) as NetworkInterfaceInfo;

const interfaces = {
  lo: [info("127.0.0.1", true), info("::1", true)],
  eth0: [info("192.0.2.11"), info("fe80::1"), info("2001:db8:1::11"), info("2001:db8:1::99")],
  eth1: [info("198.51.100.5"), info("2001:db8:2::5")],
  eth2: [info("203.0.113.5"), info("fe80::2")],
};
const pick = (local: string, family: 4 | 6) => {
  const ip = sameInterfaceAddress(interfaces, parseIP(local)!, family);
  return ip && formatIP(ip);
};

describe("the other family's next hop for a dual-stack session", () => {
  it("is the first global address of that family on the session's interface", () => {
    expect(pick("192.0.2.11", 6)).toBe("2001:db8:1::11");
    expect(pick("198.51.100.5", 6)).toBe("2001:db8:2::5");
    expect(pick("2001:db8:1::99", 4)).toBe("192.0.2.11");
  });

  it("never a link-local address, and none when the interface has no other", () => {
    expect(pick("203.0.113.5", 6)).toBeUndefined();
  });

  it("none when no interface holds the session's address", () => {
    expect(pick("192.0.2.200", 6)).toBeUndefined();
  });
});
