/**
 * One BFD session of RFC 5880 in Asynchronous mode as a pure reducer:
 * `step(state, event)` returns the next state and the actions the shell must
 * perform (send a packet, arm or stop a timer). No I/O, no clocks: timers are
 * durations the shell arms, and jitter comes from a seeded generator kept in
 * the state, so a run is reproducible.
 *
 * Choices the RFC leaves open, or where it is read to the letter:
 * - The state starts Down (§6.8.1) but sends nothing until `Start`.
 * - Only the Final answer to a Poll is sent outside the transmit timer
 *   (§6.8.7 allows exactly that); a state change waits for the next periodic
 *   packet, so we never send faster than the negotiated interval.
 * - While not Up, the advertised Desired Min TX is at least 1 s (§6.8.3); the
 *   change to the configured value on reaching Up (and back on leaving it) is a
 *   parameter change, so it starts a Poll Sequence (§6.5). An increase of our
 *   TX while Up (leaving Up included: the peer still times us at the old rate),
 *   or a decrease of our RX while Up, takes effect only once the Final arrives
 *   (§6.8.3), or once a Detection Time passes with no peer to send it; every
 *   other change takes effect at once.
 * - Jitter (§6.8.7): each interval is 75-100% of the negotiated one, 75-90%
 *   when our Detect Mult is 1.
 * - Passive (§6.1): nothing is sent while bfd.RemoteDiscr is zero.
 * - A Detection Time without a packet sets bfd.RemoteDiscr to zero in every
 *   state (§6.8.1), and takes Init/Up to Down with diag 1 (§6.8.4).
 * - Stop (§6.8.16): AdminDown with diag 7; the periodic packets carry AdminDown
 *   until the shell closes the session (`lingerMs` says how long it should wait).
 * - Demand mode is never asked for; a remote that asks for it while both are Up
 *   stops our periodic packets (§6.8.7). Echo is never offered (Required Min
 *   Echo RX is 0), so the remote loops nothing back to us (§6.8.9).
 * - Authentication is not configured; a packet carrying it is discarded (§6.8.6).
 */
import { BfdState, Diag, authError, controlPacket, type ControlPacket } from "./packet";

/** §6.8.3: the slowest Desired Min TX while the session is not Up. */
export const SLOW_TX_US = 1_000_000;

export interface BfdConfig {
  /** bfd.DesiredMinTxInterval once Up, microseconds. */
  readonly desiredMinTxUs: number;
  /** bfd.RequiredMinRxInterval, microseconds. */
  readonly requiredMinRxUs: number;
  /** bfd.DetectMult. */
  readonly detectMult: number;
  /** §6.1 Passive role. */
  readonly passive: boolean;
}

export interface BfdFsmState {
  readonly config: BfdConfig;
  /** The shell's Start has been seen (and no Stop since). */
  readonly started: boolean;
  readonly state: BfdState;
  readonly remoteState: BfdState;
  /** bfd.LocalDiscr: non-zero, unique per system. */
  readonly localDiscr: number;
  /** bfd.RemoteDiscr: 0 until a packet arrives, and again after a Detection Time without one. */
  readonly remoteDiscr: number;
  readonly localDiag: number;
  /** Diag of the last packet received. */
  readonly remoteDiag: number;
  /** bfd.RemoteMinRxInterval, microseconds; 1 until the remote tells us (§6.8.1). */
  readonly remoteMinRxUs: number;
  /** Desired Min TX of the last packet received, microseconds. */
  readonly remoteDesiredMinTxUs: number;
  /** Detect Mult of the last packet received; 0 before any. */
  readonly remoteDetectMult: number;
  readonly remoteDemand: boolean;
  /** A Poll Sequence is in progress (§6.5). */
  readonly polling: boolean;
  /** Our TX interval in force (may lag the advertised value during a Poll Sequence). */
  readonly txInUseUs: number;
  /** Our RX interval in force for the Detection Time. */
  readonly rxInUseUs: number;
  /** The transmit interval the Tx timer was last armed with. */
  readonly armedTxUs: number;
  /** xorshift32 state for jitter. */
  readonly rng: number;
}

export type BfdEvent =
  | { readonly type: "Start" }
  | { readonly type: "Stop" }
  | { readonly type: "Received"; readonly packet: ControlPacket }
  | { readonly type: "TxTimer" }
  | { readonly type: "DetectTimer" }
  | { readonly type: "Configure"; readonly config: BfdConfig };

export type BfdTimer = "Tx" | "Detect";

export type BfdAction =
  | { readonly type: "Send"; readonly packet: ControlPacket }
  | { readonly type: "StartTimer"; readonly timer: BfdTimer; readonly ms: number }
  | { readonly type: "StopTimer"; readonly timer: BfdTimer }
  | { readonly type: "StateChange"; readonly from: BfdState; readonly to: BfdState; readonly diag: number }
  /** A packet was dropped by the rules of §6.8.6 that need session state. */
  | { readonly type: "Discarded"; readonly reason: string };

