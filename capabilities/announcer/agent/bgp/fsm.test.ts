import { ip } from "./fixtures";
import { fsmConfig, initialState, step, type FsmAction, type FsmEvent, type FsmState } from "./fsm";
import { endOfRib } from "./graceful-restart";
import { AS_TRANS, IPV4_UNICAST, IPV6_UNICAST, type OpenMessage } from "./messages";

const config = fsmConfig({ localAS: 64512, peerAS: 65001, routerId: ip("10.0.0.1"), holdTime: 90 });

const peerOpen = (over: Partial<OpenMessage> = {}): OpenMessage => ({
  type: "open",
  version: 4,
  myAS: 65001,
  holdTime: 30,
  bgpId: ip("10.0.0.2"),
  capabilities: [
    { type: "multiprotocol", afi: 1, safi: 1 },
    { type: "multiprotocol", afi: 2, safi: 1 },
    { type: "route-refresh" },
    { type: "four-octet-as", asn: 65001 },
    {
      type: "graceful-restart",
      restartState: false,
      restartTime: 120,
      families: [{ afi: 1, safi: 1, forwardingState: true }],
    },
  ],
  ...over,
});

/** Runs events in order; returns the final state and every step's actions. */
function run(state: FsmState, ...events: FsmEvent[]): { state: FsmState; actions: FsmAction[][] } {
  const actions: FsmAction[][] = [];
  for (const e of events) {
    const r = step(state, e);
    state = r.state;
    actions.push([...r.actions]);
  }
  return { state, actions };
}

const toEstablished = (cfg = config, open = peerOpen()) =>
  run(
    initialState(cfg),
    { type: "ManualStart" },
    { type: "TcpCRAcked" },
    { type: "BGPOpen", message: open },
    { type: "KeepAliveMsg" },
  );

describe("timers from the BGPPeer", () => {
  it("arms the Keepalive timer with the configured keepaliveTime, and ConnectRetry with connectTime", () => {
    const cfg = fsmConfig({ localAS: 64512, routerId: ip("10.0.0.1"), keepaliveTime: 4, connectRetryTime: 7 });
    let r = step(initialState(cfg), { type: "ManualStart" });
    expect(r.actions).toContainEqual({ type: "StartTimer", timer: "ConnectRetry", seconds: 7 });
    r = step(r.state, { type: "TcpCRAcked" });
    r = step(r.state, { type: "BGPOpen", message: peerOpen() });
    expect(r.actions).toContainEqual({ type: "StartTimer", timer: "Keepalive", seconds: 4 });
    r = step(r.state, { type: "KeepAliveMsg" });
    r = step(r.state, { type: "KeepaliveTimerExpires" });
    expect(r.actions).toContainEqual({ type: "StartTimer", timer: "Keepalive", seconds: 4 });
  });
});

