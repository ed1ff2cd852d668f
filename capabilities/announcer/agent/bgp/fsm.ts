/**
 * The BGP finite-state machine of RFC 4271 §8 as a pure reducer:
 * `step(state, event)` returns the next state and the actions the shell must
 * perform (send, connect, arm timers). No I/O, no clocks.
 *
 * Choices beyond the RFC (§8.1.1 leaves them to implementations):
 * - Every fall to Idle while started arms IdleHold with an exponential
 *   backoff (DampPeerOscillations): initial 1 s, doubling, capped at 60 s.
 *   The backoff resets once a session has stayed Established for
 *   `backoff.stableTime` seconds, so a peer that flaps right after
 *   Established is not re-dialled every second.
 * - Stale timer events in states that do not run that timer are ignored;
 *   unexpected messages are FSM errors (RFC 6608 subcodes).
 * - Too many prefixes from the peer (the shell counts them against its
 *   limit) end the session with Cease / Maximum Number of Prefixes Reached
 *   (RFC 4486 §4) and an IdleHold of at least `backoff.max`: a peer that
 *   floods us is re-dialled at most once per that period, and nothing in the
 *   RFC asks for sooner.
 * - `failures` counts the attempts that ended in an error, so the shell can
 *   tell a second drop for the same reason from no drop at all.
 * - Connection collision (§6.8) needs two connections and is the shell's job.
 */
import type { IP } from "../../../shared/net/ip";
import { endOfRib, endOfRibPending } from "./graceful-restart";
import {
  IPV4_UNICAST,
  IPV6_UNICAST,
  LARGE_HOLD_TIME,
  sameAfiSafi,
  type AfiSafi,
  type BgpError,
  type ExtendedNextHopEntry,
  type NotificationMessage,
  type OpenMessage,
  type RouteRefreshMessage,
  type UpdateMessage,
} from "./messages";
import { buildOpen, negotiate, type GracefulRestartConfig, type Negotiated, type OpenConfig } from "./negotiate";
import { CeaseSubcode, ErrorCode, FsmSubcode, describeNotification } from "./notification";
import { validateOpen, type UpdateVerdict } from "./validate";

export type StateName = "Idle" | "Connect" | "Active" | "OpenSent" | "OpenConfirm" | "Established";
export type TimerName = "ConnectRetry" | "Hold" | "Keepalive" | "IdleHold" | "Stable";

export interface BackoffConfig {
  /** First IdleHold delay, seconds. */
  readonly initial: number;
  /** Largest IdleHold delay, seconds. */
  readonly max: number;
  /** Seconds Established must last before the backoff resets. */
  readonly stableTime: number;
}

export interface FsmConfig extends OpenConfig {
  /** Expected peer AS; undefined accepts any. */
  readonly peerAS?: number;
  /** No fixed peer AS: accept ours (internal) or any other (external). */
  readonly dynamicPeerAS?: "internal" | "external";
  /** Never dial; only accept (RFC 4271 §8.1.1 PassiveTcpEstablishment). */
  readonly passive: boolean;
  /** ConnectRetryTimer, seconds (RFC 4271 §10 suggests 120). */
  readonly connectRetryTime: number;
  /** Seconds between KEEPALIVEs (BGPPeer keepaliveTime); undefined: a third of the hold time. */
  readonly keepaliveTime?: number;
  readonly backoff: BackoffConfig;
  /** This process restarted with graceful restart: set the R bit until End-of-RIB is out (RFC 4724 §3). */
  readonly restarting: boolean;
}

export interface FsmConfigInput {
  readonly localAS: number;
  readonly routerId: IP;
  readonly peerAS?: number;
  readonly dynamicPeerAS?: "internal" | "external";
  readonly holdTime?: number;
  readonly families?: readonly AfiSafi[];
  readonly routeRefresh?: boolean;
  readonly gracefulRestart?: GracefulRestartConfig;
  /** Offered in the OPEN (RFC 8950 §4): IPv4 over IPv6 next hops on an unnumbered session. */
  readonly extendedNextHop?: readonly ExtendedNextHopEntry[];
  readonly passive?: boolean;
  readonly connectRetryTime?: number;
  readonly keepaliveTime?: number;
  readonly backoff?: Partial<BackoffConfig>;
  readonly restarting?: boolean;
}

