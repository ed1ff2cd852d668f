/**
 * BgpSession (session.ts) over real TCP on 127.0.0.1: the peer is a plain `net` server
 * that reads and writes BGP with our codec, so what is asserted is what a router at the
 * other end would receive. Timers are Jest's fake timers (I/O stays real), so RFC timer
 * behaviour is checked to the millisecond without waiting for it.
 *
 * The one stand-in is `blackholeDialer`: a TCP connect that never completes (a SYN that
 * gets no answer) cannot be produced on loopback without a firewall.
 */
import * as net from "node:net";
import { Duplex } from "node:stream";
import { formatCIDR, formatIP } from "../../../shared/net/ip";
import { decodeMessage } from "./decode";
import { encodeMessage } from "./encode";
import { cidr, ip } from "./fixtures";
import { endOfRibFamily } from "./graceful-restart";
import {
  AS_TRANS,
  IPV4_UNICAST,
  IPV6_UNICAST,
  findAttribute,
  type AfiSafi,
  type Capability,
  type Message,
  type NotificationMessage,
  type OpenMessage,
  type UpdateMessage,
} from "./messages";
import { CeaseSubcode, ErrorCode } from "./notification";
import { MessageReader } from "./reader";
import {
  BgpSession,
  INBOUND_SLICE,
  RESEND_SLICE,
  type AdvertisedRoute,
  type SessionConfig,
  type SessionObserver,
  type SessionSnapshot,
} from "./session";
import type { Dialer } from "./transport";
import type { HostAddresses } from "./host-addresses";
import { linkBandwidthOf } from "./link-bandwidth";

// ------------------------------------------------------------------ the peer

