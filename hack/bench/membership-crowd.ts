/**
 * The other voters for the heartbeat-cost benchmark at sizes this machine cannot run as one
 * process each (50 Node processes would need more than its 2 cores): every voter but the
 * measured one, as full Membership instances in this one process, each with its own socket
 * bound to its own address (aliases on one interface). Each exchanges heartbeats with the
 * measured peer only, which is all the measured peer's cost depends on: it still sends to
 * and hears from every voter, with full-size heartbeats.
 *
 *   MEASURED=n0 ROSTER='{...}' KEY=<hex> node membership-crowd.js
 */
import { performance } from "node:perf_hooks";
import { decodeHeartbeat, encodeHeartbeat } from "../../capabilities/announcer/agent/l2/membership/heartbeat";
import { Membership } from "../../capabilities/announcer/agent/l2/membership/membership";
import { parseRoster } from "../../capabilities/announcer/agent/l2/membership/roster";
import { HeartbeatSocket } from "../../capabilities/announcer/agent/l2/membership/transport";

const measured = process.env.MEASURED!;
const roster = parseRoster(process.env.ROSTER!);
const key = Buffer.from(process.env.KEY!, "hex");
const target = roster.addresses.get(measured)!;
const crowd = roster.voters.filter((v) => v !== measured);

async function main(): Promise<void> {
  let i = 0;
  for (const node of crowd) {
    const m = new Membership(
      node,
      { fenceMs: 150, downMs: 460, settleMs: 160 },
      () => performance.now(),
      Date.now() * 1000,
    );
    m.setRoster(roster);
    const socket = new HeartbeatSocket(
      7947,
      4,
      (p) => {
        const hb = decodeHeartbeat(p, key);
        if (typeof hb !== "string") m.receive(hb);
      },
      (msg) => console.error(msg),
      roster.addresses.get(node),
    );
    await socket.start();
    // Spread the crowd's sends over the interval, as independent nodes would be.
    setTimeout(
      () => setInterval(() => socket.send(encodeHeartbeat(m.heartbeat(0), key), [target]), 50),
      (i++ * 50) / crowd.length,
    );
  }
  console.log("crowd ready");
}

void main();
