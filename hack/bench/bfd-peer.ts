/**
 * The BFD benchmark's node side: one BFD session (agent/bfd/sessions.ts, the agent's own
 * code) to argv[2], 300 ms x 3, printing each state change as a JSON line with the wall
 * clock in ms. Runs inside a node namespace; SIGTERM stops it (AdminDown first).
 */
import { BfdSessions } from "../../capabilities/announcer/agent/bfd/sessions";

async function main(): Promise<void> {
  const peerAddress = process.argv[2] ?? "192.0.2.1";
  const interval = Number(process.argv[3] ?? 300) * 1000;
  const mult = Number(process.argv[4] ?? 3);
  const bfd = new BfdSessions({});
  await bfd.acquire(
    "bench",
    {
      peerAddress,
      multihop: false,
      config: { desiredMinTxUs: interval, requiredMinRxUs: interval, detectMult: mult, passive: false },
    },
    (s) =>
      console.log(
        JSON.stringify({ t: Date.now(), state: s.state, remoteState: s.remoteState, diag: s.localDiagnostic }),
      ),
  );
  process.once("SIGTERM", () => void bfd.stop().then(() => process.exit(0)));
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
