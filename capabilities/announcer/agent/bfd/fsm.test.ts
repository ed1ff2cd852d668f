import {
  SLOW_TX_US,
  detectionTimeUs,
  initialState,
  step,
  transmitIntervalUs,
  type BfdAction,
  type BfdConfig,
  type BfdEvent,
  type BfdFsmState,
} from "./fsm";
import { AuthType, BfdState, Diag, controlPacket, type ControlPacket } from "./packet";

const cfg: BfdConfig = { desiredMinTxUs: 300_000, requiredMinRxUs: 300_000, detectMult: 3, passive: false };
const LOCAL = 0x1111;
const REMOTE = 0x2222;

/** A packet from the remote, addressed to us once it knows our discriminator. */
const from = (state: BfdState, extra: Partial<ControlPacket> = {}): ControlPacket =>
  controlPacket({
    state,
    detectMult: 3,
    myDiscriminator: REMOTE,
    yourDiscriminator: state === BfdState.Down || state === BfdState.AdminDown ? 0 : LOCAL,
    desiredMinTxUs: 300_000,
    requiredMinRxUs: 300_000,
    ...extra,
  });

function run(s: BfdFsmState, ...events: BfdEvent[]): { state: BfdFsmState; actions: BfdAction[] } {
  const actions: BfdAction[] = [];
  for (const e of events) {
    const r = step(s, e);
    s = r.state;
    actions.push(...r.actions);
  }
  return { state: s, actions };
}
const rx = (p: ControlPacket): BfdEvent => ({ type: "Received", packet: p });
const sends = (a: readonly BfdAction[]): ControlPacket[] => a.flatMap((x) => (x.type === "Send" ? [x.packet] : []));
const changes = (a: readonly BfdAction[]) =>
  a.flatMap((x) => (x.type === "StateChange" ? [[BfdState[x.from], BfdState[x.to], x.diag]] : []));
const timer = (a: readonly BfdAction[], t: "Tx" | "Detect"): number | undefined =>
  a.flatMap((x) => (x.type === "StartTimer" && x.timer === t ? [x.ms] : [])).pop();

const started = (c: BfdConfig = cfg): BfdFsmState => run(initialState(c, LOCAL), { type: "Start" }).state;
/** Down -> Init -> Up, the remote answering as a peer would. */
const up = (c: BfdConfig = cfg): BfdFsmState => run(started(c), rx(from(BfdState.Down)), rx(from(BfdState.Up))).state;