describe("a full session", () => {
  it("Idle → Connect → OpenSent → OpenConfirm → Established → stop", () => {
    let s = initialState(config);
    expect(s.name).toBe("Idle");

    let r = step(s, { type: "ManualStart" });
    expect(r.state.name).toBe("Connect");
    expect(r.actions).toEqual([{ type: "ConnectTcp" }, { type: "StartTimer", timer: "ConnectRetry", seconds: 30 }]);

    r = step(r.state, { type: "TcpCRAcked" });
    expect(r.state.name).toBe("OpenSent");
    const sendOpen = r.actions.find((a) => a.type === "SendOpen");
    expect(sendOpen).toMatchObject({ message: { myAS: 64512, holdTime: 90, bgpId: ip("10.0.0.1") } });
    expect(r.actions).toContainEqual({ type: "StopTimer", timer: "ConnectRetry" });
    expect(r.actions).toContainEqual({ type: "StartTimer", timer: "Hold", seconds: 240 }); // §8.2.2 large value

    r = step(r.state, { type: "BGPOpen", message: peerOpen() });
    expect(r.state.name).toBe("OpenConfirm");
    expect(r.actions).toEqual([
      { type: "SendKeepalive" },
      { type: "StartTimer", timer: "Keepalive", seconds: 10 },
      { type: "StartTimer", timer: "Hold", seconds: 30 },
    ]);

    r = step(r.state, { type: "KeepAliveMsg" });
    expect(r.state.name).toBe("Established");
    const est = r.actions.find((a) => a.type === "SessionEstablished");
    expect(est).toEqual({
      type: "SessionEstablished",
      negotiated: {
        peerAS: 65001,
        peerRouterId: ip("10.0.0.2"),
        holdTime: 30,
        keepaliveTime: 10,
        fourOctetAS: true,
        families: [IPV4_UNICAST, IPV6_UNICAST],
        routeRefresh: true,
        extendedNextHop: [],
        gracefulRestart: false,
        peerGracefulRestart: {
          restartState: false,
          restartTime: 120,
          families: [{ afi: 1, safi: 1, forwardingState: true }],
        },
      },
    });

    r = step(r.state, { type: "KeepaliveTimerExpires" });
    expect(r.actions).toEqual([{ type: "SendKeepalive" }, { type: "StartTimer", timer: "Keepalive", seconds: 10 }]);

    r = step(r.state, { type: "KeepAliveMsg" });
    expect(r.actions).toEqual([{ type: "StartTimer", timer: "Hold", seconds: 30 }]);

    r = step(r.state, { type: "ManualStop" });
    s = r.state;
    expect(s.name).toBe("Idle");
    expect(r.actions[0]).toMatchObject({ type: "SendNotification", code: 6, subcode: 2 }); // RFC 4486 Administrative Shutdown
    expect(r.actions).toContainEqual({ type: "DropConnection" });
    expect(r.actions).toContainEqual({ type: "SessionDown", reason: "administrative shutdown" });
    expect(r.actions.some((a) => a.type === "StartTimer")).toBe(false); // no automatic restart
    expect(step(s, { type: "IdleHoldTimerExpires" }).state.name).toBe("Idle");
  });

  it("hold time 0 means no keepalives and no hold timer", () => {
    const r = run(
      initialState(config),
      { type: "ManualStart" },
      { type: "TcpConnectionConfirmed" },
      { type: "BGPOpen", message: peerOpen({ holdTime: 0 }) },
    );
    expect(r.actions[2]).toEqual([{ type: "SendKeepalive" }, { type: "StopTimer", timer: "Hold" }]);
    const e = run(r.state, { type: "KeepAliveMsg" }, { type: "KeepaliveTimerExpires" }, { type: "KeepAliveMsg" });
    expect(e.state.name).toBe("Established");
    expect(e.actions[1]).toEqual([]);
    expect(e.actions[2]).toEqual([]);
  });

  it("negotiates min(ours, theirs) hold and hold/3 keepalive", () => {
    const r = toEstablished(fsmConfig({ ...config, holdTime: 9 }), peerOpen({ holdTime: 180 }));
    expect(r.state.negotiated).toMatchObject({ holdTime: 9, keepaliveTime: 3 });
  });

  it("a peer without MP capabilities gets IPv4 unicast only; AS_TRANS for a 4-octet local AS", () => {
    const cfg = fsmConfig({ localAS: 4200000000, peerAS: 65001, routerId: ip("10.0.0.1") });
    const r = toEstablished(cfg, peerOpen({ capabilities: [{ type: "four-octet-as", asn: 65001 }] }));
    expect(r.actions[1]!.find((a) => a.type === "SendOpen")).toMatchObject({ message: { myAS: AS_TRANS } });
    expect(r.state.negotiated).toMatchObject({ families: [IPV4_UNICAST], routeRefresh: false, fourOctetAS: true });
  });

  it("passive sessions wait in Active and never dial", () => {
    const r = run(
      initialState(fsmConfig({ ...config, passive: true })),
      { type: "ManualStart" },
      { type: "ConnectRetryTimerExpires" },
    );
    expect(r.state.name).toBe("Active");
    expect(r.actions.flat()).toEqual([]);
    expect(step(r.state, { type: "TcpConnectionConfirmed" }).state.name).toBe("OpenSent");
  });
});

