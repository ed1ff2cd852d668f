/**
 * One BGP session: the thin socket shell around the pure FSM (fsm.ts). It owns
 * the timers, the TCP connection, the inbound framing and the Adj-RIB-Out; all
 * protocol decisions are made by `step()`, `frameToEvent()` and `planUpdates()`.
 *
 * - We only dial out (RFC 4271 §8.1.1 passive side not used), so connection
 *   collision detection (§6.8) cannot arise.
 * - Received UPDATEs are accepted, counted and never installed (like MetalLB's
 *   native speaker, §5.3 of our MetalLB reference). Counted, not stored: one
 *   8-octet key per distinct prefix (prefix-set.ts), and a family past
 *   `maxPrefixes` ends the session with Cease / Maximum Number of Prefixes
 *   Reached (RFC 4486 §4; the FSM backs off before re-dialling).
 * - ROUTE-REFRESH (RFC 2918 §4) is answered by refresh.ts's schedule: coalesced,
 *   at most one answer per family per `refreshInterval`, and sent in slices of
 *   RESEND_SLICE routes with the event loop free between them, so a peer asking
 *   in a loop cannot hold up other sessions, Lease renewals or ARP answers.
 * - Inbound: messages are handled INBOUND_SLICE at a time (a count and a time budget)
 *   with the socket paused in between, so a burst of small messages (a ROUTE-REFRESH flood) yields the event loop
 *   and TCP flow control slows the sender.
 * - Backpressure: UPDATEs wait in an outbox while the socket's write() says its
 *   buffer is full, until 'drain'; changes that arrive meanwhile are planned
 *   once the outbox is empty, from the Adj-RIB-Out to the routes wanted then,
 *   so the outbox never holds more than one plan. OPEN, KEEPALIVE and
 *   NOTIFICATION skip the outbox (see `send`).
 * - `stop()` sends NOTIFICATION Cease / Administrative Shutdown (RFC 4486 §3,
 *   subcode 2) via the FSM's ManualStop, so the peer withdraws at once.
 * - Graceful restart (RFC 4724): when enabled the OPEN carries the capability;
 *   `restarting` sets its R bit until our End-of-RIB is out (§3, §4.1).
 * - BFD (RFC 5882, agent/bfd/coupling.ts): `bfdDown()` ends the session with Cease / BFD
 *   Down and holds re-dialling until `bfdReleased()`.
 * - BGP unnumbered (config.interface): dialled to a link-local address in the interface's
 *   zone; the OPEN offers the extended next hop capability (RFC 8950) and every route goes
 *   with the node's IPv6 addresses on that interface as next hop.
 * - Every path into the FSM is wrapped: an exception in an action drops the
 *   connection and lets the FSM's backoff retry; it never reaches the process.
 */
import type * as net from "node:net";
import { performance } from "node:perf_hooks";
import { formatIP, parseIP, parseZonedIP, type CIDR, type IP } from "../../../shared/net/ip";
import { planUpdates, type Route, type RouteAttributes } from "./adj-rib-out";
import { encodeMessage } from "./encode";
import {
  fsmConfig,
  initialState,
  step,
  type FsmAction,
  type FsmEvent,
  type FsmState,
  type StateName,
  type TimerName,
} from "./fsm";
import { osHostAddresses, type HostAddresses } from "./host-addresses";
import { linkBandwidthCommunity } from "./link-bandwidth";
import { endOfRibFamily } from "./graceful-restart";
import { shutdownAttributes } from "./graceful-shutdown";
import { frameToEvent } from "./inbound";
import {
  IPV4_OVER_IPV6,
  IPV4_UNICAST,
  IPV6_UNICAST,
  sameAfiSafi,
  type AfiSafi,
  type LargeCommunity,
  type Message,
  type UpdateMessage,
} from "./messages";
import type { Negotiated } from "./negotiate";
import { describeNotification } from "./notification";
import { PrefixSet } from "./prefix-set";
import { MessageReader, type Frame } from "./reader";
import {
  refreshDone,
  refreshDue,
  refreshRequested,
  refreshState,
  type RefreshAction,
  type RefreshState,
} from "./refresh";
import { dial as defaultDial, type Dialer, type Dialled } from "./transport";