describe("BFD session state machine (RFC 5880 §6.2, §6.8.6)", () => {
  it("starts Down and sends Down packets with your discriminator 0 and a 1 s TX (§6.8.1, §6.8.3)", () => {
    const { actions } = run(started(), { type: "TxTimer" });
    expect(sends(actions)).toEqual([
      expect.objectContaining({
        state: BfdState.Down,
        myDiscriminator: LOCAL,
        yourDiscriminator: 0,
        desiredMinTxUs: SLOW_TX_US,
        requiredMinRxUs: 300_000,
        detectMult: 3,
        requiredMinEchoRxUs: 0,
      }),
    ]);
  });

  it("three-way handshake: Down -(Down)-> Init -(Up)-> Up", () => {
    const { state, actions } = run(started(), rx(from(BfdState.Down)), rx(from(BfdState.Up)));
    expect(changes(actions)).toEqual([
      ["Down", "Init", Diag.None],
      ["Init", "Up", Diag.None],
    ]);
    expect(state.state).toBe(BfdState.Up);
    expect(state.remoteDiscr).toBe(REMOTE);
  });

  it("Down -(Init)-> Up directly", () => {
    expect(run(started(), rx(from(BfdState.Init))).state.state).toBe(BfdState.Up);
  });

  it("Init stays Init on Down; Up ignores Init and Up", () => {
    const init = run(started(), rx(from(BfdState.Down))).state;
    expect(run(init, rx(from(BfdState.Down))).state.state).toBe(BfdState.Init);
    expect(run(up(), rx(from(BfdState.Init)), rx(from(BfdState.Up))).state.state).toBe(BfdState.Up);
  });

  it.each([
    ["Down", BfdState.Down],
    ["AdminDown", BfdState.AdminDown],
  ])("Up -(%s)-> Down with diag 3 (neighbor signaled session down)", (_n, remote) => {
    const { state, actions } = run(up(), rx(from(remote)));
    expect(changes(actions)).toEqual([["Up", "Down", Diag.NeighborSignaledSessionDown]]);
    expect(state.localDiag).toBe(Diag.NeighborSignaledSessionDown);
  });

  it("a Detection Time without packets: Up -> Down with diag 1, bfd.RemoteDiscr back to 0", () => {
    const { state, actions } = run(up(), { type: "DetectTimer" });
    expect(changes(actions)).toEqual([["Up", "Down", Diag.ControlDetectionTimeExpired]]);
    expect(state.remoteDiscr).toBe(0);
    expect(sends(run(state, { type: "TxTimer" }).actions)[0]).toMatchObject({
      state: BfdState.Down,
      diag: Diag.ControlDetectionTimeExpired,
      yourDiscriminator: 0,
    });
  });

  it("every accepted packet re-arms the detect timer with the Detection Time", () => {
    const { actions } = run(started(), rx(from(BfdState.Down, { desiredMinTxUs: 1_000_000 })));
    expect(timer(actions, "Detect")).toBe(3000);
  });

  it.each([
    ["your discriminator that is not ours", from(BfdState.Up, { yourDiscriminator: 99 }), /not ours/],
    [
      "an authentication section (none configured)",
      from(BfdState.Up, { auth: { type: AuthType.KeyedSHA1, length: 28, keyId: 1, data: Buffer.alloc(25) } }),
      /authentication present but not configured/,
    ],
  ])("discards %s and changes nothing", (_n, p, reason) => {
    const s = up();
    const { state, actions } = run(s, rx(p));
    expect(state).toBe(s);
    expect(actions).toEqual([{ type: "Discarded", reason: expect.stringMatching(reason) }]);
  });

  describe("timers (§6.8.2-§6.8.4, §6.8.7)", () => {
    it("transmit interval = max(our Desired Min TX, their Required Min RX)", () => {
      const s = run(up(), rx(from(BfdState.Up, { final: true, requiredMinRxUs: 500_000 }))).state;
      expect(transmitIntervalUs(s)).toBe(500_000);
      const t = run(up(), rx(from(BfdState.Up, { final: true, requiredMinRxUs: 100_000 }))).state;
      expect(transmitIntervalUs(t)).toBe(300_000);
    });

    it("detection time = their Detect Mult x max(our Required Min RX, their Desired Min TX)", () => {
      const s = run(up(), rx(from(BfdState.Up, { final: true, detectMult: 5, desiredMinTxUs: 400_000 }))).state;
      expect(detectionTimeUs(s)).toBe(2_000_000);
      const t = run(up(), rx(from(BfdState.Up, { final: true, detectMult: 2, desiredMinTxUs: 100_000 }))).state;
      expect(detectionTimeUs(t)).toBe(600_000);
    });

    it("going Up lowers the advertised TX from 1 s to the configured value with a Poll; the Final ends it", () => {
      const s = up();
      const [p] = sends(run(s, { type: "TxTimer" }).actions);
      expect(p).toMatchObject({ state: BfdState.Up, poll: true, final: false, desiredMinTxUs: 300_000 });
      const done = run(s, rx(from(BfdState.Up, { final: true }))).state;
      expect(done.polling).toBe(false);
      expect(sends(run(done, { type: "TxTimer" }).actions)[0]).toMatchObject({ poll: false });
    });

    it("a TX increase while Up waits for the Final; the Tx timer keeps the old interval until then", () => {
      const s = run(up(), rx(from(BfdState.Up, { final: true }))).state;
      const slower = run(s, { type: "Configure", config: { ...cfg, desiredMinTxUs: 600_000 } }).state;
      expect(slower.polling).toBe(true);
      expect(transmitIntervalUs(slower)).toBe(300_000);
      expect(sends(run(slower, { type: "TxTimer" }).actions)[0]).toMatchObject({ poll: true, desiredMinTxUs: 600_000 });
      const { state, actions } = run(slower, rx(from(BfdState.Up, { final: true })));
      expect(transmitIntervalUs(state)).toBe(600_000);
      expect(timer(actions, "Tx")).toBeGreaterThanOrEqual(450);
    });

    it("an RX decrease while Up keeps the old Detection Time until the Final", () => {
      const s = run(up(), rx(from(BfdState.Up, { final: true, desiredMinTxUs: 50_000 }))).state;
      expect(detectionTimeUs(s)).toBe(900_000);
      const faster = run(s, { type: "Configure", config: { ...cfg, requiredMinRxUs: 100_000 } }).state;
      expect(detectionTimeUs(faster)).toBe(900_000);
      expect(sends(run(faster, { type: "TxTimer" }).actions)[0]).toMatchObject({
        poll: true,
        requiredMinRxUs: 100_000,
      });
      const done = run(faster, rx(from(BfdState.Up, { final: true, desiredMinTxUs: 50_000 }))).state;
      expect(detectionTimeUs(done)).toBe(300_000);
    });

    it("a Poll is answered at once with Final set and Poll clear (§6.5, §6.8.7)", () => {
      const s = run(up(), rx(from(BfdState.Up, { final: true }))).state;
      const out = sends(run(s, rx(from(BfdState.Up, { poll: true }))).actions);
      expect(out).toEqual([expect.objectContaining({ final: true, poll: false, state: BfdState.Up })]);
    });

    it("leaving Up advertises 1 s but keeps sending at the old rate until the Final (the peer still times us by it)", () => {
      const s = run(up(), rx(from(BfdState.Up, { final: true })), rx(from(BfdState.Down))).state;
      expect(s.state).toBe(BfdState.Down);
      expect(transmitIntervalUs(s)).toBe(300_000);
      expect(sends(run(s, { type: "TxTimer" }).actions)[0]).toMatchObject({ poll: true, desiredMinTxUs: SLOW_TX_US });
      expect(transmitIntervalUs(run(s, rx(from(BfdState.Down, { final: true }))).state)).toBe(SLOW_TX_US);
    });

    it("Stop sends AdminDown at the old rate, not a second later (else the peer times out first)", () => {
      const { state } = run(up(), rx(from(BfdState.Up, { final: true })), { type: "Stop" });
      expect(transmitIntervalUs(state)).toBe(300_000);
      const next = step(state, { type: "TxTimer" });
      expect(sends(next.actions)[0]).toMatchObject({ state: BfdState.AdminDown });
      expect(timer(next.actions, "Tx")).toBeLessThanOrEqual(300);
    });

    it("a detection timeout ends a Poll Sequence nobody can answer: 1 s at once", () => {
      const s = run(up(), rx(from(BfdState.Up, { final: true })), { type: "DetectTimer" }).state;
      expect(s.polling).toBe(false);
      expect(transmitIntervalUs(s)).toBe(SLOW_TX_US);
    });

    it.each([
      [3, 0.75, 1.0],
      [1, 0.75, 0.9],
    ])("jitter with Detect Mult %d: every interval within %d-%d of the negotiated one", (mult, lo, hi) => {
      let s = run(up({ ...cfg, detectMult: mult }), rx(from(BfdState.Up, { final: true }))).state;
      const delays: number[] = [];
      for (let i = 0; i < 500; i++) {
        const r = step(s, { type: "TxTimer" });
        s = r.state;
        delays.push(timer(r.actions, "Tx")!);
      }
      expect(Math.min(...delays)).toBeGreaterThanOrEqual(300 * lo);
      expect(Math.max(...delays)).toBeLessThanOrEqual(300 * hi);
      // Not a constant: the jitter exists.
      expect(new Set(delays).size).toBeGreaterThan(10);
    });
  });

  describe("who sends what", () => {
    it("passive: nothing until the remote's first packet, then periodic packets (§6.1)", () => {
      const s = started({ ...cfg, passive: true });
      expect(sends(run(s, { type: "TxTimer" }, { type: "TxTimer" }).actions)).toEqual([]);
      const heard = run(s, rx(from(BfdState.Down))).state;
      expect(sends(run(heard, { type: "TxTimer" }).actions)).toEqual([
        expect.objectContaining({ state: BfdState.Init, yourDiscriminator: REMOTE }),
      ]);
      // The remote goes silent: bfd.RemoteDiscr is zero again, and so is our sending.
      const silent = run(heard, { type: "DetectTimer" }).state;
      expect(sends(run(silent, { type: "TxTimer" }).actions)).toEqual([]);
    });

    it("a remote asking for no periodic packets (Required Min RX 0) gets none", () => {
      const s = run(up(), rx(from(BfdState.Up, { final: true, requiredMinRxUs: 0 }))).state;
      expect(sends(run(s, { type: "TxTimer" }).actions)).toEqual([]);
    });

    it("a remote in Demand mode while both are Up gets no periodic packets (§6.8.7)", () => {
      const s = run(up(), rx(from(BfdState.Up, { final: true, demand: true }))).state;
      expect(sends(run(s, { type: "TxTimer" }).actions)).toEqual([]);
    });

    it("nothing is sent before Start", () => {
      expect(run(initialState(cfg, LOCAL), { type: "TxTimer" }).actions).toEqual([]);
    });

    it("Stop: AdminDown with diag 7, packets carry AdminDown, received packets change nothing (§6.8.16)", () => {
      const { state, actions } = run(up(), { type: "Stop" });
      expect(changes(actions)).toEqual([["Up", "AdminDown", Diag.AdministrativelyDown]]);
      expect(sends(run(state, { type: "TxTimer" }).actions)[0]).toMatchObject({
        state: BfdState.AdminDown,
        diag: Diag.AdministrativelyDown,
      });
      expect(run(state, rx(from(BfdState.Up))).state.state).toBe(BfdState.AdminDown);
    });

    it("the packet's remote diag is kept for the operator", () => {
      const s = run(up(), rx(from(BfdState.Down, { diag: Diag.ControlDetectionTimeExpired }))).state;
      expect(s.remoteDiag).toBe(Diag.ControlDetectionTimeExpired);
    });
  });

  it("refuses a zero local discriminator", () => {
    expect(() => initialState(cfg, 0)).toThrow(/non-zero/);
  });
});
