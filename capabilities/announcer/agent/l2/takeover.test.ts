import { formatIP, parseIP } from "../../../shared/net/ip";
import { arpRequestFrame } from "./arp";
import { gratuitousFrames } from "./gratuitous";
import { parseMAC } from "./mac";
import { neighborAdvertisementFrame, neighborSolicitationFrame, ALL_NODES } from "./ndp";
import { announcementIn } from "./takeover";
import { hex, MAC_A, MAC_B, NA_A_TO_B, NS_B_FOR_A } from "./testvectors";
import { ipv6MulticastMAC } from "./mac";

const A = parseMAC(MAC_A)!;
const B = parseMAC(MAC_B)!;
const text = (a: ReturnType<typeof announcementIn>): string | undefined =>
  a && `${formatIP(a.ip)} ${a.mac.toString("hex")}`;

describe("another host's announcement (hand-over detection)", () => {
  it("sees the new owner's gratuitous ARP request and reply, and its unsolicited NA", () => {
    for (const ip of ["192.0.2.100", "2001:db8:1::100"]) {
      for (const frame of gratuitousFrames(parseIP(ip)!, B))
        expect(text(announcementIn(frame, A))).toBe(`${ip} 02000000000b`);
    }
  });

  it("ignores our own announcements", () => {
    for (const frame of gratuitousFrames(parseIP("192.0.2.100")!, A)) expect(announcementIn(frame, A)).toBeUndefined();
    for (const frame of gratuitousFrames(parseIP("2001:db8:1::100")!, A))
      expect(announcementIn(frame, A)).toBeUndefined();
  });

  it("ignores ordinary requests, solicitations and solicited advertisements", () => {
    expect(announcementIn(arpRequestFrame(B, parseIP("192.0.2.2")!, parseIP("192.0.2.100")!), A)).toBeUndefined();
    expect(
      announcementIn(neighborSolicitationFrame(parseIP("2001:db8:1::2")!, B, parseIP("2001:db8:1::100")!), A),
    ).toBeUndefined();
    expect(announcementIn(hex(NS_B_FOR_A), A)).toBeUndefined();
    expect(announcementIn(hex(NA_A_TO_B), B)).toBeUndefined(); // Solicited set: an answer, not a claim
  });

  it("ignores an unsolicited NA without Override, or with a corrupted checksum", () => {
    const na = (override: boolean): Buffer =>
      neighborAdvertisementFrame({
        ethDst: ipv6MulticastMAC(ALL_NODES),
        ipDst: ALL_NODES,
        target: parseIP("2001:db8:1::100")!,
        mac: B,
        solicited: false,
        override,
      });
    expect(announcementIn(na(false), A)).toBeUndefined();
    const bad = na(true);
    bad[bad.length - 1] ^= 0xff;
    expect(announcementIn(bad, A)).toBeUndefined();
    expect(text(announcementIn(na(true), A))).toBe("2001:db8:1::100 02000000000b");
  });
});