export interface SessionConfig {
  /** Peer address (IPv4 or IPv6 text; for BGP unnumbered the link-local address, without a zone). */
  readonly peerAddress: string;
  /**
   * BGP unnumbered: the interface that scopes the link-local peerAddress. The OPEN offers
   * IPv4 routes with IPv6 next hops (RFC 8950), and routes of both families go with the
   * node's IPv6 addresses on that interface as next hop (global and link-local, RFC 2545 §3;
   * the link-local alone when the interface has no global address, as on a numberless link).
   */
  readonly interface?: string;
  /** Default 179. */
  readonly peerPort?: number;
  readonly localAS: number;
  /** Expected peer AS; undefined accepts any. */
  readonly peerAS?: number;
  /** BGPPeer dynamicASN, instead of peerAS: our AS (internal) or any other (external). */
  readonly dynamicASN?: "internal" | "external";
  /** BGP Identifier; must be IPv4 (RFC 4271 §4.2). */
  readonly routerId: string;
  readonly sourceAddress?: string;
  /** Proposed hold time, seconds: 0 or ≥ 3 (RFC 4271 §4.2). Default 90. */
  readonly holdTime?: number;
  readonly ebgpMultiHop?: boolean;
  /** TCP MD5 key (RFC 2385); empty or undefined: none. */
  readonly password?: string;
  readonly gracefulRestart?: boolean;
  /** Seconds the peer keeps our routes across a restart (RFC 4724 §3). Default 120. */
  readonly restartTime?: number;
  /** This process restarted: set the R bit (RFC 4724 §3). */
  readonly restarting?: boolean;
  /** Seconds per connection attempt (ConnectRetryTimer, RFC 4271 §8). Default 10, MetalLB's dial timeout. */
  readonly connectRetryTime?: number;
  /** Seconds between KEEPALIVEs (BGPPeer keepaliveTime); default a third of the negotiated hold time. */
  readonly keepaliveTime?: number;
  /** IdleHold backoff between attempts. */
  readonly backoff?: { readonly initial?: number; readonly max?: number; readonly stableTime?: number };
  /** Next hops for prefixes of the other family than the session's transport. */
  readonly nextHop4?: string;
  /**
   * Send routes of the other family than the transport too (BGPPeer dualStackAddressFamily),
   * next hop the node's address of that family on the session's interface (unless nextHop4/6).
   */
  readonly dualStackAddressFamily?: boolean;
  readonly nextHop6?: string;
  /** Families offered in the OPEN (RFC 4760). Default IPv4 and IPv6 unicast. */
  readonly families?: readonly AfiSafi[];
  /** Most prefixes of one family the peer may announce (RFC 4486 §4). Default DEFAULT_MAX_PREFIXES. */
  readonly maxPrefixes?: number;
  /** Seconds between the starts of two ROUTE-REFRESH answers for one family. Default 5. */
  readonly refreshInterval?: number;
}

/** A full IPv4 table is ~1M routes; a router peering with a load balancer has no reason to send a tenth of one. */
export const DEFAULT_MAX_PREFIXES = 100_000;
/** Routes per slice of a ROUTE-REFRESH answer: a few milliseconds of planning each. */
export const RESEND_SLICE = 1024;
/**
 * Received messages handled per turn of the event loop: at most 256, and no more once
 * 5 ms have gone (a full UPDATE of IPv6 prefixes takes about a millisecond to read;
 * under CPU contention a fixed count would take many times longer).
 */
export const INBOUND_SLICE = { messages: 256, ms: 5 } as const;

/** What the agent wants advertised; the session fills in next hop and AS path. */
export interface AdvertisedRoute {
  readonly prefix: CIDR;
  readonly communities?: readonly number[];
  readonly largeCommunities?: readonly LargeCommunity[];
  /** Bytes per second, sent as the link bandwidth extended community (RFC 10005, weighted ECMP). */
  readonly linkBandwidth?: number;
  /** Sent on iBGP only (RFC 4271 §5.1.5); default 100 there. */
  readonly localPref?: number;
  readonly med?: number;
  /** This node is going away: send with GRACEFUL_SHUTDOWN, and LOCAL_PREF 0 on iBGP (RFC 8326). */
  readonly gracefulShutdown?: boolean;
}

export type MessageKind = "open" | "update" | "keepalive" | "notification" | "routeRefresh";
export type MessageCounters = Record<MessageKind, number>;

export interface SessionSnapshot {
  readonly peer: string;
  readonly state: StateName;
  readonly since: Date;
  readonly negotiatedHoldTime?: number;
  readonly negotiatedKeepaliveTime?: number;
  readonly capabilities: readonly string[];
  /** Prefixes the peer has from us right now. */
  readonly advertisedPrefixes: number;
  /** Prefixes wanted but not yet sent (session down, or family not negotiated). */
  readonly pendingPrefixes: number;
  readonly receivedPrefixes: number;
  readonly lastError?: string;
  /** BGP unnumbered: the peer's link-local address. */
  readonly linkLocalPeer?: string;
  readonly sent: Readonly<MessageCounters>;
  readonly received: Readonly<MessageCounters>;
  /** All End-of-RIBs sent on this session. */
  readonly initialAdvertisementDone: boolean;
}

export interface SessionObserver {
  /** Any change worth reporting (state, counters, prefixes). */
  onChange?(s: SessionSnapshot, stateChanged: boolean): void;
  onMessage?(direction: "sent" | "received", kind: MessageKind, peer: string): void;
  /** UPDATE messages sent that carried routes (not End-of-RIB). */
  onRoutesSent?(count: number, peer: string): void;
  log?(level: "info" | "warn" | "debug", msg: string): void;
}