/** Fills in defaults: hold 90 s, IPv4+IPv6 unicast, route refresh, connect retry 30 s, backoff 1..60 s. */
export function fsmConfig(input: FsmConfigInput): FsmConfig {
  return {
    localAS: input.localAS,
    routerId: input.routerId,
    ...(input.peerAS !== undefined ? { peerAS: input.peerAS } : {}),
    ...(input.dynamicPeerAS !== undefined ? { dynamicPeerAS: input.dynamicPeerAS } : {}),
    holdTime: input.holdTime ?? 90,
    families: input.families ?? [IPV4_UNICAST, IPV6_UNICAST],
    routeRefresh: input.routeRefresh ?? true,
    ...(input.gracefulRestart ? { gracefulRestart: input.gracefulRestart } : {}),
    ...(input.extendedNextHop?.length ? { extendedNextHop: input.extendedNextHop } : {}),
    passive: input.passive ?? false,
    connectRetryTime: input.connectRetryTime ?? 30,
    ...(input.keepaliveTime !== undefined ? { keepaliveTime: input.keepaliveTime } : {}),
    backoff: { initial: 1, max: 60, stableTime: 60, ...input.backoff },
    restarting: input.restarting ?? false,
  };
}

export interface FsmState {
  readonly name: StateName;
  readonly config: FsmConfig;
  /** Between ManualStart and ManualStop: failures schedule a retry. */
  readonly started: boolean;
  /** RFC 4271 §8: counts failed attempts; zeroed by ManualStart/ManualStop and on Established. */
  readonly connectRetryCounter: number;
  /** The next IdleHold delay, seconds. */
  readonly retryDelay: number;
  /** Still advertising the graceful-restart R bit. */
  readonly restarting: boolean;
  /** The OPEN we sent on the current connection. */
  readonly sentOpen?: OpenMessage;
  readonly negotiated?: Negotiated;
  /** Families whose End-of-RIB went out on this session. */
  readonly endOfRibSent: readonly AfiSafi[];
  /** Why the last session attempt ended, in words. */
  readonly lastError?: string;
  /** Session attempts that ended in an error (each sets lastError, even to the same words). */
  readonly failures: number;
}

export function initialState(config: FsmConfig): FsmState {
  return {
    name: "Idle",
    config,
    started: false,
    connectRetryCounter: 0,
    retryDelay: config.backoff.initial,
    restarting: config.restarting,
    endOfRibSent: [],
    failures: 0,
  };
}

export type FsmEvent =
  | { readonly type: "ManualStart" }
  | { readonly type: "ManualStop" }
  | { readonly type: "ConnectRetryTimerExpires" }
  | { readonly type: "HoldTimerExpires" }
  | { readonly type: "KeepaliveTimerExpires" }
  | { readonly type: "IdleHoldTimerExpires" }
  | { readonly type: "StableTimerExpires" }
  | { readonly type: "TcpConnectionConfirmed" }
  | { readonly type: "TcpCRAcked" }
  | { readonly type: "TcpConnectionFails" }
  | { readonly type: "BGPOpen"; readonly message: OpenMessage }
  | { readonly type: "KeepAliveMsg" }
  | { readonly type: "UpdateMsg"; readonly message: UpdateMessage }
  | { readonly type: "RouteRefreshMsg"; readonly message: RouteRefreshMessage }
  | { readonly type: "NotifMsg"; readonly message: NotificationMessage }
  | { readonly type: "BGPHeaderErr"; readonly error: BgpError }
  | { readonly type: "BGPOpenMsgErr"; readonly error: BgpError }
  | { readonly type: "UpdateMsgErr"; readonly verdict: Exclude<UpdateVerdict, { outcome: "ok" }> }
  /** The shell finished the initial advertisement (for one family, or all). */
  | { readonly type: "InitialAdvertisementDone"; readonly family?: AfiSafi }
  /** The peer has announced more prefixes of a family than the shell allows. */
  | { readonly type: "MaxPrefixesExceeded"; readonly family: AfiSafi; readonly limit: number }
  /** The BFD session to the peer went from Up to Down: a path failure (RFC 5882 §3.2, §10.2). */
  | { readonly type: "BfdDown" };