/** Waits (real time) until `cond` holds, yielding to I/O between checks. */
async function eventually(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = process.hrtime.bigint() + BigInt(timeoutMs) * 1_000_000n;
  while (!cond()) {
    if (process.hrtime.bigint() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** One TCP connection accepted by the peer: every message we sent on it, in order. */
class PeerConnection {
  readonly received: Message[] = [];
  closed = false;
  private readonly reader = new MessageReader();
  private cursor = 0;

  constructor(readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      for (const f of this.reader.push(chunk)) {
        if (f.kind !== "frame") throw new Error(`bad frame from the session: ${f.error.reason}`);
        const d = decodeMessage(f.bytes, { fourOctetAS: true });
        if (!d.ok) throw new Error(`undecodable message from the session: ${d.error.reason}`);
        this.received.push(d.message);
      }
    });
    socket.on("close", () => (this.closed = true));
    socket.on("error", () => undefined);
  }

  send(msg: Message): void {
    this.socket.write(encodeMessage(msg, { fourOctetAS: true }));
  }

  /** The next message not yet taken by next(). */
  async next(): Promise<Message> {
    await eventually(`message #${this.cursor + 1} from the session`, () => this.received.length > this.cursor);
    return this.received[this.cursor++]!;
  }

  async nextOf<T extends Message["type"]>(type: T): Promise<Extract<Message, { type: T }>> {
    const m = await this.next();
    if (m.type !== type) throw new Error(`expected ${type}, got ${JSON.stringify(m)}`);
    return m as Extract<Message, { type: T }>;
  }

  /** Messages received and not yet taken. */
  rest(): Message[] {
    const r = this.received.slice(this.cursor);
    this.cursor = this.received.length;
    return r;
  }

  waitClosed(): Promise<void> {
    return eventually("the session to close the connection", () => this.closed);
  }

  /** Answers our OPEN with the peer's OPEN and KEEPALIVE, and takes our KEEPALIVE (RFC 4271 §8.2.2). */
  async handshake(open: OpenMessage = peerOpen()): Promise<OpenMessage> {
    const ours = await this.nextOf("open");
    this.send(open);
    this.send({ type: "keepalive" });
    await this.nextOf("keepalive");
    return ours;
  }
}

class Peer {
  readonly connections: PeerConnection[] = [];
  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {
    server.on("connection", (s) => this.connections.push(new PeerConnection(s)));
  }

  static async listen(port = 0, host = "127.0.0.1"): Promise<Peer> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => server.listen(port, host, resolve).once("error", reject));
    return new Peer(server, (server.address() as net.AddressInfo).port);
  }

  async connection(n = 1): Promise<PeerConnection> {
    await eventually(`connection #${n} at the peer`, () => this.connections.length >= n);
    return this.connections[n - 1]!;
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.socket.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

/** A port on 127.0.0.1 with nothing listening: connects are refused (RST). */
async function refusingPort(): Promise<number> {
  const p = await Peer.listen();
  await p.close();
  return p.port;
}

const PEER_AS = 65001;
const LOCAL_AS = 64512;

function peerOpen(
  over: { holdTime?: number; families?: readonly AfiSafi[]; extra?: readonly Capability[] } = {},
): OpenMessage {
  const families = over.families ?? [IPV4_UNICAST, IPV6_UNICAST];
  return {
    type: "open",
    version: 4,
    myAS: PEER_AS,
    holdTime: over.holdTime ?? 90,
    bgpId: ip("10.0.0.2"),
    capabilities: [
      ...families.map((f): Capability => ({ type: "multiprotocol", afi: f.afi, safi: f.safi })),
      { type: "route-refresh" },
      { type: "four-octet-as", asn: PEER_AS },
      ...(over.extra ?? []),
    ],
  };
}

// ------------------------------------------------------------------ the session

interface Dial {
  readonly at: number;
  cancelled: boolean;
}

/** Real TCP, recording when each attempt was made (fake clock) and whether it was abandoned. */
function tcpDialer(dials: Dial[]): Dialer {
  return (o, onConnected) => {
    const d: Dial = { at: Date.now(), cancelled: false };
    dials.push(d);
    const socket = net.connect({ host: o.host, port: o.port });
    socket.once("connect", () => !d.cancelled && onConnected());
    return { socket, cancel: () => void (d.cancelled = true) };
  };
}

/** A connect that never completes: the SYN is never answered. */
function blackholeDialer(dials: Dial[]): Dialer {
  return () => {
    const d: Dial = { at: Date.now(), cancelled: false };
    dials.push(d);
    return { socket: new net.Socket(), cancel: () => void (d.cancelled = true) };
  };
}

interface Harness {
  readonly session: BgpSession;
  readonly dials: Dial[];
  readonly states: string[];
  last(): SessionSnapshot;
}

const sessions: BgpSession[] = [];
const peers: Peer[] = [];

function makeSession(
  port: number,
  over: Partial<SessionConfig> = {},
  dialerOf: (d: Dial[]) => Dialer = tcpDialer,
  observer: Omit<SessionObserver, "onChange"> = {},
  hostAddresses?: HostAddresses,
): Harness {
  const dials: Dial[] = [];
  const states: string[] = [];
  let last: SessionSnapshot | undefined;
  const session = new BgpSession(
    {
      peerAddress: "127.0.0.1",
      peerPort: port,
      localAS: LOCAL_AS,
      peerAS: PEER_AS,
      routerId: "10.0.0.1",
      holdTime: 90,
      connectRetryTime: 30,
      backoff: { initial: 1, max: 60, stableTime: 60 },
      ...over,
    },
    {
      ...observer,
      onChange: (s, changed) => {
        last = s;
        if (changed) states.push(s.state);
      },
    },
    dialerOf(dials),
    hostAddresses,
  );
  sessions.push(session);
  return { session, dials, states, last: () => last ?? session.snapshot() };
}

async function listen(port?: number, host?: string): Promise<Peer> {
  const p = await Peer.listen(port, host);
  peers.push(p);
  return p;
}

/** Advances the fake clock by `ms - 1`, checks nothing was dialled, then by 1 ms and checks one dial. */
function expectDialAfter(h: Harness, ms: number): void {
  const n = h.dials.length;
  jest.advanceTimersByTime(ms - 1);
  expect(h.dials.length).toBe(n);
  jest.advanceTimersByTime(1);
  expect(h.dials.length).toBe(n + 1);
}

const route = (prefix: string, extra: Omit<AdvertisedRoute, "prefix"> = {}): AdvertisedRoute => ({
  prefix: cidr(prefix),
  ...extra,
});

/** Prefixes an UPDATE announces (NLRI and MP_REACH_NLRI). */
const announced = (u: UpdateMessage): string[] => [
  ...u.nlri.map(formatCIDR),
  ...u.attributes.flatMap((a) => (a.type === "mp-reach" ? a.nlri.map(formatCIDR) : [])),
];
/** Prefixes an UPDATE withdraws (Withdrawn Routes and MP_UNREACH_NLRI). */
const withdrawn = (u: UpdateMessage): string[] => [
  ...u.withdrawn.map(formatCIDR),
  ...u.attributes.flatMap((a) => (a.type === "mp-unreach" ? a.withdrawn.map(formatCIDR) : [])),
];

/** Takes messages until End-of-RIB has arrived for every family in `families`. */
async function untilEndOfRib(c: PeerConnection, families: readonly AfiSafi[]): Promise<UpdateMessage[]> {
  const got: UpdateMessage[] = [];
  const missing = (): boolean =>
    families.some((f) => !got.some((u) => endOfRibFamily(u)?.afi === f.afi && endOfRibFamily(u)?.safi === f.safi));
  while (missing()) {
    const m = await c.next();
    if (m.type === "update") got.push(m);
  }
  return got;
}

beforeEach(() => {
  jest.useFakeTimers({ doNotFake: ["nextTick", "setImmediate", "queueMicrotask", "hrtime"] });
});

afterEach(async () => {
  for (const s of sessions.splice(0)) void s.stop();
  jest.runOnlyPendingTimers(); // the 1 s forced close of sockets still ending
  jest.useRealTimers();
  for (const p of peers.splice(0)) await p.close();
});

// ------------------------------------------------------------------ connect retry and backoff

describe("connection attempts", () => {
  it("a refused connection is retried after an IdleHold backoff that doubles up to its cap", async () => {
    const h = makeSession(await refusingPort(), { backoff: { initial: 1, max: 4, stableTime: 60 } });
    h.session.start();
    expect(h.dials).toHaveLength(1);
    // RFC 4271 §8.1.1 (DampPeerOscillations): 1 s, 2 s, 4 s, then 4 s again.
    for (const delay of [1000, 2000, 4000, 4000]) {
      await eventually("the refused attempt to fail", () => h.session.state === "Idle");
      // What BGPSession status.lastError shows, from the first attempt on.
      expect(h.last().lastError).toBe("TCP: ECONNREFUSED");
      expectDialAfter(h, delay);
    }
    expect(h.states.filter((s) => s === "Connect")).toHaveLength(5);
  });

  it("an attempt that gets no answer is abandoned and redialled when ConnectRetryTimer expires", () => {
    // RFC 4271 §8.2.2, Connect state, ConnectRetryTimer_Expires: drop the attempt, restart
    // the timer, dial again; the session stays in Connect.
    const h = makeSession(179, { connectRetryTime: 5 }, blackholeDialer);
    h.session.start();
    expect(h.dials).toHaveLength(1);
    expectDialAfter(h, 5000);
    expect(h.dials[0]!.cancelled).toBe(true);
    expect(h.dials[1]!.cancelled).toBe(false);
    expectDialAfter(h, 5000);
    expect(h.session.state).toBe("Connect");
  });

  it("the backoff returns to its initial value once a session has stayed Established for stableTime", async () => {
    const port = await refusingPort();
    const h = makeSession(port, { backoff: { initial: 1, max: 60, stableTime: 5 } });
    h.session.start();
    for (const delay of [1000, 2000]) {
      await eventually("refused", () => h.session.state === "Idle");
      expectDialAfter(h, delay);
    }
    await eventually("refused", () => h.session.state === "Idle");
    // The next delay would be 4 s; now the router comes up.
    const peer = await listen(port);
    expectDialAfter(h, 4000);
    const c = await peer.connection(1);
    await c.handshake();
    await eventually("Established", () => h.session.state === "Established");
    jest.advanceTimersByTime(5000); // stable
    c.socket.destroy(); // the router drops the session
    await eventually("the session to notice", () => h.session.state === "Idle");
    expectDialAfter(h, 1000); // not 8 s
  });

  it("a session that flaps before stableTime keeps backing off", async () => {
    const peer = await listen();
    const h = makeSession(peer.port, { backoff: { initial: 1, max: 60, stableTime: 5 } });
    h.session.start();
    const delays = [1000, 2000, 4000];
    for (let i = 0; i <= delays.length; i++) {
      const c = await peer.connection(i + 1);
      await c.handshake();
      await eventually("Established", () => h.session.state === "Established");
      c.socket.destroy();
      await eventually("down", () => h.session.state === "Idle");
      if (i < delays.length) expectDialAfter(h, delays[i]!);
    }
  });
});

// ------------------------------------------------------------------ hold timer

describe("hold timer", () => {
  it("a peer that goes silent gets KEEPALIVEs every hold/3 s, then NOTIFICATION Hold Timer Expired, then FIN", async () => {
    const peer = await listen();
    const h = makeSession(peer.port, { holdTime: 3 });
    h.session.start();
    const c = await peer.connection();
    const open = await c.handshake(peerOpen({ holdTime: 30 }));
    expect(open.holdTime).toBe(3);
    await eventually("Established", () => h.session.state === "Established");
    expect(h.last().negotiatedHoldTime).toBe(3); // the smaller of the two (RFC 4271 §4.2)
    await untilEndOfRib(c, [IPV4_UNICAST, IPV6_UNICAST]);

    // The peer sends nothing from here on.
    jest.advanceTimersByTime(2999);
    expect(h.session.state).toBe("Established");
    jest.advanceTimersByTime(1);
    const rest: Message[] = [];
    await eventually("the NOTIFICATION", () => {
      rest.push(...c.rest());
      return rest.some((m) => m.type === "notification");
    });
    const notification = rest.at(-1) as NotificationMessage;
    // RFC 4271 §4.4: KEEPALIVEs at one third of the hold time; §6.5: on expiry, NOTIFICATION
    // with Error Code Hold Timer Expired (4), and the connection is closed.
    expect(rest.slice(0, -1).every((m) => m.type === "keepalive")).toBe(true);
    expect(rest.length - 1).toBeGreaterThanOrEqual(2);
    expect(notification).toMatchObject({ type: "notification", code: ErrorCode.HOLD_TIMER_EXPIRED, subcode: 0 });
    await c.waitClosed();
    expect(h.session.state).toBe("Idle");
    expect(h.last().lastError).toMatch(/Hold Timer Expired/);
    expect(h.last().sent.notification).toBe(1);

    // And the session tries again after the backoff.
    expectDialAfter(h, 1000);
    const again = await peer.connection(2);
    await again.handshake();
    await eventually("Established again", () => h.session.state === "Established");
  });

  it("KEEPALIVEs from the peer keep the session up past the hold time", async () => {
    const peer = await listen();
    const h = makeSession(peer.port, { holdTime: 3 });
    h.session.start();
    const c = await peer.connection();
    await c.handshake();
    await eventually("Established", () => h.session.state === "Established");
    for (let i = 0; i < 5; i++) {
      c.send({ type: "keepalive" });
      const before = h.last().received.keepalive;
      await eventually("our side to read the KEEPALIVE", () => h.last().received.keepalive > before);
      jest.advanceTimersByTime(2000);
    }
    expect(h.session.state).toBe("Established");
    expect(c.rest().some((m) => m.type === "notification")).toBe(false);
  });
});

// ------------------------------------------------------------------ initial advertisement and End-of-RIB

describe("initial advertisement", () => {
  const routes = [
    route("198.51.100.10/32", { communities: [64512 * 65536 + 100] }),
    route("198.51.100.11/32"),
    route("2001:db8:100::10/128"),
  ];

  it("sends every route, then one End-of-RIB per negotiated family (RFC 4724 §2)", async () => {
    const peer = await listen();
    const h = makeSession(peer.port, { nextHop6: "2001:db8::1" });
    h.session.setRoutes(routes);
    h.session.start();
    const c = await peer.connection();
    await c.handshake();
    const got = await untilEndOfRib(c, [IPV4_UNICAST, IPV6_UNICAST]);

    const firstEor = got.findIndex((u) => endOfRibFamily(u) !== undefined);
    const before = got.slice(0, firstEor);
    const after = got.slice(firstEor);
    expect(before.flatMap(announced).sort()).toEqual(["198.51.100.10/32", "198.51.100.11/32", "2001:db8:100::10/128"]);
    // Nothing but End-of-RIBs after the first one, one per family.
    expect(after.map((u) => endOfRibFamily(u))).toEqual([IPV4_UNICAST, IPV6_UNICAST]);

    // What the routes carry: our AS, our address as next hop (eBGP, RFC 4271 §5.1.2-3).
    const v4 = before.find((u) => u.nlri.some((p) => formatCIDR(p) === "198.51.100.10/32"))!;
    expect(findAttribute(v4.attributes, "as-path")?.segments).toEqual([{ type: "sequence", asns: [LOCAL_AS] }]);
    expect(formatIP(findAttribute(v4.attributes, "next-hop")!.nextHop)).toBe("127.0.0.1");
    expect(findAttribute(v4.attributes, "communities")?.communities).toEqual([64512 * 65536 + 100]);
    const v6 = before.find((u) => announced(u).includes("2001:db8:100::10/128"))!;
    expect(findAttribute(v6.attributes, "mp-reach")?.nextHops.map(formatIP)).toEqual(["2001:db8::1"]);

    expect(h.last()).toMatchObject({ initialAdvertisementDone: true, advertisedPrefixes: 3, pendingPrefixes: 0 });
  });

  it("with nothing to advertise, End-of-RIB still goes out, only for the families the peer negotiated", async () => {
    const peer = await listen();
    const h = makeSession(peer.port);
    h.session.start();
    const c = await peer.connection();
    await c.handshake(peerOpen({ families: [IPV4_UNICAST] }));
    const got = await untilEndOfRib(c, [IPV4_UNICAST]);
    expect(got.map((u) => endOfRibFamily(u))).toEqual([IPV4_UNICAST]);
    // Our next KEEPALIVE (hold 90 / 3 = 30 s) is the next thing the peer gets: no End-of-RIB
    // for IPv6, which the peer did not offer.
    jest.advanceTimersByTime(30_000);
    const k = await c.next();
    expect(k.type).toBe("keepalive");
  });

  it("a route that changes after End-of-RIB is sent as an UPDATE; a removed one is withdrawn", async () => {
    const peer = await listen();
    const h = makeSession(peer.port);
    h.session.setRoutes([route("198.51.100.10/32"), route("198.51.100.11/32")]);
    h.session.start();
    const c = await peer.connection();
    await c.handshake(peerOpen({ families: [IPV4_UNICAST] }));
    await untilEndOfRib(c, [IPV4_UNICAST]);
    h.session.setRoutes([route("198.51.100.10/32")]);
    const u = await c.nextOf("update");
    expect(withdrawn(u)).toEqual(["198.51.100.11/32"]);
    expect(announced(u)).toEqual([]);
    expect(h.last().advertisedPrefixes).toBe(1);
  });
});

describe("weighted ECMP", () => {
  it("a route's link bandwidth goes out as the RFC 10005 extended community; a change re-advertises it", async () => {
    const peer = await listen();
    const h = makeSession(peer.port);
    h.session.setRoutes([{ ...route("198.51.100.10/32"), linkBandwidth: 250_000 }]);
    h.session.start();
    const c = await peer.connection();
    await c.handshake(peerOpen({ families: [IPV4_UNICAST] }));
    const got = await untilEndOfRib(c, [IPV4_UNICAST]);
    const first = got.find((u) => announced(u).includes("198.51.100.10/32"))!;
    expect(findAttribute(first.attributes, "extended-communities")?.communities.map(linkBandwidthOf)).toEqual([
      { as: LOCAL_AS, bytesPerSecond: 250_000 },
    ]);
    h.session.setRoutes([{ ...route("198.51.100.10/32"), linkBandwidth: 125_000 }]);
    const again = await c.nextOf("update");
    expect(announced(again)).toEqual(["198.51.100.10/32"]);
    expect(findAttribute(again.attributes, "extended-communities")?.communities.map(linkBandwidthOf)).toEqual([
      { as: LOCAL_AS, bytesPerSecond: 125_000 },
    ]);
  });
});

describe("dualStackAddressFamily", () => {
  // The node's interfaces are a stand-in here (loopback has no IPv6 global address to find);
  // host-addresses.test.ts covers the choice and the BGP lab the real interfaces.
  const v6Route = route("2001:db8:100::10/128");
  const nodeV6: HostAddresses = (local, family) =>
    formatIP(local) === "127.0.0.1" && family === 6 ? ip("2001:db8:1::11") : undefined;

  it("an IPv6 route goes over the IPv4 session with the node's IPv6 address beside the session's as next hop", async () => {
    const peer = await listen();
    const h = makeSession(peer.port, { dualStackAddressFamily: true }, tcpDialer, {}, nodeV6);
    h.session.setRoutes([route("198.51.100.10/32"), v6Route]);
    h.session.start();
    const c = await peer.connection();
    await c.handshake();
    const got = await untilEndOfRib(c, [IPV4_UNICAST, IPV6_UNICAST]);
    const v6 = got.find((u) => announced(u).includes("2001:db8:100::10/128"))!;
    expect(findAttribute(v6.attributes, "mp-reach")?.nextHops.map(formatIP)).toEqual(["2001:db8:1::11"]);
    expect(got.flatMap(announced).sort()).toEqual(["198.51.100.10/32", "2001:db8:100::10/128"]);
  });

  it("without it, or without an address of that family, the IPv6 route stays unsent and the log says why", async () => {
    for (const [over, hosts] of [
      [{}, nodeV6],
      [{ dualStackAddressFamily: true }, () => undefined],
    ] as const) {
      const peer = await listen();
      const logs: string[] = [];
      const h = makeSession(peer.port, over, tcpDialer, { log: (_l, m) => logs.push(m) }, hosts);
      h.session.setRoutes([route("198.51.100.10/32"), v6Route]);
      h.session.start();
      const c = await peer.connection();
      await c.handshake();
      const got = await untilEndOfRib(c, [IPV4_UNICAST, IPV6_UNICAST]);
      expect(got.flatMap(announced)).toEqual(["198.51.100.10/32"]);
      const warned = logs.some((m) => /dualStackAddressFamily: .* no IPv6 address/.test(m));
      expect(warned).toBe("dualStackAddressFamily" in over);
    }
  });
});

describe("BGP unnumbered (interface)", () => {
  // Stand-ins: loopback has no link-local address, so the router is reached on ::1 and the
  // node's addresses are given; the BGP lab runs it over a real link against FRR.
  const nodeGlobal: HostAddresses = (local, family) =>
    formatIP(local) === "::1" && family === 6 ? ip("2001:db8:1::11") : undefined;
  const toLoopback =
    (asked: string[]) =>
    (dials: Dial[]): Dialer =>
    (o, onConnected) => {
      asked.push(o.host);
      return tcpDialer(dials)({ ...o, host: "::1" }, onConnected);
    };
  const extendedNextHop: Capability = { type: "extended-next-hop", entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] };

  async function unnumbered(peerCaps: readonly Capability[], hosts: HostAddresses = nodeGlobal) {
    const peer = await listen(0, "::1");
    const asked: string[] = [];
    const logs: string[] = [];
    const h = makeSession(
      peer.port,
      { peerAddress: "fe80::1", interface: "eth1" },
      toLoopback(asked),
      { log: (_l, m) => logs.push(m) },
      hosts,
    );
    h.session.setRoutes([route("198.51.100.10/32"), route("2001:db8:100::10/128")]);
    h.session.start();
    const c = await peer.connection();
    const ours = await c.handshake(peerOpen({ extra: peerCaps }));
    const got = await untilEndOfRib(c, [IPV4_UNICAST, IPV6_UNICAST]);
    return { h, asked, logs, ours, got };
  }

  it("dials the link-local address in the interface's zone and offers IPv4 over IPv6 next hops (RFC 8950 §4)", async () => {
    const { h, asked, ours } = await unnumbered([extendedNextHop]);
    expect(asked).toEqual(["fe80::1%eth1"]);
    expect(ours.capabilities).toContainEqual(extendedNextHop);
    expect(h.last()).toMatchObject({ peer: "eth1", linkLocalPeer: "fe80::1" });
    expect(h.last().capabilities).toContain("extended-nexthop-ipv4");
  });

  it("both families go in MP_REACH_NLRI with the interface's global and link-local addresses as next hops", async () => {
    const { got } = await unnumbered([extendedNextHop]);
    const reach = got.flatMap((u) => u.attributes.filter((a) => a.type === "mp-reach"));
    expect(reach.map((a) => [a.afi, a.nlri.map(formatCIDR), a.nextHops.map(formatIP)])).toEqual(
      expect.arrayContaining([
        [1, ["198.51.100.10/32"], ["2001:db8:1::11", "::1"]],
        [2, ["2001:db8:100::10/128"], ["2001:db8:1::11", "::1"]],
      ]),
    );
    expect(got.some((u) => u.nlri.length > 0)).toBe(false);
  });

  it("without a global address on the interface the link-local address alone is the next hop", async () => {
    const { got } = await unnumbered([extendedNextHop], () => undefined);
    const reach = got.flatMap((u) => u.attributes.filter((a) => a.type === "mp-reach"));
    expect(reach.map((a) => a.nextHops.map(formatIP))).toEqual([["::1"], ["::1"]]);
  });

  it("a router that does not take IPv6 next hops for IPv4 gets the IPv6 routes only, and the log says why", async () => {
    const { got, logs } = await unnumbered([]);
    expect(got.flatMap(announced)).toEqual(["2001:db8:100::10/128"]);
    expect(logs.some((m) => /1 route\(s\) not sent to eth1: .*RFC 8950/.test(m))).toBe(true);
  });
});

