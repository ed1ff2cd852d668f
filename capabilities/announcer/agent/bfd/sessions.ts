/**
 * The agent's BFD sessions: the socket and timer shell around the pure state machine
 * (fsm.ts). Clients (BGP sessions) acquire a session for a peer and hear its state
 * changes; a session shared by several clients runs once.
 *
 * - Identity: (single hop or multihop, peer address, local address). A packet with
 *   Your Discriminator set is matched by it; one with zero (the peer does not know us
 *   yet, §6.8.6) by source address and hop mode. Unknown sessions are not created from
 *   received packets: we only run sessions a client asked for.
 * - Receive sockets (transport.ts) are opened on first use per family and hop mode and
 *   closed with their last session; the multihop filter is rebuilt as peers come and go.
 * - Release: AdminDown (§6.8.16) is sent for up to a Detection Time (lingerMs), then the
 *   send socket closes, so the peer sees an administrative stop and not a failure.
 * - Every received packet and every timer runs through `guard`: an exception is logged and
 *   never reaches the process.
 */
import { parseZonedIP, type Family } from "../../../shared/net/ip";
import {
  detectionTimeUs,
  initialState,
  lingerMs,
  step,
  transmitIntervalUs,
  type BfdAction,
  type BfdConfig,
  type BfdEvent,
  type BfdFsmState,
  type BfdTimer,
} from "./fsm";
import { BfdState, STATE_NAMES, decode, describeDiag, encode } from "./packet";
import {
  BfdSocket,
  DROP_ALL,
  MULTIHOP_PORT,
  SINGLE_HOP_PORT,
  multihopFilter,
  singleHopFilter,
  type Datagram,
} from "./transport";

export type BfdStateName = (typeof STATE_NAMES)[BfdState];

export interface BfdPeer {
  readonly peerAddress: string;
  /** Bind the send socket to this address (the BGP session's source address). */
  readonly localAddress?: string;
  /** RFC 5883 multihop (port 4784) instead of RFC 5881 single hop (port 3784). */
  readonly multihop: boolean;
  /** Multihop only: the smallest TTL accepted from the peer (RFC 5883 §5). */
  readonly minimumTtl?: number;
  readonly config: BfdConfig;
}

export interface BfdSnapshot {
  readonly state: BfdStateName;
  readonly remoteState: BfdStateName;
  /** Why the local state last changed (RFC 5880 §4.1 diag), in words. */
  readonly localDiagnostic: string;
  readonly remoteDiagnostic: string;
  readonly since: Date;
  readonly localDiscriminator: number;
  readonly remoteDiscriminator: number;
  /** Negotiated transmit interval, ms (0: none). */
  readonly transmitIntervalMs: number;
  /** Detection Time, ms (0: nothing heard yet). */
  readonly detectionTimeMs: number;
  readonly multihop: boolean;
  readonly packetsSent: number;
  readonly packetsReceived: number;
  readonly upEvents: number;
  readonly downEvents: number;
}

export interface BfdListener {
  /** The state changed (also called once on acquire with the current state). */
  (snapshot: BfdSnapshot, from: BfdStateName | undefined): void;
}

export interface BfdObserver {
  onPacket?(direction: "input" | "output", peer: string): void;
  onStateChange?(peer: string, from: BfdStateName, to: BfdStateName): void;
  onRemoved?(peer: string): void;
  log?(level: "info" | "warn" | "debug", msg: string): void;
}

interface Session {
  readonly id: string;
  peer: BfdPeer;
  readonly family: Family;
  fsm: BfdFsmState;
  tx?: BfdSocket;
  readonly timers: Map<BfdTimer, NodeJS.Timeout>;
  readonly listeners: Map<string, BfdListener>;
  since: Date;
  sent: number;
  received: number;
  upEvents: number;
  downEvents: number;
  closing: boolean;
}

const idOf = (p: BfdPeer): string =>
  `${p.multihop ? "multihop" : "single-hop"}|${p.peerAddress}|${p.localAddress ?? ""}`;
const socketKey = (family: Family, multihop: boolean): string => `${family}|${multihop ? "mh" : "sh"}`;