export type FsmAction =
  | { readonly type: "ConnectTcp" }
  | { readonly type: "DropConnection" }
  | { readonly type: "SendOpen"; readonly message: OpenMessage }
  | { readonly type: "SendKeepalive" }
  | {
      readonly type: "SendNotification";
      readonly code: number;
      readonly subcode: number;
      readonly data: Buffer;
      readonly reason: string;
    }
  | { readonly type: "SendUpdate"; readonly message: UpdateMessage }
  | { readonly type: "StartTimer"; readonly timer: TimerName; readonly seconds: number }
  | { readonly type: "StopTimer"; readonly timer: TimerName }
  | { readonly type: "SessionEstablished"; readonly negotiated: Negotiated }
  | { readonly type: "SessionDown"; readonly reason: string }
  | { readonly type: "ProcessUpdate"; readonly message: UpdateMessage; readonly treatAsWithdraw: boolean }
  /** Route refresh (RFC 2918 §4): re-advertise the Adj-RIB-Out of this family. */
  | { readonly type: "ResendRoutes"; readonly family: AfiSafi };

export interface StepResult {
  readonly state: FsmState;
  readonly actions: readonly FsmAction[];
}

const start = (timer: TimerName, seconds: number): FsmAction => ({ type: "StartTimer", timer, seconds });
const stop = (timer: TimerName): FsmAction => ({ type: "StopTimer", timer });
const notify = (e: BgpError): FsmAction => ({
  type: "SendNotification",
  code: e.code,
  subcode: e.subcode,
  data: e.data,
  reason: e.reason,
});
const SESSION_TIMERS: readonly TimerName[] = ["ConnectRetry", "Hold", "Keepalive", "Stable"];
const BFD_DOWN = "BFD session down";

/** Leaves Idle for Connect (dialling) or Active (waiting to be dialled). */
function begin(s: FsmState): StepResult {
  const state: FsmState = { ...s, started: true, endOfRibSent: [] };
  if (s.config.passive) return { state: { ...state, name: "Active" }, actions: [] };
  return {
    state: { ...state, name: "Connect" },
    actions: [{ type: "ConnectTcp" }, start("ConnectRetry", s.config.connectRetryTime)],
  };
}

/** Connection up (either direction): send OPEN, wait for theirs under the large hold timer (§8.2.2). */
function connected(s: FsmState): StepResult {
  const open = buildOpen(s.config, s.restarting);
  return {
    state: { ...s, name: "OpenSent", sentOpen: open },
    actions: [stop("ConnectRetry"), { type: "SendOpen", message: open }, start("Hold", LARGE_HOLD_TIME)],
  };
}

/**
 * Any error: optionally notify, drop, go Idle, and (when started) retry after the
 * backoff, or after `idleHold` seconds when that is longer.
 */
function fail(s: FsmState, reason: string, error?: BgpError, idleHold = 0): StepResult {
  const actions: FsmAction[] = [];
  if (error) actions.push(notify(error));
  actions.push(...SESSION_TIMERS.map(stop), { type: "DropConnection" });
  if (s.name === "Established") actions.push({ type: "SessionDown", reason });
  if (s.started) actions.push(start("IdleHold", Math.max(s.retryDelay, idleHold)));
  const { sentOpen: _o, negotiated: _n, ...rest } = s;
  return {
    state: {
      ...rest,
      name: "Idle",
      connectRetryCounter: s.connectRetryCounter + 1,
      retryDelay: Math.min(s.retryDelay * 2, s.config.backoff.max),
      endOfRibSent: [],
      lastError: reason,
      failures: s.failures + 1,
    },
    actions,
  };
}

