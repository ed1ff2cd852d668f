/**
 * A fast ARP prober for the L2 failover benchmark (arping cannot go below 1 s intervals):
 * broadcasts a who-has for TARGET every INTERVAL ms from IFNAME. Each probe carries its
 * sequence number in the sender protocol address (198.18.0.0/16, RFC 2544's benchmarking
 * range; the responder answers to whatever sender asks), so every reply names the probe it
 * answers and gratuitous ARPs (addressed to nobody) are not mistaken for answers.
 * Prints "SENT <epoch ms> <seq>" per probe and "REPLY <epoch ms> <mac> <seq>" per answer.
 *
 *   node arp-prober.js IFNAME TARGET_IP INTERVAL_MS
 */
import { parseIP, ipEquals, type IP } from "../../capabilities/shared/net/ip";
import { ARP_OP_REPLY, arpRequestFrame, decodeArp } from "../../capabilities/announcer/agent/l2/arp";
import { ETHERTYPE_ARP, decodeEthernet } from "../../capabilities/announcer/agent/l2/ethernet";
import { formatMAC, macEquals } from "../../capabilities/announcer/agent/l2/mac";
import { closePacket, interfaceInfo, openPacket, sendPacket } from "../../capabilities/announcer/agent/native";

const [ifname, targetText, intervalText] = process.argv.slice(2);
const target = parseIP(targetText ?? "");
if (!ifname || !target) {
  console.error("usage: arp-prober IFNAME TARGET_IP INTERVAL_MS");
  process.exit(2);
}
const PROBE_BASE = parseIP("198.18.0.0")!.value;
const probeSource = (seq: number): IP => ({ family: 4, value: PROBE_BASE + BigInt(seq % 65536) });
const mac = interfaceInfo(ifname).mac;
const out: string[] = [];
const flush = (): void => {
  if (out.length) process.stdout.write(out.splice(0).join(""));
};
const sock = openPacket(ifname, ETHERTYPE_ARP, (frame) => {
  const eth = decodeEthernet(frame);
  const arp = eth && decodeArp(eth.payload);
  if (!arp || arp.op !== ARP_OP_REPLY || !ipEquals(arp.senderIp, target) || !macEquals(arp.targetMac, mac)) return;
  const seq = Number(arp.targetIp.value - PROBE_BASE);
  if (seq >= 0 && seq < 65536) out.push(`REPLY ${Date.now()} ${formatMAC(arp.senderMac)} ${seq}\n`);
});
let seq = 0;
const timer = setInterval(
  () => {
    sendPacket(sock, arpRequestFrame(mac, probeSource(seq), target));
    out.push(`SENT ${Date.now()} ${seq % 65536}\n`);
    seq++;
    flush();
  },
  Number(intervalText || 10),
);
const stop = (): void => {
  clearInterval(timer);
  flush();
  closePacket(sock);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