// ------------------------------------------------------------------ graceful shutdown

describe("graceful shutdown (RFC 8326)", () => {
  const GSHUT = 65535 * 65536;
  const own = 64512 * 65536 + 100;

  async function established(over: Partial<SessionConfig>, open: OpenMessage) {
    const peer = await listen();
    const h = makeSession(peer.port, over);
    h.session.setRoutes([route("198.51.100.10/32", { communities: [own], localPref: 200 })]);
    h.session.start();
    const c = await peer.connection();
    await c.handshake(open);
    await untilEndOfRib(c, [IPV4_UNICAST]);
    return { h, c };
  }

  it("eBGP: a draining route is re-advertised with 65535:0 beside its own community, then without it again", async () => {
    const { h, c } = await established({}, peerOpen({ families: [IPV4_UNICAST] }));
    h.session.setRoutes([route("198.51.100.10/32", { communities: [own], localPref: 200, gracefulShutdown: true })]);
    const tagged = await c.nextOf("update");
    expect(announced(tagged)).toEqual(["198.51.100.10/32"]);
    expect(withdrawn(tagged)).toEqual([]);
    expect(findAttribute(tagged.attributes, "communities")?.communities).toEqual([own, GSHUT]);
    expect(findAttribute(tagged.attributes, "local-pref")).toBeUndefined();
    h.session.setRoutes([route("198.51.100.10/32", { communities: [own], localPref: 200 })]);
    const untagged = await c.nextOf("update");
    expect(findAttribute(untagged.attributes, "communities")?.communities).toEqual([own]);
  });

  it("iBGP: a draining route also carries LOCAL_PREF 0 instead of the advertisement's", async () => {
    const open = peerOpen({ families: [IPV4_UNICAST] });
    const ibgpOpen: OpenMessage = {
      ...open,
      myAS: LOCAL_AS,
      capabilities: open.capabilities.map((cap) => (cap.type === "four-octet-as" ? { ...cap, asn: LOCAL_AS } : cap)),
    };
    const { h, c } = await established({ peerAS: LOCAL_AS }, ibgpOpen);
    h.session.setRoutes([route("198.51.100.10/32", { communities: [own], localPref: 200, gracefulShutdown: true })]);
    const tagged = await c.nextOf("update");
    expect(findAttribute(tagged.attributes, "local-pref")?.localPref).toBe(0);
    expect(findAttribute(tagged.attributes, "communities")?.communities).toEqual([own, GSHUT]);
    expect(h.last().advertisedPrefixes).toBe(1);
  });
});