/** RFC 4486 §4: Cease / Maximum Number of Prefixes Reached, data AFI (2), SAFI (1), the limit (4). */
function maxPrefixes(s: FsmState, family: AfiSafi, limit: number): StepResult {
  const data = Buffer.alloc(7);
  data.writeUInt16BE(family.afi, 0);
  data.writeUInt8(family.safi, 2);
  data.writeUInt32BE(Math.min(limit, 0xffffffff), 3);
  const reason = `more than ${limit} prefixes of AFI ${family.afi} SAFI ${family.safi} received`;
  const error = { code: ErrorCode.CEASE, subcode: CeaseSubcode.MAX_PREFIXES, data, reason };
  return fail(s, reason, error, s.config.backoff.max);
}

/** ManualStop: RFC 4486 Cease / Administrative Shutdown once OPEN went out; no retry. */
function manualStop(s: FsmState): StepResult {
  const actions: FsmAction[] = [];
  const opened = s.name === "OpenSent" || s.name === "OpenConfirm" || s.name === "Established";
  if (opened) {
    actions.push(
      notify({
        code: ErrorCode.CEASE,
        subcode: CeaseSubcode.ADMINISTRATIVE_SHUTDOWN,
        data: Buffer.alloc(0),
        reason: "administrative shutdown",
      }),
    );
  }
  actions.push(...SESSION_TIMERS.map(stop), stop("IdleHold"));
  if (s.name !== "Idle") actions.push({ type: "DropConnection" });
  if (s.name === "Established") actions.push({ type: "SessionDown", reason: "administrative shutdown" });
  const { sentOpen: _o, negotiated: _n, ...rest } = s;
  return { state: { ...rest, name: "Idle", started: false, connectRetryCounter: 0, endOfRibSent: [] }, actions };
}

const fsmError = (s: FsmState, event: FsmEvent): StepResult => {
  const subcode =
    s.name === "OpenSent"
      ? FsmSubcode.UNEXPECTED_IN_OPENSENT
      : s.name === "OpenConfirm"
        ? FsmSubcode.UNEXPECTED_IN_OPENCONFIRM
        : FsmSubcode.UNEXPECTED_IN_ESTABLISHED;
  const reason = `unexpected ${event.type} in ${s.name}`;
  return fail(s, reason, { code: ErrorCode.FSM, subcode, data: Buffer.alloc(0), reason });
};

const isTimerEvent = (e: FsmEvent): boolean => e.type.endsWith("TimerExpires");
/** Events from the shell about a session that may already be gone: stale outside Established. */
const isShellNews = (e: FsmEvent): boolean =>
  isTimerEvent(e) || e.type === "InitialAdvertisementDone" || e.type === "MaxPrefixesExceeded";

/** Restart the hold timer on any message from the peer (RFC 4271 §8.2.2), unless hold time is 0. */
const holdRestart = (n: Negotiated | undefined): FsmAction[] =>
  n && n.holdTime > 0 ? [start("Hold", n.holdTime)] : [];

const unchanged = (s: FsmState): StepResult => ({ state: s, actions: [] });

export function step(s: FsmState, e: FsmEvent): StepResult {
  if (e.type === "ManualStop") return s.started || s.name !== "Idle" ? manualStop(s) : unchanged(s);
  switch (s.name) {
    case "Idle":
      return idle(s, e);
    case "Connect":
    case "Active":
      return connecting(s, e);
    case "OpenSent":
      return openSent(s, e);
    case "OpenConfirm":
      return openConfirm(s, e);
    case "Established":
      return established(s, e);
  }
}

