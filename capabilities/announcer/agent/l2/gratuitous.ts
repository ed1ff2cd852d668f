/**
 * The frames a node sends when it takes over an IP, so that neighbours update their
 * caches at once instead of waiting for them to expire: for IPv4 a gratuitous ARP in
 * request form and in reply form (hosts differ in which one they learn from); for IPv6
 * one unsolicited Neighbor Advertisement to all-nodes with the Override flag.
 * The agent sends a burst on takeover and repeats it on its own schedule. Pure.
 */
import { IP } from "../../../shared/net/ip";
import { gratuitousArpReplyFrame, gratuitousArpRequestFrame } from "./arp";
import { isUnicastMAC } from "./mac";
import { unsolicitedNeighborAdvertisementFrame } from "./ndp";

/** One burst of frames announcing that `ip` is now at `mac`, in sending order. */
export function gratuitousFrames(ip: IP, mac: Buffer): Buffer[] {
  if (!isUnicastMAC(mac)) throw new RangeError("announcing needs the interface's own unicast MAC");
  if (ip.family === 4) return [gratuitousArpRequestFrame(ip, mac), gratuitousArpReplyFrame(ip, mac)];
  return [unsolicitedNeighborAdvertisementFrame(ip, mac)];
}