export class BfdSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly byDiscr = new Map<number, Session>();
  private readonly owners = new Map<string, string>();
  private readonly rxSockets = new Map<string, Promise<BfdSocket>>();
  private readonly creating = new Map<string, Promise<Session>>();

  constructor(private readonly observer: BfdObserver = {}) {}

  /**
   * Runs (or joins) the session for `peer` on behalf of `owner`; `listener` hears every
   * state change. An owner that acquires again with another peer moves to it.
   */
  async acquire(owner: string, peer: BfdPeer, listener: BfdListener): Promise<void> {
    const id = idOf(peer);
    if (this.owners.get(owner) !== undefined && this.owners.get(owner) !== id) await this.release(owner);
    this.owners.set(owner, id);
    let s = this.sessions.get(id);
    if (s && s.closing) s = undefined;
    if (!s) {
      // Two owners asking at once share one creation.
      let creating = this.creating.get(id);
      if (!creating) {
        creating = this.create(id, peer).finally(() => this.creating.delete(id));
        this.creating.set(id, creating);
      }
      try {
        s = await creating;
      } catch (err) {
        if (this.owners.get(owner) === id) this.owners.delete(owner);
        throw err;
      }
    } else if (JSON.stringify(s.peer.config) !== JSON.stringify(peer.config)) {
      s.peer = { ...s.peer, config: peer.config };
      this.dispatch(s, { type: "Configure", config: peer.config });
    }
    s.listeners.set(owner, listener);
    listener(this.snapshotOf(s), undefined);
  }

  /** Stops listening; the last owner's release takes the session down (AdminDown first). */
  async release(owner: string): Promise<void> {
    const id = this.owners.get(owner);
    this.owners.delete(owner);
    const s = id ? this.sessions.get(id) : undefined;
    if (!s) return;
    s.listeners.delete(owner);
    if (s.listeners.size === 0) await this.close(s);
  }

  snapshot(owner: string): BfdSnapshot | undefined {
    const id = this.owners.get(owner);
    const s = id ? this.sessions.get(id) : undefined;
    return s ? this.snapshotOf(s) : undefined;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => this.close(s)));
    for (const p of this.rxSockets.values()) void p.then((sock) => sock.close()).catch(() => undefined);
    this.rxSockets.clear();
  }

  // ------------------------------------------------------------------ sessions

  private async create(id: string, peer: BfdPeer): Promise<Session> {
    const ip = parseZonedIP(peer.peerAddress);
    if (!ip) throw new Error(`BFD peer address ${peer.peerAddress} is not an IP address`);
    let discr = 0;
    while (discr === 0 || this.byDiscr.has(discr)) discr = (Math.random() * 0x100000000) >>> 0;
    const s: Session = {
      id,
      peer,
      family: ip.family,
      fsm: initialState(peer.config, discr),
      timers: new Map(),
      listeners: new Map(),
      since: new Date(),
      sent: 0,
      received: 0,
      upEvents: 0,
      downEvents: 0,
      closing: false,
    };
    this.sessions.set(id, s);
    this.byDiscr.set(discr, s);
    try {
      await this.receiveSocket(s.family, peer.multihop);
      s.tx = await BfdSocket.open(s.family, peer.localAddress, 0, DROP_ALL);
    } catch (err) {
      this.forget(s);
      throw err;
    }
    this.log("info", `BFD session to ${peer.peerAddress} (${peer.multihop ? "multihop" : "single hop"}) started`);
    // The metrics show a session from its start (Down), not from its first change.
    this.observer.onStateChange?.(peer.peerAddress, "Down", "Down");
    this.dispatch(s, { type: "Start" });
    return s;
  }

  private async close(s: Session): Promise<void> {
    if (s.closing) return;
    s.closing = true;
    this.dispatch(s, { type: "Stop" });
    const linger = lingerMs(s.fsm);
    if (linger > 0) await new Promise((r) => setTimeout(r, linger));
    this.forget(s);
    this.observer.onRemoved?.(s.peer.peerAddress);
  }

  private forget(s: Session): void {
    for (const t of s.timers.values()) clearTimeout(t);
    s.timers.clear();
    s.tx?.close();
    if (this.sessions.get(s.id) === s) this.sessions.delete(s.id);
    if (this.byDiscr.get(s.fsm.localDiscr) === s) this.byDiscr.delete(s.fsm.localDiscr);
    void this.refreshSockets(s.family, s.peer.multihop);
  }

  // ------------------------------------------------------------------ receive sockets

  private receiveSocket(family: Family, multihop: boolean): Promise<BfdSocket> {
    const key = socketKey(family, multihop);
    let p = this.rxSockets.get(key);
    if (!p) {
      const port = multihop ? MULTIHOP_PORT : SINGLE_HOP_PORT;
      p = BfdSocket.open(family, undefined, port, this.filterFor(family, multihop), (d) =>
        this.guard(() => this.onDatagram(d, multihop), "receiving"),
      );
      this.rxSockets.set(key, p);
      p.catch(() => this.rxSockets.delete(key));
    } else if (multihop) {
      void p.then((sock) => sock.setFilter(this.filterFor(family, true))).catch(() => undefined);
    }
    return p;
  }

  private filterFor(family: Family, multihop: boolean) {
    if (!multihop) return singleHopFilter(family);
    const rules = [...this.sessions.values()]
      .filter((s) => s.peer.multihop && s.family === family)
      .map((s) => ({ source: parseZonedIP(s.peer.peerAddress)!, minTtl: s.peer.minimumTtl ?? 254 }));
    return multihopFilter(family, rules);
  }

  /** Closes a receive socket with no sessions left; refreshes the multihop filter. */
  private async refreshSockets(family: Family, multihop: boolean): Promise<void> {
    const key = socketKey(family, multihop);
    const p = this.rxSockets.get(key);
    if (!p) return;
    const users = [...this.sessions.values()].some((s) => s.family === family && s.peer.multihop === multihop);
    try {
      const sock = await p;
      if (!users) {
        if (this.rxSockets.get(key) === p) this.rxSockets.delete(key);
        sock.close();
      } else if (multihop) sock.setFilter(this.filterFor(family, true));
    } catch {
      // the socket never opened; nothing to close
    }
  }

  private onDatagram(d: Datagram, multihop: boolean): void {
    const r = decode(d.data);
    if (!r.ok) {
      this.log("debug", `BFD packet from ${d.address}:${d.port} discarded: ${r.reason}`);
      return;
    }
    const p = r.packet;
    let s: Session | undefined;
    if (p.yourDiscriminator !== 0) s = this.byDiscr.get(p.yourDiscriminator);
    else {
      const from = parseZonedIP(d.address);
      for (const c of this.sessions.values()) {
        const peer = parseZonedIP(c.peer.peerAddress);
        if (c.peer.multihop === multihop && from && peer && peer.family === from.family && peer.value === from.value) {
          s = c;
          break;
        }
      }
    }
    // §6.8.6: no session for the packet, or one of the other hop mode: discard.
    if (!s || s.peer.multihop !== multihop) return;
    s.received++;
    this.observer.onPacket?.("input", s.peer.peerAddress);
    this.dispatch(s, { type: "Received", packet: p });
  }

  // ------------------------------------------------------------------ FSM driving

  private dispatch(s: Session, e: BfdEvent): void {
    const r = step(s.fsm, e);
    s.fsm = r.state;
    for (const a of r.actions) this.guard(() => this.execute(s, a), a.type);
  }

  private execute(s: Session, a: BfdAction): void {
    switch (a.type) {
      case "Send":
        if (!s.tx) return;
        s.sent++;
        this.observer.onPacket?.("output", s.peer.peerAddress);
        s.tx
          .send(encode(a.packet), s.peer.peerAddress, s.peer.multihop ? MULTIHOP_PORT : SINGLE_HOP_PORT)
          .catch((err: Error) => this.log("debug", `BFD send to ${s.peer.peerAddress}: ${err.message}`));
        return;
      case "StartTimer": {
        const old = s.timers.get(a.timer);
        if (old) clearTimeout(old);
        const event: BfdEvent = { type: a.timer === "Tx" ? "TxTimer" : "DetectTimer" };
        const t = setTimeout(() => {
          s.timers.delete(a.timer);
          if (this.sessions.get(s.id) === s) this.guard(() => this.dispatch(s, event), event.type);
        }, a.ms);
        t.unref?.();
        s.timers.set(a.timer, t);
        return;
      }
      case "StopTimer": {
        const t = s.timers.get(a.timer);
        if (t) clearTimeout(t);
        s.timers.delete(a.timer);
        return;
      }
      case "StateChange": {
        const from = STATE_NAMES[a.from];
        const to = STATE_NAMES[a.to];
        s.since = new Date();
        if (a.to === BfdState.Up) s.upEvents++;
        if (a.from === BfdState.Up) s.downEvents++;
        this.log("info", `BFD ${s.peer.peerAddress}: ${from} -> ${to} (${describeDiag(a.diag)})`);
        this.observer.onStateChange?.(s.peer.peerAddress, from, to);
        const snap = this.snapshotOf(s);
        for (const l of s.listeners.values()) this.guard(() => l(snap, from), "notifying");
        return;
      }
      case "Discarded":
        this.log("debug", `BFD packet from ${s.peer.peerAddress} discarded: ${a.reason}`);
        return;
    }
  }

  private snapshotOf(s: Session): BfdSnapshot {
    return {
      state: STATE_NAMES[s.fsm.state],
      remoteState: STATE_NAMES[s.fsm.remoteState],
      localDiagnostic: describeDiag(s.fsm.localDiag),
      remoteDiagnostic: describeDiag(s.fsm.remoteDiag),
      since: s.since,
      localDiscriminator: s.fsm.localDiscr,
      remoteDiscriminator: s.fsm.remoteDiscr,
      transmitIntervalMs: transmitIntervalUs(s.fsm) / 1000,
      detectionTimeMs: detectionTimeUs(s.fsm) / 1000,
      multihop: s.peer.multihop,
      packetsSent: s.sent,
      packetsReceived: s.received,
      upEvents: s.upEvents,
      downEvents: s.downEvents,
    };
  }

  private guard(fn: () => void, what: string): void {
    try {
      fn();
    } catch (err) {
      this.log("warn", `BFD: internal error while ${what}: ${(err as Error).message}`);
    }
  }

  private log(level: "info" | "warn" | "debug", msg: string): void {
    this.observer.log?.(level, msg);
  }
}