function idle(s: FsmState, e: FsmEvent): StepResult {
  switch (e.type) {
    case "ManualStart":
      return s.started ? unchanged(s) : begin({ ...s, connectRetryCounter: 0 });
    case "IdleHoldTimerExpires":
      return s.started ? begin(s) : unchanged(s);
    case "TcpConnectionConfirmed":
      return { state: s, actions: [{ type: "DropConnection" }] }; // §8.2.2 Idle refuses connections
    default:
      return unchanged(s);
  }
}

function connecting(s: FsmState, e: FsmEvent): StepResult {
  switch (e.type) {
    case "ConnectRetryTimerExpires":
      if (s.config.passive) return unchanged(s);
      // §8.2.2 Connect: drop the attempt and dial again; Active: dial.
      return {
        state: { ...s, name: "Connect" },
        actions: [
          ...(s.name === "Connect" ? [{ type: "DropConnection" } as const] : []),
          { type: "ConnectTcp" },
          start("ConnectRetry", s.config.connectRetryTime),
        ],
      };
    case "TcpCRAcked":
    case "TcpConnectionConfirmed":
      return connected(s);
    case "TcpConnectionFails":
      return fail(s, "TCP connection failed");
    case "NotifMsg":
      return fail(s, `peer sent ${describeNotification(e.message.code, e.message.subcode)}`);
    case "ManualStart":
      return unchanged(s);
    case "BfdDown":
      // No OPEN went out yet: drop the attempt without a NOTIFICATION.
      return fail(s, BFD_DOWN);
    default:
      // §8.2.2 Connect/Active: any other event goes to Idle.
      return isShellNews(e) ? unchanged(s) : fail(s, `unexpected ${e.type} in ${s.name}`);
  }
}

/** Shared handling of errors that end a session the same way in OpenSent, OpenConfirm and Established. */
function commonOpened(s: FsmState, e: FsmEvent): StepResult | undefined {
  switch (e.type) {
    case "HoldTimerExpires":
      return fail(s, "hold timer expired", {
        code: ErrorCode.HOLD_TIMER_EXPIRED,
        subcode: 0,
        data: Buffer.alloc(0),
        reason: "hold timer expired",
      });
    case "TcpConnectionFails":
      return fail(s, "TCP connection closed");
    case "NotifMsg":
      return fail(s, `peer sent ${describeNotification(e.message.code, e.message.subcode)}`);
    case "BGPHeaderErr":
    case "BGPOpenMsgErr":
      return fail(s, e.error.reason, e.error);
    case "ManualStart":
      return unchanged(s);
    case "BfdDown":
      // RFC 5882 §10.2: BFD down tears the BGP session down at once; RFC 9384: Cease / BFD Down.
      return fail(s, BFD_DOWN, {
        code: ErrorCode.CEASE,
        subcode: CeaseSubcode.BFD_DOWN,
        data: Buffer.alloc(0),
        reason: BFD_DOWN,
      });
    default:
      return undefined;
  }
}

function openSent(s: FsmState, e: FsmEvent): StepResult {
  if (e.type === "TcpConnectionFails") {
    // §8.2.2 OpenSent: close, restart ConnectRetryTimer, listen (Active).
    return {
      state: { ...s, name: "Active", lastError: "TCP connection closed in OpenSent", failures: s.failures + 1 },
      actions: [stop("Hold"), { type: "DropConnection" }, start("ConnectRetry", s.config.connectRetryTime)],
    };
  }
  const common = commonOpened(s, e);
  if (common) return common;
  if (e.type === "BGPOpen") {
    const error = validateOpen(e.message, {
      localAS: s.config.localAS,
      localId: s.config.routerId,
      ...(s.config.peerAS !== undefined ? { expectedPeerAS: s.config.peerAS } : {}),
      ...(s.config.dynamicPeerAS !== undefined ? { dynamicPeerAS: s.config.dynamicPeerAS } : {}),
    });
    if (error) return fail(s, error.reason, error);
    const negotiated = negotiate(s.sentOpen ?? buildOpen(s.config, s.restarting), e.message, s.config.keepaliveTime);
    const timers =
      negotiated.holdTime > 0
        ? [start("Keepalive", negotiated.keepaliveTime), start("Hold", negotiated.holdTime)]
        : [stop("Hold")];
    return { state: { ...s, name: "OpenConfirm", negotiated }, actions: [{ type: "SendKeepalive" }, ...timers] };
  }
  return isShellNews(e) ? unchanged(s) : fsmError(s, e);
}

