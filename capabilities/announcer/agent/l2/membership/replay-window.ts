/**
 * Anti-replay for heartbeats, as IPsec does it (RFC 4303 §3.4.3): per sender, the highest
 * sequence number accepted and a bitmap of the WINDOW numbers below it. A number is accepted
 * once: above the highest (the window slides), or inside the window and not yet seen.
 * Anything older than the window is refused, so a recorded packet can never be played back
 * to make a silent node look alive.
 *
 * Sequence numbers start at the sender's start time in microseconds and count up, so they
 * keep growing across restarts and a packet from an earlier run of the agent is old too.
 */
export const WINDOW = 64;

export class ReplayWindow {
  private highest = 0;
  /** Bit i set: highest - i was accepted. */
  private seen = 0n;

  /** True (and remembered) when `seq` is new; false for a replay or a number too old. */
  accept(seq: number): boolean {
    if (!Number.isSafeInteger(seq) || seq <= 0) return false;
    if (seq > this.highest) {
      const shift = seq - this.highest;
      this.seen = shift >= WINDOW ? 1n : ((this.seen << BigInt(shift)) | 1n) & ((1n << BigInt(WINDOW)) - 1n);
      this.highest = seq;
      return true;
    }
    const offset = this.highest - seq;
    if (offset >= WINDOW) return false;
    const bit = 1n << BigInt(offset);
    if (this.seen & bit) return false;
    this.seen |= bit;
    return true;
  }

  get latest(): number {
    return this.highest;
  }
}