// ------------------------------------------------------------------ route refresh

describe("route refresh (RFC 2918)", () => {
  it("a ROUTE-REFRESH re-sends the Adj-RIB-Out of that family, as it is now", async () => {
    const peer = await listen();
    const h = makeSession(peer.port, { nextHop6: "2001:db8::1" });
    h.session.setRoutes([
      route("198.51.100.10/32", { largeCommunities: [{ globalAdmin: LOCAL_AS, localData1: 1, localData2: 2 }] }),
      route("198.51.100.11/32"),
      route("2001:db8:100::10/128"),
    ]);
    h.session.start();
    const c = await peer.connection();
    await c.handshake();
    const initial = await untilEndOfRib(c, [IPV4_UNICAST, IPV6_UNICAST]);
    const initialV4 = initial.find((u) => announced(u).includes("198.51.100.10/32"))!;

    // Withdraw one, then ask for IPv4 again: only what the peer should have now comes back.
    h.session.setRoutes([
      route("198.51.100.10/32", { largeCommunities: [{ globalAdmin: LOCAL_AS, localData1: 1, localData2: 2 }] }),
      route("2001:db8:100::10/128"),
    ]);
    expect(withdrawn(await c.nextOf("update"))).toEqual(["198.51.100.11/32"]);
    c.send({ type: "route-refresh", afi: 1, safi: 1 });
    const again = await c.nextOf("update");
    expect(announced(again)).toEqual(["198.51.100.10/32"]);
    expect(again.attributes).toEqual(initialV4.attributes); // same path attributes as before
    expect(h.last().received.routeRefresh).toBe(1);

    // The IPv6 family on its own.
    c.send({ type: "route-refresh", afi: 2, safi: 1 });
    expect(announced(await c.nextOf("update"))).toEqual(["2001:db8:100::10/128"]);
    expect(h.session.state).toBe("Established");
  });

  it("a ROUTE-REFRESH for a family that was not negotiated is ignored (RFC 2918 §4)", async () => {
    const peer = await listen();
    const h = makeSession(peer.port);
    h.session.setRoutes([route("198.51.100.10/32")]);
    h.session.start();
    const c = await peer.connection();
    await c.handshake(peerOpen({ families: [IPV4_UNICAST] }));
    await untilEndOfRib(c, [IPV4_UNICAST]);
    c.send({ type: "route-refresh", afi: 2, safi: 1 }); // IPv6: not negotiated
    c.send({ type: "route-refresh", afi: 1, safi: 1 });
    // TCP keeps order: whatever answered the first request would arrive before this.
    const next = await c.nextOf("update");
    expect(announced(next)).toEqual(["198.51.100.10/32"]);
    expect(h.session.state).toBe("Established");
  });
});