export interface BfdStep {
  readonly state: BfdFsmState;
  readonly actions: readonly BfdAction[];
}

export function initialState(config: BfdConfig, localDiscr: number, seed = localDiscr): BfdFsmState {
  if (localDiscr === 0 || localDiscr > 0xffffffff) throw new Error("bfd.LocalDiscr must be a non-zero 32-bit value");
  const s: BfdFsmState = {
    config,
    started: false,
    state: BfdState.Down,
    remoteState: BfdState.Down,
    localDiscr,
    remoteDiscr: 0,
    localDiag: Diag.None,
    remoteDiag: Diag.None,
    remoteMinRxUs: 1,
    remoteDesiredMinTxUs: 0,
    remoteDetectMult: 0,
    remoteDemand: false,
    polling: false,
    txInUseUs: 0,
    rxInUseUs: config.requiredMinRxUs,
    armedTxUs: 0,
    rng: seed >>> 0 || 1,
  };
  return { ...s, txInUseUs: advertisedTxUs(s) };
}

/** The Desired Min TX Interval we put in packets (§6.8.3: at least 1 s unless Up). */
export function advertisedTxUs(s: Pick<BfdFsmState, "state" | "config">): number {
  return s.state === BfdState.Up ? s.config.desiredMinTxUs : Math.max(SLOW_TX_US, s.config.desiredMinTxUs);
}

/** §6.8.7: the interval between our periodic packets; 0 when none may be sent periodically. */
export function transmitIntervalUs(s: BfdFsmState): number {
  if (s.remoteMinRxUs === 0) return 0;
  return Math.max(s.txInUseUs, s.remoteMinRxUs);
}

/** §6.8.4 (Asynchronous mode): remote Detect Mult x max(our RX, remote Desired TX); 0 before any packet. */
export function detectionTimeUs(s: BfdFsmState): number {
  if (s.remoteDetectMult === 0) return 0;
  return s.remoteDetectMult * Math.max(s.rxInUseUs, s.remoteDesiredMinTxUs);
}

/** How long a stopping session keeps sending AdminDown (§6.8.16): a Detection Time, at most 2 s. */
export function lingerMs(s: BfdFsmState): number {
  return Math.min(2000, Math.ceil(detectionTimeUs(s) / 1000));
}

const startTimer = (timer: BfdTimer, us: number): BfdAction => ({
  type: "StartTimer",
  timer,
  ms: Math.max(1, Math.round(us / 1000)),
});

function nextRandom(x: number): number {
  x ^= x << 13;
  x >>>= 0;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
}

/** Arms the Tx timer with §6.8.7 jitter; a zero interval still ticks (at 1 s) so sending resumes when allowed. */
function armTx(s: BfdFsmState): BfdStep {
  const interval = transmitIntervalUs(s);
  const rng = nextRandom(s.rng);
  const fraction = rng / 0x100000000;
  const highest = s.config.detectMult === 1 ? 0.9 : 1;
  const delay = interval === 0 ? SLOW_TX_US : interval * (0.75 + fraction * (highest - 0.75));
  return { state: { ...s, rng, armedTxUs: interval }, actions: [startTimer("Tx", delay)] };
}

/** May a periodic packet go out now (§6.8.7)? */
function maySend(s: BfdFsmState): boolean {
  if (s.config.passive && s.remoteDiscr === 0) return false;
  if (s.remoteMinRxUs === 0) return false;
  if (s.remoteDemand && s.state === BfdState.Up && s.remoteState === BfdState.Up) return false;
  return true;
}

export function packetOf(s: BfdFsmState, final = false): ControlPacket {
  return controlPacket({
    state: s.state,
    diag: s.localDiag,
    detectMult: s.config.detectMult,
    myDiscriminator: s.localDiscr,
    yourDiscriminator: s.remoteDiscr,
    desiredMinTxUs: advertisedTxUs(s),
    requiredMinRxUs: s.config.requiredMinRxUs,
    // §6.5: Poll and Final are never both set; the Final answers first.
    poll: s.polling && !final,
    final,
  });
}

/**
 * A change of what we advertise (state or config): start a Poll Sequence and apply the
 * new values now or, for a TX increase / RX decrease while Up, when the Final comes (§6.8.3).
 */
function advertiseChange(before: BfdFsmState, after: BfdFsmState): BfdFsmState {
  const tx = advertisedTxUs(after);
  const rx = after.config.requiredMinRxUs;
  const txChanged = tx !== advertisedTxUs(before);
  const rxChanged = rx !== before.config.requiredMinRxUs;
  if (!txChanged && !rxChanged) return after;
  // Leaving Up counts as "while Up": the peer still expects our packets at the old rate
  // until it has seen the new one, so the slower TX waits for the Final too.
  const up = before.state === BfdState.Up || after.state === BfdState.Up;
  return {
    ...after,
    polling: true,
    txInUseUs: up && tx > after.txInUseUs ? after.txInUseUs : tx,
    rxInUseUs: up && rx < after.rxInUseUs ? after.rxInUseUs : rx,
  };
}