describe("error transitions", () => {
  const openSent = run(initialState(config), { type: "ManualStart" }, { type: "TcpCRAcked" }).state;

  it("bad OPEN → NOTIFICATION with the validation error, Idle, retry after backoff", () => {
    const r = step(openSent, { type: "BGPOpen", message: peerOpen({ myAS: 65099, capabilities: [] }) });
    expect(r.state.name).toBe("Idle");
    expect(r.actions[0]).toMatchObject({ type: "SendNotification", code: 2, subcode: 2 });
    expect(r.actions).toContainEqual({ type: "DropConnection" });
    expect(r.actions).toContainEqual({ type: "StartTimer", timer: "IdleHold", seconds: 1 });
    expect(r.state.lastError).toMatch(/AS 65099/);
    const v = step(openSent, { type: "BGPOpen", message: peerOpen({ version: 3 }) });
    expect(v.actions[0]).toMatchObject({ code: 2, subcode: 1, data: Buffer.from([0, 4]) });
    const h = step(openSent, { type: "BGPOpen", message: peerOpen({ holdTime: 2 }) });
    expect(h.actions[0]).toMatchObject({ code: 2, subcode: 6 });
  });

  it("hold timer expiry → 4/0 NOTIFICATION", () => {
    const r = step(openSent, { type: "HoldTimerExpires" });
    expect(r.actions[0]).toMatchObject({ type: "SendNotification", code: 4, subcode: 0 });
    expect(r.state.name).toBe("Idle");
    const est = toEstablished().state;
    const e = step(est, { type: "HoldTimerExpires" });
    expect(e.actions[0]).toMatchObject({ code: 4 });
    expect(e.actions).toContainEqual({ type: "SessionDown", reason: "hold timer expired" });
  });

  it("header and OPEN decode errors are sent back", () => {
    const error = { code: 1, subcode: 1, data: Buffer.alloc(0), reason: "marker is not all ones" };
    expect(step(openSent, { type: "BGPHeaderErr", error }).actions[0]).toMatchObject({
      type: "SendNotification",
      code: 1,
      subcode: 1,
    });
    const oerr = { code: 2, subcode: 0, data: Buffer.alloc(0), reason: "bad" };
    expect(step(openSent, { type: "BGPOpenMsgErr", error: oerr }).actions[0]).toMatchObject({ code: 2, subcode: 0 });
  });

  it("unexpected messages are FSM errors with the RFC 6608 subcode for the state", () => {
    expect(step(openSent, { type: "KeepAliveMsg" }).actions[0]).toMatchObject({ code: 5, subcode: 1 });
    const confirm = step(openSent, { type: "BGPOpen", message: peerOpen() }).state;
    expect(step(confirm, { type: "UpdateMsg", message: endOfRib(IPV4_UNICAST) }).actions[0]).toMatchObject({
      code: 5,
      subcode: 2,
    });
    expect(step(toEstablished().state, { type: "BGPOpen", message: peerOpen() }).actions[0]).toMatchObject({
      code: 5,
      subcode: 3,
    });
  });

  it("NOTIFICATION from the peer ends the session without a reply", () => {
    const r = step(toEstablished().state, {
      type: "NotifMsg",
      message: { type: "notification", code: 6, subcode: 4, data: Buffer.alloc(0) },
    });
    expect(r.state.name).toBe("Idle");
    expect(r.actions.some((a) => a.type === "SendNotification")).toBe(false);
    expect(r.actions).toContainEqual({ type: "SessionDown", reason: "peer sent Cease / Administrative Reset" });
  });

  it("TCP failure in OpenSent goes to Active (§8.2.2); in Connect to Idle", () => {
    const r = step(openSent, { type: "TcpConnectionFails" });
    expect(r.state.name).toBe("Active");
    expect(r.actions).toContainEqual({ type: "StartTimer", timer: "ConnectRetry", seconds: 30 });
    const c = run(initialState(config), { type: "ManualStart" }, { type: "TcpConnectionFails" });
    expect(c.state.name).toBe("Idle");
    expect(c.actions[1]).toContainEqual({ type: "StartTimer", timer: "IdleHold", seconds: 1 });
  });

  it("ConnectRetry expiry in Connect redials", () => {
    const r = run(initialState(config), { type: "ManualStart" }, { type: "ConnectRetryTimerExpires" });
    expect(r.state.name).toBe("Connect");
    expect(r.actions[1]).toEqual([
      { type: "DropConnection" },
      { type: "ConnectTcp" },
      { type: "StartTimer", timer: "ConnectRetry", seconds: 30 },
    ]);
  });

  it("UPDATE errors: treat-as-withdraw and discard continue, session reset ends", () => {
    const est = toEstablished().state;
    const update = endOfRib(IPV4_UNICAST);
    const taw = step(est, { type: "UpdateMsgErr", verdict: { outcome: "treat-as-withdraw", update, problems: ["x"] } });
    expect(taw.state.name).toBe("Established");
    expect(taw.actions).toContainEqual({ type: "ProcessUpdate", message: update, treatAsWithdraw: true });
    const disc = step(est, {
      type: "UpdateMsgErr",
      verdict: { outcome: "attribute-discard", update, problems: ["x"] },
    });
    expect(disc.actions).toContainEqual({ type: "ProcessUpdate", message: update, treatAsWithdraw: false });
    const reset = step(est, {
      type: "UpdateMsgErr",
      verdict: { outcome: "session-reset", error: { code: 3, subcode: 1, data: Buffer.alloc(0), reason: "dup MP" } },
    });
    expect(reset.state.name).toBe("Idle");
    expect(reset.actions[0]).toMatchObject({ type: "SendNotification", code: 3, subcode: 1 });
    expect(step(est, { type: "UpdateMsg", message: update }).actions).toEqual([
      { type: "StartTimer", timer: "Hold", seconds: 30 },
      { type: "ProcessUpdate", message: update, treatAsWithdraw: false },
    ]);
  });

  it("route refresh for a negotiated family asks for a resend; others are ignored", () => {
    const est = toEstablished().state;
    expect(
      step(est, { type: "RouteRefreshMsg", message: { type: "route-refresh", afi: 2, safi: 1 } }).actions,
    ).toContainEqual({
      type: "ResendRoutes",
      family: IPV6_UNICAST,
    });
    expect(
      step(est, { type: "RouteRefreshMsg", message: { type: "route-refresh", afi: 25, safi: 70 } }).actions.some(
        (a) => a.type === "ResendRoutes",
      ),
    ).toBe(false);
  });

  it("Idle refuses incoming connections and ignores stray timers", () => {
    const idle = initialState(config);
    expect(step(idle, { type: "TcpConnectionConfirmed" }).actions).toEqual([{ type: "DropConnection" }]);
    expect(step(idle, { type: "HoldTimerExpires" })).toEqual({ state: idle, actions: [] });
  });
});