describe("route refresh under load", () => {
  it("a burst of ROUTE-REFRESH for one family gets one answer now and one when the 5 s interval ends", async () => {
    const peer = await listen();
    const h = makeSession(peer.port, { nextHop6: "2001:db8::1" });
    h.session.setRoutes([route("198.51.100.10/32"), route("2001:db8:100::10/128")]);
    h.session.start();
    const c = await peer.connection();
    await c.handshake();
    await untilEndOfRib(c, [IPV4_UNICAST, IPV6_UNICAST]);
    const sentBefore = h.last().sent.update;

    for (let i = 0; i < 50; i++) c.send({ type: "route-refresh", afi: 1, safi: 1 });
    c.send({ type: "route-refresh", afi: 2, safi: 1 }); // another family: not held up
    expect(announced(await c.nextOf("update"))).toEqual(["198.51.100.10/32"]);
    expect(announced(await c.nextOf("update"))).toEqual(["2001:db8:100::10/128"]);
    await eventually("all 51 requests read", () => h.last().received.routeRefresh === 51);
    expect(h.last().sent.update).toBe(sentBefore + 2); // the other 49 wait, coalesced into one

    jest.advanceTimersByTime(4999);
    await new Promise((r) => setImmediate(r));
    expect(h.last().sent.update).toBe(sentBefore + 2);
    jest.advanceTimersByTime(1);
    expect(announced(await c.nextOf("update"))).toEqual(["198.51.100.10/32"]);
    jest.advanceTimersByTime(60_000);
    await new Promise((r) => setImmediate(r));
    expect(h.last().sent.update).toBe(sentBefore + 3);
    expect(h.session.state).toBe("Established");
  });

  it("a burst of small messages read in one go is handled over several turns of the event loop", async () => {
    let turn = 0;
    let ticking = true;
    const tick = (): void => {
      turn++;
      if (ticking) setImmediate(tick);
    };
    const turns = new Set<number>();
    const peer = await listen();
    const h = makeSession(peer.port, {}, tcpDialer, {
      onMessage: (direction, kind) => direction === "received" && kind === "routeRefresh" && turns.add(turn),
    });
    h.session.start();
    const c = await peer.connection();
    await c.handshake();
    await untilEndOfRib(c, [IPV4_UNICAST, IPV6_UNICAST]);
    tick();
    const n = INBOUND_SLICE.messages * 4;
    c.socket.write(
      Buffer.concat(Array.from({ length: n }, () => encodeMessage({ type: "route-refresh", afi: 1, safi: 1 }))),
    );
    await eventually("every ROUTE-REFRESH handled", () => h.session.snapshot().received.routeRefresh === n);
    ticking = false;
    expect(turns.size).toBeGreaterThanOrEqual(4);
    expect(h.session.state).toBe("Established");
  });

  it("an answer larger than a slice is written over several turns of the event loop", async () => {
    // Each route its own community, so each is its own UPDATE: 2.5 slices of them.
    const n = Math.floor(RESEND_SLICE * 2.5);
    const routes = Array.from({ length: n }, (_, i) =>
      route(`10.${(i >> 8) & 255}.${i & 255}.0/24`, { communities: [64512 * 65536 + i] }),
    );
    let turn = 0;
    let ticking = true;
    const tick = (): void => {
      turn++;
      if (ticking) setImmediate(tick);
    };
    const turns = new Set<number>();
    const peer = await listen();
    const h = makeSession(peer.port, {}, tcpDialer, {
      onMessage: (direction, kind) => direction === "sent" && kind === "update" && turns.add(turn),
    });
    h.session.setRoutes(routes);
    h.session.start();
    const c = await peer.connection();
    await c.handshake(peerOpen({ families: [IPV4_UNICAST] }));
    await untilEndOfRib(c, [IPV4_UNICAST]);
    turns.clear();
    tick();
    c.send({ type: "route-refresh", afi: 1, safi: 1 });
    const got: UpdateMessage[] = [];
    while (got.length < n) got.push(await c.nextOf("update"));
    ticking = false;
    expect(new Set(got.flatMap(announced)).size).toBe(n);
    // The other work of the process (here: the ticker) ran between the slices.
    expect(turns.size).toBeGreaterThanOrEqual(3);
  });

  it("a route withdrawn while an answer is under way is not announced again by the rest of the answer", async () => {
    const n = RESEND_SLICE * 2;
    const routes = Array.from({ length: n }, (_, i) =>
      route(`10.${(i >> 8) & 255}.${i & 255}.0/24`, { communities: [i] }),
    );
    const peer = await listen();
    const h = makeSession(peer.port);
    h.session.setRoutes(routes);
    h.session.start();
    const c = await peer.connection();
    await c.handshake(peerOpen({ families: [IPV4_UNICAST] }));
    await untilEndOfRib(c, [IPV4_UNICAST]);
    c.send({ type: "route-refresh", afi: 1, safi: 1 });
    await c.nextOf("update"); // the answer has begun
    const last = routes.at(-1)!;
    h.session.setRoutes(routes.slice(0, -1));
    const got: UpdateMessage[] = [];
    while (!got.some((u) => withdrawn(u).length > 0)) got.push(await c.nextOf("update"));
    jest.advanceTimersByTime(30_000); // our KEEPALIVE marks the end of what was sent
    const rest = [];
    for (let m = await c.next(); m.type !== "keepalive"; m = await c.next()) rest.push(m as UpdateMessage);
    expect(withdrawn(got.at(-1)!)).toEqual([formatCIDR(last.prefix)]);
    expect(rest.flatMap(announced)).not.toContain(formatCIDR(last.prefix));
  });
});

