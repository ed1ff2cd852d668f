import { DEFAULT_EXCLUDE } from "../settings";
import { usableInterfaces, type LinkFacts } from "./interfaces";

const link = (name: string, extra: Partial<LinkFacts> = {}): LinkFacts => ({
  name,
  type: 1,
  flags: 0x1003,
  hasMaster: false,
  ...extra,
});
const exclude = DEFAULT_EXCLUDE.map((r) => new RegExp(r));

describe("usableInterfaces", () => {
  it("keeps up, ARP-capable Ethernet links that are not excluded or enslaved", () => {
    const links = [
      link("eth0"),
      link("lo", { type: 772 }),
      link("veth12ab"),
      link("cali1"),
      link("ens4", { flags: 0x1002 }),
      link("ens5", { flags: 0x1083 }),
      link("ens6", { hasMaster: true }),
      link("bond0"),
    ];
    expect(usableInterfaces(links, exclude)).toEqual(["bond0", "eth0"]);
  });
  it("a pinned list wins over the rules", () => {
    expect(usableInterfaces([link("veth1"), link("eth0")], exclude, ["veth1", "nope"])).toEqual(["veth1"]);
  });
});