describe("backoff and damping", () => {
  it("doubles the idle hold up to the cap while failures repeat", () => {
    let s = step(initialState(config), { type: "ManualStart" }).state;
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) {
      const r = step(s, { type: "TcpConnectionFails" });
      const idleHold = r.actions.find((a) => a.type === "StartTimer" && a.timer === "IdleHold");
      delays.push(idleHold && idleHold.type === "StartTimer" ? idleHold.seconds : -1);
      s = step(r.state, { type: "IdleHoldTimerExpires" }).state;
      expect(s.name).toBe("Connect");
    }
    expect(delays).toEqual([1, 2, 4, 8, 16, 32, 60, 60, 60]);
    expect(s.connectRetryCounter).toBe(9);
  });

  it("resets the backoff only after Established has been stable; a quick flap keeps growing", () => {
    const cfg = fsmConfig({ ...config, backoff: { initial: 2, max: 30, stableTime: 45 } });
    let s = run(
      initialState(cfg),
      { type: "ManualStart" },
      { type: "TcpConnectionFails" },
      { type: "IdleHoldTimerExpires" },
    ).state;
    expect(s.retryDelay).toBe(4);
    const est = run(s, { type: "TcpCRAcked" }, { type: "BGPOpen", message: peerOpen() }, { type: "KeepAliveMsg" });
    expect(est.actions[2]).toContainEqual({ type: "StartTimer", timer: "Stable", seconds: 45 });
    expect(est.state.connectRetryCounter).toBe(0);
    // Flap right away: the next delay is still the grown one.
    const flap = step(est.state, { type: "TcpConnectionFails" });
    expect(flap.actions).toContainEqual({ type: "StartTimer", timer: "IdleHold", seconds: 4 });
    // Stable for long enough: back to the initial delay.
    s = step(est.state, { type: "StableTimerExpires" }).state;
    expect(step(s, { type: "TcpConnectionFails" }).actions).toContainEqual({
      type: "StartTimer",
      timer: "IdleHold",
      seconds: 2,
    });
  });
});