const zero = (): MessageCounters => ({ open: 0, update: 0, keepalive: 0, notification: 0, routeRefresh: 0 });
const KIND: Readonly<Record<Message["type"], MessageKind>> = {
  open: "open",
  update: "update",
  keepalive: "keepalive",
  notification: "notification",
  "route-refresh": "routeRefresh",
};
const TIMER_EVENT: Readonly<Record<TimerName, FsmEvent["type"]>> = {
  ConnectRetry: "ConnectRetryTimerExpires",
  Hold: "HoldTimerExpires",
  Keepalive: "KeepaliveTimerExpires",
  IdleHold: "IdleHoldTimerExpires",
  Stable: "StableTimerExpires",
};

/** Capability names for status: what both sides agreed on. */
export function capabilityNames(n: Negotiated): string[] {
  const names = n.families.map((f) =>
    sameAfiSafi(f, IPV4_UNICAST)
      ? "ipv4-unicast"
      : sameAfiSafi(f, IPV6_UNICAST)
        ? "ipv6-unicast"
        : `afi${f.afi}-safi${f.safi}`,
  );
  if (n.fourOctetAS) names.push("4-octet-as");
  if (n.routeRefresh) names.push("route-refresh");
  if (n.gracefulRestart) names.push("graceful-restart");
  if (n.extendedNextHop.some((f) => sameAfiSafi(f, IPV4_UNICAST))) names.push("extended-nexthop-ipv4");
  return names;
}

export class BgpSession {
  private fsm: FsmState;
  private readonly peerIP: IP;
  private readonly timers = new Map<TimerName, NodeJS.Timeout>();
  private conn?: { dialled: Dialled; reader: MessageReader; id: number };
  private connSeq = 0;
  private queue: FsmEvent[] = [];
  private running = false;
  private since = new Date();
  private desired: AdvertisedRoute[] = [];
  /** Adj-RIB-Out: what the peer has from us on the current session. */
  private sent: ReadonlyMap<string, Route> = new Map();
  private initialDone = false;
  private pending = 0;
  /** Distinct prefixes the peer announced, per family (RFC 4271 §9: they are never installed). */
  private readonly received4 = new PrefixSet();
  private readonly received6 = new PrefixSet();
  private readonly maxPrefixes: number;
  /** Messages read and not yet handled, from `inboxAt` on (the current connection only). */
  private inbox: Frame[] = [];
  private inboxAt = 0;
  /** UPDATEs waiting for the socket to drain (the current connection only). */
  private outbox: UpdateMessage[] = [];
  /** write() returned false and 'drain' has not come yet. */
  private blocked = false;
  /** setRoutes arrived while the outbox was busy: plan again once it is empty. */
  private advertisePending = false;
  private workQueued = false;
  private refresh: RefreshState;
  private readonly refreshTimers = new Map<string, NodeJS.Timeout>();
  /** ROUTE-REFRESH answers in progress: the prefixes still to send, in Adj-RIB-Out order. */
  private jobs: { family: AfiSafi; keys: string[]; next: number }[] = [];
  private readonly sentCount = zero();
  private readonly receivedCount = zero();
  private localAddress?: IP;
  /** With dualStackAddressFamily: the node's address of the other family, found once TCP is up. */
  private otherFamilyAddress?: IP;
  /** BGP unnumbered: the node's global IPv6 address on the session's interface, if it has one. */
  private interfaceGlobalAddress?: IP;
  /** Why routes could not be sent, as last logged (once per reason and connection). */
  private unsentReasons = "";
  private lastError?: string;
  /** The socket error of the current connection attempt, which says more than the FSM's "TCP connection failed". */
  private tcpError?: string;
  private stopped = false;

  constructor(
    readonly config: SessionConfig,
    private readonly observer: SessionObserver = {},
    private readonly dialer: Dialer = defaultDial,
    private readonly hostAddresses: HostAddresses = osHostAddresses,
  ) {
    const routerId = parseIP(config.routerId);
    const peer = parseIP(config.peerAddress);
    if (!routerId || routerId.family !== 4) throw new Error(`router ID ${config.routerId} is not an IPv4 address`);
    if (!peer) throw new Error(`peer address ${config.peerAddress} is not an IP address`);
    this.peerIP = peer;
    this.maxPrefixes = config.maxPrefixes ?? DEFAULT_MAX_PREFIXES;
    if (!Number.isInteger(this.maxPrefixes) || this.maxPrefixes < 1)
      throw new Error(`maxPrefixes ${config.maxPrefixes} is not a positive integer`);
    this.refresh = refreshState((config.refreshInterval ?? 5) * 1000);
    this.fsm = initialState(
      fsmConfig({
        localAS: config.localAS,
        routerId,
        ...(config.peerAS !== undefined ? { peerAS: config.peerAS } : {}),
        ...(config.dynamicASN !== undefined ? { dynamicPeerAS: config.dynamicASN } : {}),
        holdTime: config.holdTime ?? 90,
        ...(config.families ? { families: config.families } : {}),
        ...(config.gracefulRestart
          ? { gracefulRestart: { restartTime: config.restartTime ?? 120, forwardingState: true } }
          : {}),
        ...(config.interface ? { extendedNextHop: [IPV4_OVER_IPV6] } : {}),
        connectRetryTime: config.connectRetryTime ?? 10,
        ...(config.keepaliveTime !== undefined ? { keepaliveTime: config.keepaliveTime } : {}),
        ...(config.backoff ? { backoff: config.backoff } : {}),
        restarting: Boolean(config.gracefulRestart && config.restarting),
      }),
    );
  }

