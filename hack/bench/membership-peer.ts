/**
 * One L2 membership peer for the heartbeat-cost benchmark (l2-membership.ts): the agent's
 * Membership and heartbeat socket with a fixed roster and key, no API server. Sends every
 * INTERVAL ms to every other voter, prints its counters as JSON on SIGTERM.
 *
 *   NODE=n0 ROSTER='{"voters":[..],"tiebreaker":false,"addresses":{..}}' KEY=<hex> node membership-peer.js
 */
import { performance } from "node:perf_hooks";
import { decodeHeartbeat, encodeHeartbeat } from "../../capabilities/announcer/agent/l2/membership/heartbeat";
import { Membership } from "../../capabilities/announcer/agent/l2/membership/membership";
import { parseRoster } from "../../capabilities/announcer/agent/l2/membership/roster";
import { HeartbeatSocket } from "../../capabilities/announcer/agent/l2/membership/transport";
import { EVALUATE_MS } from "../../capabilities/announcer/agent/l2/membership/agent-membership";

const node = process.env.NODE!;
const roster = parseRoster(process.env.ROSTER!);
const key = Buffer.from(process.env.KEY!, "hex");
const interval = Number(process.env.INTERVAL ?? 50);
const m = new Membership(
  node,
  { fenceMs: 150, downMs: 460, settleMs: 160 },
  () => performance.now(),
  Date.now() * 1000,
);
m.setRoster(roster);
const peers = roster.voters.filter((v) => v !== node).map((v) => roster.addresses.get(v)!);
let queued = false;
const c = { sent: 0, received: 0, rejected: 0, bytesOut: 0, bytesIn: 0 };
const socket = new HeartbeatSocket(
  7947,
  4,
  (p) => {
    c.bytesIn += p.length;
    const hb = decodeHeartbeat(p, key);
    if (typeof hb === "string" || m.receive(hb) !== "accepted") c.rejected++;
    else c.received++;
    // As the agent does (agent-membership.ts): at most one evaluation per EVALUATE_MS.
    if (!queued) {
      queued = true;
      setTimeout(() => {
        queued = false;
        m.evaluate();
      }, EVALUATE_MS);
    }
  },
  (msg) => console.error(msg),
);
void socket.start().then(() => {
  setInterval(() => {
    const packet = encodeHeartbeat(m.heartbeat(0), key);
    socket.send(packet, peers);
    c.sent += peers.length;
    c.bytesOut += packet.length * peers.length;
    m.evaluate();
  }, interval);
  console.log("peer ready");
});
process.on("SIGTERM", () => {
  const v = m.evaluate();
  console.log(
    JSON.stringify({
      ...c,
      packetBytes: encodeHeartbeat(m.heartbeat(0), key).length,
      inQuorum: v.inQuorum,
      votes: v.votes,
    }),
  );
  process.exit(0);
});