describe("maximum number of prefixes (RFC 4486 §4)", () => {
  it("Established: Cease / Maximum Number of Prefixes Reached with AFI, SAFI and the limit, then an IdleHold of backoff.max", () => {
    const est = toEstablished().state;
    const r = step(est, { type: "MaxPrefixesExceeded", family: IPV6_UNICAST, limit: 100_000 });
    expect(r.state.name).toBe("Idle");
    expect(r.actions[0]).toEqual({
      type: "SendNotification",
      code: 6,
      subcode: 1,
      data: Buffer.from("0002" + "01" + "000186a0", "hex"),
      reason: "more than 100000 prefixes of AFI 2 SAFI 1 received",
    });
    expect(r.actions).toContainEqual({ type: "DropConnection" });
    expect(r.actions).toContainEqual({
      type: "SessionDown",
      reason: "more than 100000 prefixes of AFI 2 SAFI 1 received",
    });
    // Not the 1 s of a first failure: a peer that floods is re-dialled once a minute at most.
    expect(r.actions).toContainEqual({ type: "StartTimer", timer: "IdleHold", seconds: 60 });
    expect(r.state.lastError).toMatch(/more than 100000 prefixes/);
  });

  it("is stale news outside Established", () => {
    const connect = step(initialState(config), { type: "ManualStart" }).state;
    const openSent = step(connect, { type: "TcpCRAcked" }).state;
    for (const s of [initialState(config), connect, openSent]) {
      const r = step(s, { type: "MaxPrefixesExceeded", family: IPV4_UNICAST, limit: 1 });
      expect(r).toEqual({ state: s, actions: [] });
    }
  });
});

describe("failures", () => {
  it("each failed attempt counts, even with the same reason as the last (the shell reports it again)", () => {
    const first = step(toEstablished().state, { type: "TcpConnectionFails" }).state;
    const again = run(
      first,
      { type: "IdleHoldTimerExpires" },
      { type: "TcpCRAcked" },
      { type: "BGPOpen", message: peerOpen() },
      { type: "KeepAliveMsg" },
      { type: "TcpConnectionFails" },
    ).state;
    expect(first.lastError).toBe("TCP connection closed");
    expect(again.lastError).toBe("TCP connection closed");
    expect(again.failures).toBe(first.failures + 1);
  });
});