  /** "addr:port", MetalLB's metric label; the interface name for BGP unnumbered (FRR names such a neighbor so). */
  get peer(): string {
    if (this.config.interface) return this.config.interface;
    const port = this.config.peerPort ?? 179;
    return this.peerIP.family === 6 ? `[${this.config.peerAddress}]:${port}` : `${this.config.peerAddress}:${port}`;
  }

  get state(): StateName {
    return this.fsm.name;
  }

  start(): void {
    this.stopped = false;
    this.dispatch({ type: "ManualStart" });
  }

  /**
   * Clean stop: NOTIFICATION Cease / Administrative Shutdown when a session
   * is open (RFC 4486), then close. Resolves once the socket is closed.
   */
  stop(): Promise<void> {
    this.stopped = true;
    const closed = this.conn ? this.closedPromise(this.conn.dialled.socket) : Promise.resolve();
    this.dispatch({ type: "ManualStop" });
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.resetRouteState();
    return closed;
  }

  /** Replaces the routes to advertise; sends the minimal UPDATEs when Established. */
  setRoutes(routes: readonly AdvertisedRoute[]): void {
    this.desired = [...routes];
    if (this.fsm.name === "Established" && this.initialDone) {
      // A busy outbox plans later, from whatever is wanted by then (one plan queued, at most).
      if (this.outbox.length > 0 || this.blocked) {
        this.advertisePending = true;
        this.scheduleWork();
      } else this.guard(() => this.advertise(), "advertising");
    } else this.pending = this.desired.length;
    this.changed(false);
  }

  snapshot(): SessionSnapshot {
    const n = this.fsm.negotiated;
    return {
      peer: this.peer,
      state: this.fsm.name,
      since: this.since,
      ...(n ? { negotiatedHoldTime: n.holdTime, negotiatedKeepaliveTime: n.keepaliveTime } : {}),
      capabilities: n ? capabilityNames(n) : [],
      advertisedPrefixes: this.sent.size,
      pendingPrefixes: this.pending,
      receivedPrefixes: this.received4.size + this.received6.size,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      ...(this.config.interface ? { linkLocalPeer: this.config.peerAddress } : {}),
      sent: { ...this.sentCount },
      received: { ...this.receivedCount },
      initialAdvertisementDone: this.initialDone,
    };
  }

  // ------------------------------------------------------------------ FSM driving

  private dispatch(event: FsmEvent): void {
    this.queue.push(event);
    if (this.running) return; // actions may raise events; handle them in order
    this.running = true;
    try {
      for (let e = this.queue.shift(); e; e = this.queue.shift()) this.handle(e);
    } finally {
      this.running = false;
    }
  }

  private handle(event: FsmEvent): void {
    const before = this.fsm.name;
    const failuresBefore = this.fsm.failures;
    const sentBefore = this.sentCount.notification;
    let actions: readonly FsmAction[] = [];
    try {
      const r = step(this.fsm, event);
      this.fsm = r.state;
      actions = r.actions;
    } catch (err) {
      this.log("warn", `FSM failed on ${event.type}: ${(err as Error).message}`);
      return;
    }
    for (const a of actions) this.guard(() => this.execute(a), a.type);
    // The FSM's reason in words, unless a NOTIFICATION (ours or theirs) already said it better.
    // Counted, not compared: the same words twice are still a new failure.
    if (
      this.fsm.lastError !== undefined &&
      this.fsm.failures !== failuresBefore &&
      event.type !== "NotifMsg" &&
      !(event.type === "TcpConnectionFails" && this.tcpError !== undefined) &&
      this.sentCount.notification === sentBefore
    ) {
      this.lastError = this.fsm.lastError;
    }
    const changed = before !== this.fsm.name;
    if (changed) {
      this.since = new Date();
      this.log(
        "info",
        `${before} -> ${this.fsm.name}${this.fsm.name === "Idle" && this.lastError ? ` (${this.lastError})` : ""}`,
      );
    }
    this.changed(changed);
  }

  /** Runs an action; on an exception drops the connection so the FSM retries. */
  private guard(fn: () => void, what: string): void {
    try {
      fn();
    } catch (err) {
      const reason = `internal error while ${what}: ${(err as Error).message}`;
      this.log("warn", reason);
      this.lastError = reason;
      if (this.conn && !this.stopped) {
        this.dropConnection();
        this.dispatch({ type: "TcpConnectionFails" });
      }
    }
  }

