/**
 * The speaker fixture processes of one BGP lab test file (test/lab/fixtures/bgp-speaker.ts
 * run by `Speaker` from ./frr): lab defaults for the session (3 s hold time, fast retries),
 * and every process started is killed by pid at the end.
 */
import { Speaker } from "./frr";
import { atMost } from "./wait";

/** Session settings every lab speaker gets unless the test says otherwise. */
export const LAB_SESSION = {
  routerId: "0.0.0.0",
  holdTime: 3,
  connectRetryTime: 2,
  backoff: { initial: 0.2, max: 1 },
} as const;

/** A route as the fixture takes it. */
export interface LabRoute {
  readonly prefix: string;
  readonly communities?: readonly number[];
  readonly large?: readonly (readonly [number, number, number])[];
  readonly localPref?: number;
}

/** A standard community value from its "asn:value" halves (RFC 1997). */
export const community = (asn: number, value: number): number => asn * 65536 + value;

export class Speakers {
  readonly all: Speaker[] = [];

  constructor(private readonly bundle: string) {}

  start(ns: string, session: Record<string, unknown>, routes: readonly LabRoute[] = []): Speaker {
    const s = new Speaker(ns, this.bundle, { session: { ...LAB_SESSION, ...session }, routes });
    this.all.push(s);
    return s;
  }

  /** Stops one cleanly (NOTIFICATION Cease) and waits for it to say so. */
  async stop(s: Speaker, timeoutMs = 5000): Promise<void> {
    s.send({ stop: true });
    await s.waitFor("STOPPED", timeoutMs);
  }

  /** SIGKILL every process started here (by pid) and wait for them. */
  async killAll(): Promise<void> {
    for (const s of this.all) s.kill("SIGKILL");
    await atMost(Promise.all(this.all.map((s) => s.exited)), 3000);
  }
}