// ------------------------------------------------------------------ received prefixes

describe("received prefixes", () => {
  const attrs = (nextHop = "192.0.2.1") => [
    { type: "origin" as const, origin: 0 },
    { type: "as-path" as const, segments: [{ type: "sequence" as const, asns: [PEER_AS] }] },
    { type: "next-hop" as const, nextHop: ip(nextHop) },
  ];
  const v4 = (from: number, count: number): string[] =>
    Array.from({ length: count }, (_, i) => `203.0.${(from + i) >> 8}.${(from + i) & 255}/32`);
  const announce = (prefixes: string[]): Message => ({
    type: "update",
    withdrawn: [],
    attributes: attrs(),
    nlri: prefixes.map(cidr),
  });

  async function established(over: Partial<SessionConfig>): Promise<{ h: Harness; c: PeerConnection; peer: Peer }> {
    const peer = await listen();
    const h = makeSession(peer.port, over);
    h.session.start();
    const c = await peer.connection();
    await c.handshake();
    await eventually("Established", () => h.session.state === "Established");
    await untilEndOfRib(c, [IPV4_UNICAST, IPV6_UNICAST]);
    return { h, c, peer };
  }
  const updatesRead = (h: Harness, n: number) => eventually(`${n} UPDATEs read`, () => h.last().received.update === n);

  it("are counted once however often they are announced; withdrawals and treat-as-withdraw take them off", async () => {
    const { h, c } = await established({ maxPrefixes: 25 });
    for (let i = 0; i < 3; i++) c.send(announce(v4(0, 20)));
    await updatesRead(h, 3);
    expect(h.last().receivedPrefixes).toBe(20);
    c.send({ type: "update", withdrawn: v4(0, 5).map(cidr), attributes: [], nlri: [] });
    // RFC 7606 §7.3: a NEXT_HOP of our own address: these routes are withdrawn.
    c.send({ type: "update", withdrawn: [], attributes: attrs("127.0.0.1"), nlri: v4(5, 5).map(cidr) });
    await updatesRead(h, 5);
    expect(h.last().receivedPrefixes).toBe(10);
    // IPv6 counts against its own limit.
    const v6 = Array.from({ length: 20 }, (_, i) => cidr(`2001:db8:${i}::/48`));
    c.send({
      type: "update",
      withdrawn: [],
      attributes: [
        { type: "mp-reach", afi: 2, safi: 1, nextHops: [ip("2001:db8::1")], nlri: v6 },
        ...attrs().slice(0, 2),
      ],
      nlri: [],
    });
    await updatesRead(h, 6);
    expect(h.last().receivedPrefixes).toBe(30);
    expect(h.session.state).toBe("Established");
  });

  it("one past the limit: NOTIFICATION Cease / Maximum Number of Prefixes Reached (RFC 4486 §4), and no re-dial before backoff.max", async () => {
    const { h, c, peer } = await established({ maxPrefixes: 25, backoff: { initial: 1, max: 30, stableTime: 60 } });
    c.send(announce(v4(0, 25)));
    await updatesRead(h, 1);
    expect(h.session.state).toBe("Established");
    c.send(announce(v4(25, 1)));
    const n = await c.nextOf("notification");
    expect(n).toEqual({
      type: "notification",
      code: 6,
      subcode: 1,
      data: Buffer.from("0001" + "01" + "00000019", "hex"),
    });
    await c.waitClosed();
    expect(h.session.state).toBe("Idle");
    expect(h.last().lastError).toMatch(/Maximum Number of Prefixes Reached \(more than 25 prefixes of AFI 1 SAFI 1/);
    expect(h.last().receivedPrefixes).toBe(0);
    expectDialAfter(h, 30_000);
    await peer.connection(2);
  });
});

// ------------------------------------------------------------------ backpressure

/**
 * A socket whose "kernel" takes nothing until `release()`. Why a fake here: on loopback
 * the kernel's autotuned buffers (megabytes) swallow whatever the session writes, so a
 * real socket's write() would return false at no moment a test can choose. This one is a
 * Node Duplex with a 1 KiB high-water mark, so write() and 'drain' follow the same stream
 * contract a net.Socket does; only the pace of the far end is the test's.
 */
class StalledSocket extends Duplex {
  readonly written: Buffer[] = [];
  private held: Array<() => void> = [];
  private stalled = true;
  readonly localAddress = "127.0.0.1";

  constructor() {
    super({ writableHighWaterMark: 1024 });
  }

  setNoDelay(): this {
    return this;
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.written.push(chunk);
    if (this.stalled) this.held.push(done);
    else done();
  }

  /** The far end starts reading: everything waiting goes through. */
  release(): void {
    this.stalled = false;
    for (const done of this.held.splice(0)) done();
  }

  /** Every message that reached the far end, in order. */
  messages(): Message[] {
    const reader = new MessageReader();
    return reader.push(Buffer.concat(this.written)).map((f) => {
      if (f.kind !== "frame") throw new Error(f.error.reason);
      const d = decodeMessage(f.bytes, { fourOctetAS: true });
      if (!d.ok) throw new Error(d.error.reason);
      return d.message;
    });
  }
}

describe("backpressure", () => {
  it("UPDATEs wait for 'drain' when the socket buffer is full; KEEPALIVEs do not wait behind them", async () => {
    const sockets: StalledSocket[] = [];
    const dialer: Dialer = (_o, onConnected) => {
      const socket = new StalledSocket();
      sockets.push(socket);
      setImmediate(onConnected);
      return { socket: socket as unknown as net.Socket, cancel: () => undefined };
    };
    let updatesWritten = 0; // End-of-RIB included
    const h = makeSession(179, {}, () => dialer, {
      onMessage: (direction, kind) => direction === "sent" && kind === "update" && updatesWritten++,
    });
    // One UPDATE per route (distinct communities): 300 of them, about 20 KiB.
    const routes = Array.from({ length: 300 }, (_, i) => route(`10.0.${i >> 8}.${i & 255}/32`, { communities: [i] }));
    h.session.setRoutes(routes);
    h.session.start();
    await eventually("the connection", () => sockets.length === 1);
    const s = sockets[0]!;
    await eventually("our OPEN", () => h.last().sent.open === 1);
    s.push(encodeMessage(peerOpen({ families: [IPV4_UNICAST] })));
    s.push(encodeMessage({ type: "keepalive" }));
    await eventually("Established", () => h.session.state === "Established");

    // The buffer filled after a handful of UPDATEs: the rest wait in the session.
    expect(updatesWritten).toBeGreaterThan(0);
    expect(updatesWritten).toBeLessThan(30);
    expect(s.writableLength).toBeLessThan(1024 + 200);
    const keepalivesBefore = h.last().sent.keepalive;
    jest.advanceTimersByTime(30_000); // keepalive time: hold 90 s / 3
    expect(h.last().sent.keepalive).toBe(keepalivesBefore + 1);
    expect(updatesWritten).toBeLessThan(30);

    s.release();
    await eventually("every UPDATE and the End-of-RIB", () => updatesWritten === 301);
    const msgs = s.messages();
    const updates = msgs.filter((m): m is UpdateMessage => m.type === "update");
    expect(updates.flatMap(announced).sort()).toEqual(routes.map((r) => formatCIDR(r.prefix)).sort());
    expect(endOfRibFamily(updates.at(-1)!)).toEqual(IPV4_UNICAST);
    // The KEEPALIVE went out ahead of the UPDATEs that were still waiting.
    const lastIndex = (ok: (m: Message) => boolean): number => msgs.reduce((at, m, i) => (ok(m) ? i : at), -1);
    const keepalive = lastIndex((m) => m.type === "keepalive");
    const lastRoute = lastIndex((m) => m.type === "update" && announced(m).length > 0);
    expect(keepalive).toBeLessThan(lastRoute);
    expect(h.session.state).toBe("Established");
  });
});

// ------------------------------------------------------------------ status

describe("status", () => {
  it("lastError is reported again when a session drops a second time for the same reason", async () => {
    const peer = await listen();
    const h = makeSession(peer.port, { backoff: { initial: 1, max: 1, stableTime: 60 } });
    h.session.start();
    for (let n = 1; n <= 2; n++) {
      const c = await peer.connection(n);
      await c.handshake();
      await eventually("Established", () => h.session.state === "Established");
      expect(h.last().lastError).toBeUndefined();
      c.socket.end(); // a clean FIN from the router, no RST
      await eventually("the session to notice", () => h.session.state === "Idle");
      expect(h.last().lastError).toBe("TCP connection closed");
      expectDialAfter(h, 1000);
    }
  });
});

// ------------------------------------------------------------------ stop

describe("stop", () => {
  it("an Established session ends with NOTIFICATION Cease / Administrative Shutdown, then FIN, and no retry", async () => {
    const peer = await listen();
    const h = makeSession(peer.port);
    h.session.setRoutes([route("198.51.100.10/32")]);
    h.session.start();
    const c = await peer.connection();
    await c.handshake();
    await untilEndOfRib(c, [IPV4_UNICAST, IPV6_UNICAST]);
    const stopped = h.session.stop();
    // RFC 4486 §3 (RFC 8203): Cease, subcode 2 Administrative Shutdown.
    const n = await c.nextOf("notification");
    expect(n).toMatchObject({ code: ErrorCode.CEASE, subcode: CeaseSubcode.ADMINISTRATIVE_SHUTDOWN });
    await c.waitClosed();
    await stopped;
    expect(c.rest()).toEqual([]);
    expect(h.session.state).toBe("Idle");
    expect(h.last()).toMatchObject({ advertisedPrefixes: 0 });
    jest.advanceTimersByTime(10 * 60_000);
    expect(h.dials).toHaveLength(1);
    expect(peer.connections).toHaveLength(1);
  });

  it("a session stopped in OpenSent sends Cease too (RFC 4271 §8.2.2 OpenSent, ManualStop)", async () => {
    const peer = await listen();
    const h = makeSession(peer.port);
    h.session.start();
    const c = await peer.connection();
    await c.nextOf("open"); // the peer never answers
    expect(h.session.state).toBe("OpenSent");
    const stopped = h.session.stop();
    expect(await c.nextOf("notification")).toMatchObject({
      code: ErrorCode.CEASE,
      subcode: CeaseSubcode.ADMINISTRATIVE_SHUTDOWN,
    });
    await c.waitClosed();
    await stopped;
  });
});

describe("OPEN", () => {
  it("a 4-byte local AS goes out as AS_TRANS in the OPEN and in full in the capability (RFC 6793 §4.1)", async () => {
    const peer = await listen();
    const h = makeSession(peer.port, { localAS: 4200000001 });
    h.session.start();
    const c = await peer.connection();
    const open = await c.nextOf("open");
    expect(open.myAS).toBe(AS_TRANS);
    expect(open.capabilities).toContainEqual({ type: "four-octet-as", asn: 4200000001 });
  });
});

// ------------------------------------------------------------------ BFD (RFC 5882)

describe("BFD coupling", () => {
  async function up(): Promise<{ h: Harness; c: PeerConnection; peer: Peer }> {
    const peer = await listen();
    const h = makeSession(peer.port, { backoff: { initial: 1, max: 60, stableTime: 60 } });
    h.session.start();
    const c = await peer.connection();
    await c.handshake();
    await eventually("Established", () => h.session.state === "Established");
    await untilEndOfRib(c, [IPV4_UNICAST, IPV6_UNICAST]);
    return { h, c, peer };
  }

  it("BFD down: NOTIFICATION Cease / BFD Down (RFC 9384) at once; no re-dial until BFD is Up again", async () => {
    const { h, c, peer } = await up();
    h.session.bfdDown();
    const n = await c.nextOf("notification");
    expect(n).toEqual({
      type: "notification",
      code: ErrorCode.CEASE,
      subcode: CeaseSubcode.BFD_DOWN,
      data: Buffer.alloc(0),
    });
    await c.waitClosed();
    expect(h.session.state).toBe("Idle");
    expect(h.last().lastError).toMatch(/Cease \/ BFD Down/);
    const dials = h.dials.length;
    jest.advanceTimersByTime(120_000);
    expect(h.dials.length).toBe(dials);
    h.session.bfdReleased();
    expect(h.dials.length).toBe(dials + 1);
    await peer.connection(2);
  });

  it("a hold lifted before the IdleHold timer fires lets the backoff run its course", async () => {
    const { h, c } = await up();
    h.session.bfdDown();
    await c.waitClosed();
    h.session.bfdReleased();
    expectDialAfter(h, 1000);
  });
});