  private execute(a: FsmAction): void {
    switch (a.type) {
      case "ConnectTcp":
        return this.connect();
      case "DropConnection":
        return this.dropConnection();
      case "SendOpen":
        return this.send(a.message);
      case "SendKeepalive":
        return this.send({ type: "keepalive" });
      case "SendNotification":
        this.lastError = `sent NOTIFICATION: ${describeNotification(a.code, a.subcode)} (${a.reason})`;
        return this.send({ type: "notification", code: a.code, subcode: a.subcode, data: a.data });
      case "SendUpdate":
        return this.queueUpdates([a.message]);
      case "StartTimer":
        return this.startTimer(a.timer, a.seconds);
      case "StopTimer":
        return this.stopTimer(a.timer);
      case "SessionEstablished":
        return this.established();
      case "SessionDown":
        this.sent = new Map();
        this.initialDone = false;
        this.pending = this.desired.length;
        return this.resetRouteState();
      case "ProcessUpdate":
        return this.received(a.message, a.treatAsWithdraw);
      case "ResendRoutes":
        return this.refreshStep(a.family, this.refreshNext(refreshRequested, a.family));
    }
  }

  private startTimer(timer: TimerName, seconds: number): void {
    this.stopTimer(timer);
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(timer);
      if (timer === "IdleHold" && this.bfdHeld()) return; // see bfdDown()
      this.dispatch({ type: TIMER_EVENT[timer] } as FsmEvent);
    }, seconds * 1000);
    this.timers.set(timer, t);
  }

  private stopTimer(timer: TimerName): void {
    const t = this.timers.get(timer);
    if (t) clearTimeout(t);
    this.timers.delete(timer);
  }

  // ------------------------------------------------------------------ BFD (RFC 5882)

  /** BFD to the peer failed (Up -> Down) and has not been Up since: no new connection. */
  private bfdHold = false;
  /** The IdleHold timer fired during the hold: re-dial once it is lifted. */
  private idleHoldDue = false;

  /**
   * The BFD session to the peer went from Up to Down (agent/bfd/coupling.ts decides):
   * tear the session down now with Cease / BFD Down, and re-dial only once BFD is Up again.
   */
  bfdDown(): void {
    this.bfdHold = true;
    this.dispatch({ type: "BfdDown" });
  }

  /** BFD is Up again, was stopped, or the peer set it AdminDown: the hold is lifted. */
  bfdReleased(): void {
    this.bfdHold = false;
    if (!this.idleHoldDue) return;
    this.idleHoldDue = false;
    this.dispatch({ type: "IdleHoldTimerExpires" });
  }

  private bfdHeld(): boolean {
    if (this.bfdHold) this.idleHoldDue = true;
    return this.bfdHold;
  }

  // ------------------------------------------------------------------ connection

  private ttl(): number {
    // Directly connected eBGP: TTL 1; multihop and iBGP: 255 (see transport.ts).
    const ebgp = this.config.dynamicASN
      ? this.config.dynamicASN === "external"
      : this.config.peerAS === undefined || this.config.peerAS !== this.config.localAS;
    return ebgp && !this.config.ebgpMultiHop ? 1 : 255;
  }

  private connect(): void {
    this.dropConnection();
    const id = ++this.connSeq;
    const current = (): boolean => this.conn?.id === id;
    let up = false;
    // TCP is up: from the dialer, or implied by the first bytes from the peer (an addon
    // socket's completion is polled, and the peer's OPEN can beat the poll).
    const tcpUp = (): void => {
      if (up || !current()) return;
      up = true;
      const local = this.conn?.dialled.socket.localAddress;
      // An IPv4-mapped address is IPv4; a link-local one carries its zone ("fe80::1%eth1").
      this.localAddress = local ? parseZonedIP(local.replace(/^::ffff:(?=\d+\.)/, "")) : undefined;
      this.otherFamilyAddress = this.findOtherFamilyAddress();
      this.interfaceGlobalAddress =
        this.config.interface && this.localAddress ? this.hostAddresses(this.localAddress, 6) : undefined;
      this.unsentReasons = "";
      this.dispatch({ type: "TcpCRAcked" });
    };
    let dialled: Dialled;
    try {
      dialled = this.dialer(
        {
          host: this.config.interface ? `${this.config.peerAddress}%${this.config.interface}` : this.config.peerAddress,
          port: this.config.peerPort ?? 179,
          ...(this.config.password ? { password: this.config.password } : {}),
          ...(this.config.sourceAddress ? { sourceAddress: this.config.sourceAddress } : {}),
          ttl: this.ttl(),
        },
        tcpUp,
      );
    } catch (err) {
      this.lastError = `cannot connect: ${(err as Error).message}`;
      this.dispatch({ type: "TcpConnectionFails" });
      return;
    }
    const socket = dialled.socket;
    this.tcpError = undefined;
    const reader = new MessageReader();
    this.conn = { dialled, reader, id };
    this.outbox = [];
    this.blocked = false;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      if (!current()) return;
      tcpUp();
      const frames = reader.push(chunk);
      this.inbox = this.inboxAt < this.inbox.length ? [...this.inbox.slice(this.inboxAt), ...frames] : frames;
      this.inboxAt = 0;
      this.readInbox(id);
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      if (!current()) return;
      this.lastError = this.tcpError = `TCP: ${err.code ?? err.message}`;
    });
    socket.on("close", () => {
      if (!current()) return;
      this.conn = undefined;
      this.dispatch({ type: "TcpConnectionFails" });
    });
  }

  /**
   * Handles read messages in slices (INBOUND_SLICE messages or milliseconds, whichever is
   * reached first), pausing the socket and yielding between them. One read can hold
   * thousands of small messages (10,000 ROUTE-REFRESH are 230 KB); handled in one go they
   * held the event loop for hundreds of milliseconds. While paused, TCP flow control
   * slows the peer down.
   */
  private readInbox(id: number): void {
    const c = this.conn;
    if (c?.id !== id) return;
    const until = performance.now() + INBOUND_SLICE.ms;
    for (let n = 0; n < INBOUND_SLICE.messages && this.inboxAt < this.inbox.length && performance.now() < until; n++) {
      this.handleFrame(this.inbox[this.inboxAt++]!);
      if (this.conn?.id !== id) return;
    }
    if (this.inboxAt < this.inbox.length) {
      c.dialled.socket.pause();
      setImmediate(() => this.readInbox(id));
      return;
    }
    this.inbox = [];
    this.inboxAt = 0;
    if (c.dialled.socket.isPaused()) c.dialled.socket.resume();
  }

  private handleFrame(frame: Frame): void {
    let event: FsmEvent;
    try {
      event = frameToEvent(frame, {
        fourOctetAS: this.fsm.negotiated?.fourOctetAS ?? true,
        ebgp: this.isEbgp(),
        ...(this.localAddress ? { localAddresses: [this.localAddress] } : {}),
      });
    } catch (err) {
      this.log("warn", `decoding a message failed: ${(err as Error).message}`);
      return;
    }
    this.countReceived(event);
    this.dispatch(event);
  }

  private dropConnection(): void {
    const c = this.conn;
    if (!c) return;
    this.conn = undefined;
    this.outbox = [];
    this.blocked = false;
    this.inbox = [];
    this.inboxAt = 0;
    c.dialled.cancel();
    const s = c.dialled.socket;
    // Let a queued NOTIFICATION leave first (end() flushes, then FIN); force after 1 s.
    s.end();
    const t = setTimeout(() => s.destroy(), 1000);
    t.unref();
    s.once("close", () => clearTimeout(t));
    s.on("error", () => undefined);
  }

  private closedPromise(s: net.Socket): Promise<void> {
    if (s.destroyed) return Promise.resolve();
    return new Promise((resolve) => s.once("close", () => resolve()));
  }

  /**
   * Writes one message now. OPEN, KEEPALIVE and NOTIFICATION come here directly, even
   * when the socket asked us to wait: a KEEPALIVE held behind a backlog of UPDATEs
   * could reach the peer after its hold timer (RFC 4271 §4.4) and cost the session.
   * Sent past a full buffer, it waits behind at most what is already in the socket (the
   * outbox stops at write() === false), and it is 19 octets once per keepalive period,
   * so it cannot grow the buffer without bound. UPDATEs go through `queueUpdates`.
   */
  private send(msg: Message): void {
    const c = this.conn;
    if (!c) return;
    const bytes = encodeMessage(msg, { fourOctetAS: this.fsm.negotiated?.fourOctetAS ?? true });
    if (!c.dialled.socket.write(bytes)) this.waitForDrain(c);
    const kind = KIND[msg.type];
    this.sentCount[kind]++;
    this.observer.onMessage?.("sent", kind, this.peer);
    if (msg.type === "update" && endOfRibFamily(msg) === undefined) this.observer.onRoutesSent?.(1, this.peer);
  }

  private waitForDrain(c: NonNullable<BgpSession["conn"]>): void {
    if (this.blocked) return;
    this.blocked = true;
    c.dialled.socket.once("drain", () => {
      if (this.conn?.id !== c.id) return;
      this.blocked = false;
      this.scheduleWork();
    });
  }

  /** UPDATEs in order, behind any already waiting; written while the socket takes them. */
  private queueUpdates(updates: readonly UpdateMessage[]): void {
    if (!this.conn) return;
    for (const u of updates) this.outbox.push(u);
    this.flush();
  }

  /** Writes waiting UPDATEs until the socket asks to wait; true when none are left. */
  private flush(): boolean {
    let i = 0;
    while (i < this.outbox.length && !this.blocked && this.conn) this.send(this.outbox[i++]!);
    this.outbox = i === this.outbox.length ? [] : this.outbox.slice(i);
    return this.outbox.length === 0;
  }

  /** Continues queued work on a later turn of the event loop (after I/O waiting now). */
  private scheduleWork(): void {
    if (this.workQueued) return;
    this.workQueued = true;
    setImmediate(() => {
      this.workQueued = false;
      this.guard(() => this.work(), "sending routes");
    });
  }

  /** One step: drain the outbox, then a deferred plan, then one slice of a refresh answer. */
  private work(): void {
    if (!this.conn || this.fsm.name !== "Established") return;
    const sent = this.sentCount.update;
    if (this.flush()) {
      if (this.advertisePending) {
        this.advertisePending = false;
        this.advertise();
      } else this.resendSlice();
      if (!this.blocked && (this.outbox.length > 0 || this.advertisePending || this.jobs.length > 0))
        this.scheduleWork();
    } // else 'drain' schedules the next step
    if (this.sentCount.update !== sent) this.changed(false);
  }

  private countReceived(e: FsmEvent): void {
    const kind: MessageKind | undefined =
      e.type === "BGPOpen"
        ? "open"
        : e.type === "KeepAliveMsg"
          ? "keepalive"
          : e.type === "UpdateMsg" || e.type === "UpdateMsgErr"
            ? "update"
            : e.type === "NotifMsg"
              ? "notification"
              : e.type === "RouteRefreshMsg"
                ? "routeRefresh"
                : undefined;
    if (e.type === "NotifMsg")
      this.lastError = `peer sent NOTIFICATION: ${describeNotification(e.message.code, e.message.subcode)}`;
    if (!kind) return;
    this.receivedCount[kind]++;
    this.observer.onMessage?.("received", kind, this.peer);
  }

  // ------------------------------------------------------------------ routes

  private isEbgp(): boolean {
    const peerAS = this.fsm.negotiated?.peerAS ?? this.config.peerAS;
    return peerAS === undefined || peerAS !== this.config.localAS;
  }

  private nextHopsFor(prefix: CIDR): { nextHop: IP; linkLocalNextHop?: IP } | undefined {
    if (this.config.interface) {
      // Unnumbered: IPv6 next hops for both families (RFC 8950 for IPv4).
      const own = this.localAddress;
      if (own?.family !== 6) return undefined;
      const global = this.interfaceGlobalAddress;
      return global ? { nextHop: global, linkLocalNextHop: own } : { nextHop: own };
    }
    const nextHop = this.nextHopFor(prefix);
    return nextHop ? { nextHop } : undefined;
  }

  private nextHopFor(prefix: CIDR): IP | undefined {
    const override = prefix.family === 4 ? this.config.nextHop4 : this.config.nextHop6;
    if (override) return parseIP(override);
    // MetalLB: the next hop is the local address of the TCP session.
    if (this.localAddress?.family === prefix.family) return this.localAddress;
    return this.otherFamilyAddress?.family === prefix.family ? this.otherFamilyAddress : undefined;
  }

  /** dualStackAddressFamily: the node's address of the other family beside the session's own. */
  private findOtherFamilyAddress(): IP | undefined {
    if (!this.config.dualStackAddressFamily || !this.localAddress) return undefined;
    const family = this.localAddress.family === 4 ? 6 : 4;
    if ((family === 4 ? this.config.nextHop4 : this.config.nextHop6) !== undefined) return undefined;
    const found = this.hostAddresses(this.localAddress, family);
    if (!found)
      this.observer.log?.(
        "warn",
        `dualStackAddressFamily: the interface of ${formatIP(this.localAddress)} has no IPv${family} address other than link-local; IPv${family} routes are not sent to ${this.peer}`,
      );
    return found;
  }

  /**
   * Our routes as wire routes: eBGP AS_PATH [localAS]; iBGP empty AS_PATH + LOCAL_PREF (RFC 4271
   * §5.1.2, §5.1.5); a draining route also carries GRACEFUL_SHUTDOWN (graceful-shutdown.ts).
   */
  private wireRoutes(): Route[] {
    const ebgp = this.isEbgp();
    const out: Route[] = [];
    for (const r of this.desired) {
      const hops = this.nextHopsFor(r.prefix);
      if (!hops) continue;
      const attributes: RouteAttributes = {
        asPath: ebgp ? [{ type: "sequence", asns: [this.config.localAS] }] : [],
        ...(ebgp ? {} : { localPref: r.localPref ?? 100 }),
        ...(r.med !== undefined ? { med: r.med } : {}),
        ...(r.communities?.length ? { communities: r.communities } : {}),
        ...(r.linkBandwidth !== undefined
          ? { extendedCommunities: [linkBandwidthCommunity(this.config.localAS, r.linkBandwidth)] }
          : {}),
        ...(r.largeCommunities?.length ? { largeCommunities: r.largeCommunities } : {}),
      };
      out.push({
        prefix: r.prefix,
        ...hops,
        attributes: r.gracefulShutdown ? shutdownAttributes(attributes, !ebgp) : attributes,
      });
    }
    return out;
  }

  private planOptions(): { families: readonly AfiSafi[]; extendedNextHop: readonly AfiSafi[]; fourOctetAS: boolean } {
    const n = this.fsm.negotiated!;
    return { families: n.families, extendedNextHop: n.extendedNextHop, fourOctetAS: n.fourOctetAS };
  }

  /** Sends what changed since the last plan. */
  private advertise(): void {
    const plan = planUpdates(this.sent, this.wireRoutes(), this.planOptions());
    this.sent = plan.sent;
    // Say once why routes stay unsent (for example a peer that refused RFC 8950 next hops).
    const reasons = [...new Set(plan.rejected.map((r) => r.reason))].sort().join("; ");
    if (reasons && reasons !== this.unsentReasons)
      this.log("warn", `${plan.rejected.length} route(s) not sent to ${this.peer}: ${reasons}`);
    this.unsentReasons = reasons;
    this.pending = Math.max(0, this.desired.length - this.sent.size);
    this.queueUpdates(plan.updates);
  }

  private established(): void {
    this.lastError = undefined;
    this.sent = new Map();
    this.advertise();
    this.initialDone = true;
    // RFC 4724 §4: End-of-RIB per negotiated family after the initial update.
    this.dispatch({ type: "InitialAdvertisementDone" });
  }

  /** Applies what refresh.ts decided for a family. */
  private refreshStep(family: AfiSafi, action: RefreshAction): void {
    const key = `${family.afi}/${family.safi}`;
    if (action.type === "start") {
      // RFC 2918 §4: the Adj-RIB-Out of that family, as it is when each slice goes out.
      const keys: string[] = [];
      for (const [k, r] of this.sent) if ((r.prefix.family === 4) === sameAfiSafi(family, IPV4_UNICAST)) keys.push(k);
      this.jobs.push({ family, keys, next: 0 });
      this.scheduleWork();
    } else if (action.type === "wait") {
      clearTimeout(this.refreshTimers.get(key));
      const t = setTimeout(
        () => {
          this.refreshTimers.delete(key);
          this.guard(() => this.refreshStep(family, this.refreshNext(refreshDue, family)), "answering a route refresh");
        },
        Math.max(0, action.atMs - Date.now()),
      );
      this.refreshTimers.set(key, t);
    }
  }

  private refreshNext(fn: typeof refreshDue, family: AfiSafi): RefreshAction {
    const r = fn(this.refresh, family, Date.now());
    this.refresh = r.state;
    return r.action;
  }

  /**
   * Queues the next RESEND_SLICE routes of the oldest refresh answer. Each route is
   * taken from the Adj-RIB-Out as it is now, so a route changed or withdrawn since the
   * answer began is sent as it stands (or not at all), after the UPDATE that changed it.
   */
  private resendSlice(): void {
    const job = this.jobs[0];
    if (!job) return;
    const end = Math.min(job.keys.length, job.next + RESEND_SLICE);
    const routes: Route[] = [];
    for (let i = job.next; i < end; i++) {
      const r = this.sent.get(job.keys[i]!);
      if (r) routes.push(r);
    }
    job.next = end;
    if (routes.length > 0) this.queueUpdates(planUpdates(new Map(), routes, this.planOptions()).updates);
    if (job.next < job.keys.length) return;
    this.jobs.shift();
    this.refreshStep(job.family, this.refreshNext(refreshDone, job.family));
  }

  /** Forgets everything tied to an Established session: received prefixes, outbox, refresh answers. */
  private resetRouteState(): void {
    this.received4.clear();
    this.received6.clear();
    this.outbox = [];
    this.advertisePending = false;
    this.jobs = [];
    for (const t of this.refreshTimers.values()) clearTimeout(t);
    this.refreshTimers.clear();
    this.refresh = refreshState(this.refresh.minIntervalMs);
  }

  private received(u: UpdateMessage, treatAsWithdraw: boolean): void {
    const count = (prefixes: readonly CIDR[], add: boolean): void => {
      for (const p of prefixes) {
        const set = p.family === 4 ? this.received4 : this.received6;
        if (add) set.add(p);
        else set.delete(p);
      }
    };
    count(u.withdrawn, false);
    count(u.nlri, !treatAsWithdraw);
    for (const a of u.attributes) {
      if (a.type === "mp-unreach") count(a.withdrawn, false);
      if (a.type === "mp-reach") count(a.nlri, !treatAsWithdraw);
    }
    // RFC 4486 §4: past the limit, Cease / Maximum Number of Prefixes Reached for that family.
    for (const [set, family] of [
      [this.received4, IPV4_UNICAST],
      [this.received6, IPV6_UNICAST],
    ] as const) {
      if (set.size > this.maxPrefixes) {
        this.dispatch({ type: "MaxPrefixesExceeded", family, limit: this.maxPrefixes });
        return;
      }
    }
  }

  // ------------------------------------------------------------------ reporting

  private changed(stateChanged: boolean): void {
    try {
      this.observer.onChange?.(this.snapshot(), stateChanged);
    } catch (err) {
      this.log("warn", `status observer failed: ${(err as Error).message}`);
    }
  }

  private log(level: "info" | "warn" | "debug", msg: string): void {
    try {
      this.observer.log?.(level, `bgp ${this.peer}: ${msg}`);
    } catch {
      // logging must never break the session
    }
  }
}