function openConfirm(s: FsmState, e: FsmEvent): StepResult {
  const common = commonOpened(s, e);
  if (common) return common;
  switch (e.type) {
    case "KeepaliveTimerExpires":
      return keepalive(s);
    case "KeepAliveMsg": {
      const n = s.negotiated!;
      return {
        state: { ...s, name: "Established", connectRetryCounter: 0 },
        actions: [
          ...holdRestart(n),
          start("Stable", s.config.backoff.stableTime),
          { type: "SessionEstablished", negotiated: n },
        ],
      };
    }
    default:
      return isShellNews(e) ? unchanged(s) : fsmError(s, e);
  }
}

/** KeepaliveTimer fired: send one and re-arm (never with hold time 0, RFC 4271 §4.4). */
function keepalive(s: FsmState): StepResult {
  const seconds = s.negotiated?.keepaliveTime ?? 0;
  return { state: s, actions: seconds > 0 ? [{ type: "SendKeepalive" }, start("Keepalive", seconds)] : [] };
}

function established(s: FsmState, e: FsmEvent): StepResult {
  const common = commonOpened(s, e);
  if (common) return common;
  const n = s.negotiated!;
  switch (e.type) {
    case "KeepaliveTimerExpires":
      return keepalive(s);
    case "StableTimerExpires":
      return { state: { ...s, retryDelay: s.config.backoff.initial }, actions: [] };
    case "KeepAliveMsg":
      return { state: s, actions: holdRestart(n) };
    case "UpdateMsg":
      return {
        state: s,
        actions: [...holdRestart(n), { type: "ProcessUpdate", message: e.message, treatAsWithdraw: false }],
      };
    case "UpdateMsgErr": {
      const v = e.verdict;
      // RFC 7606 §2: only "session reset" ends the session.
      if (v.outcome === "session-reset") return fail(s, v.error.reason, v.error);
      return {
        state: s,
        actions: [
          ...holdRestart(n),
          { type: "ProcessUpdate", message: v.update, treatAsWithdraw: v.outcome === "treat-as-withdraw" },
        ],
      };
    }
    case "RouteRefreshMsg": {
      // RFC 2918 §4: honour a refresh only for a negotiated family; otherwise ignore it.
      const family = { afi: e.message.afi, safi: e.message.safi };
      const ok = n.routeRefresh && n.families.some((f) => sameAfiSafi(f, family));
      return { state: s, actions: [...holdRestart(n), ...(ok ? [{ type: "ResendRoutes", family } as const] : [])] };
    }
    case "MaxPrefixesExceeded":
      return maxPrefixes(s, e.family, e.limit);
    case "InitialAdvertisementDone": {
      // RFC 4724 §4: End-of-RIB after the initial update, once per negotiated family.
      const pending = endOfRibPending(n.families, s.endOfRibSent, e.family);
      const endOfRibSent = [...s.endOfRibSent, ...pending];
      const allSent = endOfRibPending(n.families, endOfRibSent).length === 0;
      return {
        state: { ...s, endOfRibSent, restarting: allSent ? false : s.restarting },
        actions: pending.map((f) => ({ type: "SendUpdate", message: endOfRib(f) })),
      };
    }
    default:
      return isTimerEvent(e) ? unchanged(s) : fsmError(s, e);
  }
}