/** Re-arms the Tx timer when the interval in force changed. */
function rearmIfChanged(s: BfdFsmState, actions: BfdAction[]): BfdFsmState {
  if (!s.started || transmitIntervalUs(s) === s.armedTxUs) return s;
  const r = armTx(s);
  actions.push(...r.actions);
  return r.state;
}

function setState(s: BfdFsmState, to: BfdState, diag: number, actions: BfdAction[]): BfdFsmState {
  if (s.state === to) return s;
  actions.push({ type: "StateChange", from: s.state, to, diag });
  return advertiseChange(s, { ...s, state: to, localDiag: diag });
}

export function step(s: BfdFsmState, e: BfdEvent): BfdStep {
  const actions: BfdAction[] = [];
  switch (e.type) {
    case "Start": {
      if (s.started) return { state: s, actions };
      let next: BfdFsmState = { ...s, started: true };
      if (s.state === BfdState.AdminDown) next = setState(next, BfdState.Down, s.localDiag, actions);
      const r = armTx(next);
      return { state: r.state, actions: [...actions, ...r.actions] };
    }
    case "Stop": {
      if (s.state === BfdState.AdminDown) return { state: s, actions };
      const next = setState(s, BfdState.AdminDown, Diag.AdministrativelyDown, actions);
      actions.push({ type: "StopTimer", timer: "Detect" });
      return { state: rearmIfChanged(next, actions), actions };
    }
    case "Configure": {
      const next = advertiseChange(s, { ...s, config: e.config });
      return { state: rearmIfChanged(next, actions), actions };
    }
    case "TxTimer": {
      if (!s.started) return { state: s, actions };
      if (maySend(s)) actions.push({ type: "Send", packet: packetOf(s) });
      const r = armTx(s);
      return { state: r.state, actions: [...actions, ...r.actions] };
    }
    case "DetectTimer": {
      // §6.8.1: bfd.RemoteDiscr goes back to zero; §6.8.4: Init/Up fall to Down. With nobody
      // left to send a Final, a Poll Sequence in progress ends and its values apply now.
      let next: BfdFsmState = { ...s, remoteDiscr: 0, remoteState: BfdState.Down };
      if (s.state === BfdState.Init || s.state === BfdState.Up) {
        next = setState(next, BfdState.Down, Diag.ControlDetectionTimeExpired, actions);
      }
      next = { ...next, polling: false, txInUseUs: advertisedTxUs(next), rxInUseUs: next.config.requiredMinRxUs };
      return { state: rearmIfChanged(next, actions), actions };
    }
    case "Received":
      return received(s, e.packet);
  }
}

/** §6.8.6 from "If the Your Discriminator field is nonzero" on. */
function received(s: BfdFsmState, p: ControlPacket): BfdStep {
  const actions: BfdAction[] = [];
  const discard = (reason: string): BfdStep => ({ state: s, actions: [{ type: "Discarded", reason }] });
  if (p.yourDiscriminator !== 0 && p.yourDiscriminator !== s.localDiscr) {
    return discard(`your discriminator ${p.yourDiscriminator} is not ours (${s.localDiscr})`);
  }
  const auth = authError(p, false);
  if (auth) return discard(auth);
  let next: BfdFsmState = {
    ...s,
    remoteDiscr: p.myDiscriminator,
    remoteState: p.state,
    remoteDemand: p.demand,
    remoteMinRxUs: p.requiredMinRxUs,
    remoteDesiredMinTxUs: p.desiredMinTxUs,
    remoteDetectMult: p.detectMult,
    remoteDiag: p.diag,
  };
  // §6.5: a Final ends our Poll Sequence; the values held back now take effect.
  if (next.polling && p.final) {
    next = { ...next, polling: false, txInUseUs: advertisedTxUs(next), rxInUseUs: next.config.requiredMinRxUs };
  }
  if (next.state === BfdState.AdminDown) return { state: next, actions };
  if (p.state === BfdState.AdminDown) {
    if (next.state !== BfdState.Down) next = setState(next, BfdState.Down, Diag.NeighborSignaledSessionDown, actions);
  } else if (next.state === BfdState.Down) {
    if (p.state === BfdState.Down) next = setState(next, BfdState.Init, Diag.None, actions);
    else if (p.state === BfdState.Init) next = setState(next, BfdState.Up, Diag.None, actions);
  } else if (next.state === BfdState.Init) {
    if (p.state === BfdState.Init || p.state === BfdState.Up) next = setState(next, BfdState.Up, Diag.None, actions);
  } else if (p.state === BfdState.Down) {
    next = setState(next, BfdState.Down, Diag.NeighborSignaledSessionDown, actions);
  }
  // §6.8.7: a Poll is answered at once with the Final bit.
  if (p.poll && next.started) actions.push({ type: "Send", packet: packetOf(next, true) });
  const detect = detectionTimeUs(next);
  if (detect > 0) actions.push(startTimer("Detect", detect));
  return { state: rearmIfChanged(next, actions), actions };
}