describe("graceful restart and End-of-RIB", () => {
  const grConfig = fsmConfig({
    ...config,
    gracefulRestart: { restartTime: 120, forwardingState: true },
    restarting: true,
  });

  it("advertises the R bit after our restart and clears it once End-of-RIB is out", () => {
    const r = toEstablished(grConfig);
    const open = r.actions[1]!.find((a) => a.type === "SendOpen");
    expect(
      open && open.type === "SendOpen" && open.message.capabilities.find((c) => c.type === "graceful-restart"),
    ).toEqual({
      type: "graceful-restart",
      restartState: true,
      restartTime: 120,
      families: [
        { afi: 1, safi: 1, forwardingState: true },
        { afi: 2, safi: 1, forwardingState: true },
      ],
    });
    expect(r.state.negotiated?.gracefulRestart).toBe(true);

    const v4 = step(r.state, { type: "InitialAdvertisementDone", family: IPV4_UNICAST });
    expect(v4.actions).toEqual([{ type: "SendUpdate", message: endOfRib(IPV4_UNICAST) }]);
    expect(v4.state.restarting).toBe(true);
    const all = step(v4.state, { type: "InitialAdvertisementDone" });
    expect(all.actions).toEqual([{ type: "SendUpdate", message: endOfRib(IPV6_UNICAST) }]);
    expect(all.state.restarting).toBe(false);
    expect(step(all.state, { type: "InitialAdvertisementDone" }).actions).toEqual([]); // once per session

    // A later reconnect in the same process no longer claims a restart.
    const again = run(
      step(all.state, { type: "TcpConnectionFails" }).state,
      { type: "IdleHoldTimerExpires" },
      { type: "TcpCRAcked" },
    );
    const open2 = again.actions[1]!.find((a) => a.type === "SendOpen");
    expect(
      open2 && open2.type === "SendOpen" && open2.message.capabilities.find((c) => c.type === "graceful-restart"),
    ).toMatchObject({ restartState: false });
  });

  it("sends End-of-RIB for negotiated families even without graceful restart (RFC 4724 §4)", () => {
    const r = toEstablished();
    expect(step(r.state, { type: "InitialAdvertisementDone" }).actions).toHaveLength(2);
  });

  it("clean stop sends Cease / Administrative Shutdown from OpenSent and OpenConfirm too", () => {
    const sent = run(initialState(config), { type: "ManualStart" }, { type: "TcpCRAcked" }, { type: "ManualStop" });
    expect(sent.actions[2]![0]).toMatchObject({ code: 6, subcode: 2 });
    const connect = run(initialState(config), { type: "ManualStart" }, { type: "ManualStop" });
    expect(connect.actions[1]!.some((a) => a.type === "SendNotification")).toBe(false);
    expect(connect.actions[1]).toContainEqual({ type: "DropConnection" });
  });
});

describe("BFD down (RFC 5882 §10.2, RFC 9384)", () => {
  it("Established: NOTIFICATION Cease / BFD Down, the connection dropped, routes gone (SessionDown), a retry armed", () => {
    const r = step(toEstablished().state, { type: "BfdDown" });
    expect(r.state.name).toBe("Idle");
    expect(r.actions[0]).toEqual({
      type: "SendNotification",
      code: 6,
      subcode: 10,
      data: Buffer.alloc(0),
      reason: "BFD session down",
    });
    expect(r.actions).toContainEqual({ type: "DropConnection" });
    expect(r.actions).toContainEqual({ type: "SessionDown", reason: "BFD session down" });
    expect(r.actions.some((a) => a.type === "StartTimer" && a.timer === "IdleHold")).toBe(true);
    expect(r.state.lastError).toBe("BFD session down");
  });

  it("before OPEN: drops the attempt without a NOTIFICATION; Idle ignores it", () => {
    const connect = step(initialState(config), { type: "ManualStart" }).state;
    const r = step(connect, { type: "BfdDown" });
    expect(r.state.name).toBe("Idle");
    expect(r.actions.some((a) => a.type === "SendNotification")).toBe(false);
    expect(step(initialState(config), { type: "BfdDown" }).actions).toEqual([]);
  });
});
