/**
 * A fast ARP prober for the L2 failover benchmark (arping cannot go below 1 s intervals):
 * broadcasts a who-has for TARGET every INTERVAL ms from IFNAME and prints one line per
 * ARP reply claiming TARGET: "REPLY <epoch ms> <mac>"; every probe: "SENT <epoch ms>".
 *
 *   node arp-prober.js IFNAME SOURCE_IP TARGET_IP INTERVAL_MS
 */
import { parseIP, ipEquals } from "../../capabilities/shared/net/ip";
import { ARP_OP_REPLY, arpRequestFrame, decodeArp } from "../../capabilities/announcer/agent/l2/arp";
import { ETHERTYPE_ARP, decodeEthernet } from "../../capabilities/announcer/agent/l2/ethernet";
import { formatMAC } from "../../capabilities/announcer/agent/l2/mac";
import { closePacket, interfaceInfo, openPacket, sendPacket } from "../../capabilities/announcer/agent/native";

const [ifname, srcText, targetText, intervalText] = process.argv.slice(2);
const src = parseIP(srcText ?? "");
const target = parseIP(targetText ?? "");
if (!ifname || !src || !target) {
  console.error("usage: arp-prober IFNAME SOURCE_IP TARGET_IP INTERVAL_MS");
  process.exit(2);
}
const mac = interfaceInfo(ifname).mac;
const out: string[] = [];
const flush = (): void => {
  if (out.length) process.stdout.write(out.splice(0).join(""));
};
const sock = openPacket(ifname, ETHERTYPE_ARP, (frame) => {
  const eth = decodeEthernet(frame);
  const arp = eth && decodeArp(eth.payload);
  if (arp && arp.op === ARP_OP_REPLY && ipEquals(arp.senderIp, target)) out.push(`REPLY ${Date.now()} ${formatMAC(arp.senderMac)}\n`);
});
const request = arpRequestFrame(mac, src, target);
const timer = setInterval(() => {
  sendPacket(sock, request);
  out.push(`SENT ${Date.now()}\n`);
  flush();
}, Number(intervalText || 10));
const stop = (): void => {
  clearInterval(timer);
  flush();
  closePacket(sock);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
