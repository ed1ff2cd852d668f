import { formatIP, parseIP, type IP } from "../../../shared/net/ip";
import { formatMAC, parseMAC } from "../l2/mac";
import { neighborSolicitationFrame } from "../l2/ndp";
import type { BpfInstruction, PacketHandle } from "../native";
import {
  LinkLocalPeerFinder,
  linkLocalAddressOf,
  ROUTER_ADVERTISEMENT_FILTER,
  type LinkLocalPeer,
  type LinkLocalPeerIO,
  type LogLevel,
} from "./link-local-peer";
import { routerAdvertisementFrame } from "./router-advertisement";

const ip = (s: string) => parseIP(s)!;
const OUR_MAC = parseMAC("02:00:00:00:00:0a")!;
const OUR_LL = ip("fe80::a");
const ROUTER_MAC = parseMAC("02:00:00:00:00:01")!;
const ROUTER_LL = ip("fe80::1");
const OTHER_MAC = parseMAC("02:00:00:00:00:02")!;
const OTHER_LL = ip("fe80::2");

const raFrom = (mac: Buffer, address: IP) => routerAdvertisementFrame(mac, address);
const peerText = (p: LinkLocalPeer | undefined) => (p ? `${formatIP(p.address)} ${formatMAC(p.mac)}` : "none");

/** A finder on "eth1" over fake I/O; Jest's fake timers drive its interval. */
function harness(overrides: Partial<LinkLocalPeerIO> = {}, intervalMs?: number) {
  const state = {
    linkLocal: OUR_LL as IP | undefined,
    openError: undefined as Error | undefined,
    sendError: undefined as Error | undefined,
    onFrame: undefined as ((frame: Buffer) => void) | undefined,
    filter: undefined as readonly BpfInstruction[] | undefined,
    opened: 0,
    closed: [] as PacketHandle[],
    sent: [] as Buffer[],
    logs: [] as [LogLevel, string][],
    peers: [] as string[],
  };
  const io: Partial<LinkLocalPeerIO> = {
    open: (ifname, onFrame, filter) => {
      expect(ifname).toBe("eth1");
      if (state.openError) throw state.openError;
      state.opened++;
      state.onFrame = onFrame;
      state.filter = filter;
      return { socket: state.opened } as unknown as PacketHandle;
    },
    send: (_handle, frame) => {
      if (state.sendError) throw state.sendError;
      state.sent.push(Buffer.from(frame));
    },
    close: (handle) => void state.closed.push(handle),
    interfaceMac: () => OUR_MAC,
    linkLocalOf: () => state.linkLocal,
    random: () => 0.5,
    ...overrides,
  };
  const finder = new LinkLocalPeerFinder("eth1", {
    log: (level, msg) => void state.logs.push([level, msg]),
    intervalMs,
    io,
  });
  finder.onPeer((p) => void state.peers.push(peerText(p)));
  const deliver = (frame: Buffer) => state.onFrame!(frame);
  const warnings = () => state.logs.filter(([level]) => level === "warn").map(([, m]) => m);
  return { finder, state, deliver, warnings };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe("LinkLocalPeerFinder: our advertisements", () => {
  it("sends an RA from our link-local address at start and on each interval", () => {
    const { finder, state } = harness();
    finder.start();
    expect(state.opened).toBe(1);
    expect(state.filter).toBe(ROUTER_ADVERTISEMENT_FILTER);
    expect(state.sent).toEqual([raFrom(OUR_MAC, OUR_LL)]);
    jest.advanceTimersByTime(9_999);
    expect(state.sent).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(state.sent).toHaveLength(2);
    jest.advanceTimersByTime(10_000);
    expect(state.sent).toHaveLength(3);
    expect(state.opened).toBe(1);
    expect(state.logs).toEqual([["info", "sending router advertisements on eth1 from fe80::a"]]);
    finder.stop();
  });

  it("jitters the interval by up to 10% and honours intervalMs", () => {
    const early = harness({ random: () => 0 }, 20_000);
    early.finder.start();
    jest.advanceTimersByTime(17_999);
    expect(early.state.sent).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(early.state.sent).toHaveLength(2);
    early.finder.stop();

    const late = harness({ random: () => 0.999999 });
    late.finder.start();
    jest.advanceTimersByTime(10_999);
    expect(late.state.sent).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(late.state.sent).toHaveLength(2);
    late.finder.stop();
  });

  it("refuses an interval below MIN_DELAY_BETWEEN_RAS (RFC 4861 §10)", () => {
    expect(() => harness({}, 2_999)).toThrow(RangeError);
    expect(() => harness({}, Number.NaN)).toThrow(RangeError);
  });

  it("retries when the interface has no link-local address yet, warning once", () => {
    const { finder, state, warnings } = harness();
    state.linkLocal = undefined;
    finder.start();
    jest.advanceTimersByTime(30_000);
    expect(state.sent).toHaveLength(0);
    expect(warnings()).toEqual(["interface eth1 has no IPv6 link-local address yet; retrying every 10s"]);
    state.linkLocal = OUR_LL;
    jest.advanceTimersByTime(10_000);
    expect(state.sent).toEqual([raFrom(OUR_MAC, OUR_LL)]);
    expect(state.logs.at(-1)).toEqual(["info", "sending router advertisements on eth1 from fe80::a"]);
    finder.stop();
  });

  it("retries opening a missing interface, warning once per distinct problem", () => {
    const { finder, state, warnings } = harness();
    state.openError = new Error("openPacket(eth1): No such device");
    finder.start();
    jest.advanceTimersByTime(20_000);
    state.openError = new Error("openPacket(eth1): Operation not permitted");
    jest.advanceTimersByTime(20_000);
    expect(warnings()).toEqual([
      "cannot send router advertisements on eth1: openPacket(eth1): No such device; retrying every 10s",
      "cannot send router advertisements on eth1: openPacket(eth1): Operation not permitted; retrying every 10s",
    ]);
    state.openError = undefined;
    jest.advanceTimersByTime(10_000);
    expect(state.opened).toBe(1);
    expect(state.sent).toHaveLength(1);
    finder.stop();
  });

  it("closes the socket after a failed send and reopens it at the next interval", () => {
    const { finder, state, warnings } = harness();
    state.sendError = new Error("sendPacket: No such device or address");
    finder.start();
    expect(state.closed).toHaveLength(1);
    expect(warnings()).toHaveLength(1);
    state.sendError = undefined;
    jest.advanceTimersByTime(10_000);
    expect(state.opened).toBe(2);
    expect(state.sent).toHaveLength(1);
    finder.stop();
  });
});

describe("LinkLocalPeerFinder: the router", () => {
  it("reports the router from a received RA", () => {
    const { finder, state, deliver } = harness();
    finder.start();
    deliver(raFrom(ROUTER_MAC, ROUTER_LL));
    expect(state.peers).toEqual(["fe80::1 02:00:00:00:00:01"]);
    expect(formatIP(finder.peer!.address)).toBe("fe80::1");
    expect(formatMAC(finder.peer!.mac)).toBe("02:00:00:00:00:01");
    expect(state.logs).toContainEqual(["info", "router on eth1 is fe80::1 (02:00:00:00:00:01)"]);
    deliver(raFrom(ROUTER_MAC, ROUTER_LL));
    expect(state.peers).toHaveLength(1);
    finder.stop();
  });

  it("answers a new router at once, but not within 3 s of the last RA", () => {
    const { finder, state, deliver } = harness();
    finder.start();
    jest.advanceTimersByTime(2_999);
    deliver(raFrom(ROUTER_MAC, ROUTER_LL));
    expect(state.sent).toHaveLength(1);
    jest.advanceTimersByTime(4_000); // t = 6999
    deliver(raFrom(OTHER_MAC, OTHER_LL));
    expect(state.sent).toHaveLength(2);
    // The interval restarts from the answer: next RA at 16999, not at 10000.
    jest.advanceTimersByTime(9_999);
    expect(state.sent).toHaveLength(2);
    jest.advanceTimersByTime(1);
    expect(state.sent).toHaveLength(3);
    finder.stop();
  });

  it("ignores its own RA echoed back", () => {
    const { finder, state, deliver } = harness();
    finder.start();
    deliver(raFrom(OUR_MAC, OUR_LL));
    expect(finder.peer).toBeUndefined();
    expect(state.peers).toEqual([]);
    finder.stop();
  });

  it("ignores invalid frames", () => {
    const { finder, state, deliver } = harness();
    finder.start();
    const offLink = raFrom(ROUTER_MAC, ROUTER_LL);
    offLink[14 + 7] = 64; // hop limit: not covered by the checksum
    deliver(offLink);
    deliver(neighborSolicitationFrame(ROUTER_LL, ROUTER_MAC, OUR_LL));
    deliver(Buffer.from("not a frame"));
    expect(finder.peer).toBeUndefined();
    expect(state.peers).toEqual([]);
    expect(state.logs.filter(([level]) => level === "debug")).toHaveLength(3);
    finder.stop();
  });

  it("reports a changed router: the latest wins", () => {
    const { finder, state, deliver } = harness();
    finder.start();
    deliver(raFrom(ROUTER_MAC, ROUTER_LL));
    deliver(raFrom(OTHER_MAC, OTHER_LL));
    expect(state.peers).toEqual(["fe80::1 02:00:00:00:00:01", "fe80::2 02:00:00:00:00:02"]);
    expect(formatIP(finder.peer!.address)).toBe("fe80::2");
    expect(state.logs).toContainEqual([
      "info",
      "router on eth1 changed from fe80::1 (02:00:00:00:00:01) to fe80::2 (02:00:00:00:00:02)",
    ]);
    deliver(raFrom(OTHER_MAC, ROUTER_LL));
    expect(state.peers.at(-1)).toBe("fe80::1 02:00:00:00:00:02");
    finder.stop();
  });

  it("on a shared link, a sender without a router lifetime (another node's agent) does not displace a router", () => {
    const { finder, state, deliver } = harness();
    finder.start();
    deliver(routerAdvertisementFrame(ROUTER_MAC, ROUTER_LL, 1800));
    deliver(raFrom(OTHER_MAC, OTHER_LL)); // lifetime 0, as every agent sends
    expect(formatIP(finder.peer!.address)).toBe("fe80::1");
    expect(state.peers).toEqual(["fe80::1 02:00:00:00:00:01"]);
    // Another sender with a lifetime is a router: the latest still wins among routers.
    deliver(routerAdvertisementFrame(OTHER_MAC, OTHER_LL, 30));
    expect(formatIP(finder.peer!.address)).toBe("fe80::2");
    finder.stop();
  });

  it("keeps the router however long it is silent", () => {
    const { finder, deliver } = harness();
    finder.start();
    deliver(raFrom(ROUTER_MAC, ROUTER_LL));
    jest.advanceTimersByTime(3_600_000);
    expect(formatIP(finder.peer!.address)).toBe("fe80::1");
    finder.stop();
  });

  it("keeps going when a listener throws", () => {
    const { finder, state, deliver, warnings } = harness();
    finder.onPeer(() => {
      throw new Error("boom");
    });
    finder.start();
    deliver(raFrom(ROUTER_MAC, ROUTER_LL));
    expect(state.peers).toHaveLength(1);
    expect(warnings()).toEqual(["a router listener for eth1 failed: boom"]);
    finder.stop();
  });
});

describe("LinkLocalPeerFinder.stop", () => {
  it("closes the socket, clears the timer and forgets the router", () => {
    const { finder, state, deliver } = harness();
    finder.start();
    deliver(raFrom(ROUTER_MAC, ROUTER_LL));
    finder.stop();
    expect(state.closed).toHaveLength(1);
    expect(jest.getTimerCount()).toBe(0);
    expect(finder.peer).toBeUndefined();
    expect(state.peers).toEqual(["fe80::1 02:00:00:00:00:01", "none"]);
    deliver(raFrom(OTHER_MAC, OTHER_LL));
    jest.advanceTimersByTime(60_000);
    expect(state.sent).toHaveLength(1);
    expect(state.peers).toHaveLength(2);
    finder.stop();
    expect(state.closed).toHaveLength(1);
  });

  it("can start again", () => {
    const { finder, state } = harness();
    finder.start();
    finder.stop();
    finder.start();
    expect(state.opened).toBe(2);
    expect(state.sent).toHaveLength(2);
    finder.stop();
  });

  it("unsubscribes a listener", () => {
    const { finder, deliver } = harness();
    const seen: unknown[] = [];
    const off = finder.onPeer((p) => void seen.push(p));
    finder.start();
    off();
    deliver(raFrom(ROUTER_MAC, ROUTER_LL));
    expect(seen).toEqual([]);
    finder.stop();
  });
});

describe("linkLocalAddressOf", () => {
  const entry = (address: string, family: "IPv4" | "IPv6") => ({
    address,
    family,
    netmask: family === "IPv4" ? "255.255.255.0" : "ffff:ffff:ffff:ffff::",
    mac: "02:00:00:00:00:0a",
    internal: false,
    cidr: null,
    ...(family === "IPv6" ? { scopeid: 2 } : {}),
  });

  it("picks the fe80::/10 address of the named interface", () => {
    const interfaces = {
      eth0: [entry("fe80::99", "IPv6")],
      eth1: [entry("192.0.2.1", "IPv4"), entry("2001:db8::1", "IPv6"), entry("fe80::a", "IPv6")],
    } as unknown as Parameters<typeof linkLocalAddressOf>[1];
    expect(formatIP(linkLocalAddressOf("eth1", interfaces)!)).toBe("fe80::a");
    expect(linkLocalAddressOf("eth2", interfaces)).toBeUndefined();
    expect(linkLocalAddressOf("eth1", { eth1: [entry("2001:db8::1", "IPv6")] } as typeof interfaces)).toBeUndefined();
  });
});

/** Runs a classic BPF program over a frame, as the kernel runs a packet socket filter. */
function runFilter(prog: readonly BpfInstruction[], frame: Buffer): number {
  let a = 0;
  for (let pc = 0; pc < prog.length; pc++) {
    const [code, jt, jf, k] = prog[pc];
    if (code === 0x28) a = k + 2 <= frame.length ? frame.readUInt16BE(k) : -1;
    else if (code === 0x30) a = k < frame.length ? frame[k] : -1;
    else if (code === 0x15) pc += a === k ? jt : jf;
    else if (code === 0x06) return k;
    else throw new Error(`opcode ${code}`);
    if (a === -1) return 0; // the kernel drops a packet when a load runs past its end
  }
  throw new Error("fell off the end");
}

describe("ROUTER_ADVERTISEMENT_FILTER", () => {
  const ra = raFrom(ROUTER_MAC, ROUTER_LL);
  const edited = (edit: (f: Buffer) => void) => {
    const f = Buffer.from(ra);
    edit(f);
    return f;
  };

  it("is what tcpdump compiles 'ip6 and ip6[6] == 58 and ip6[7] == 255 and ip6[40] == 134' to", () => {
    expect(ROUTER_ADVERTISEMENT_FILTER).toEqual([
      [0x28, 0, 0, 0x0000000c],
      [0x15, 0, 7, 0x000086dd],
      [0x30, 0, 0, 0x00000014],
      [0x15, 0, 5, 0x0000003a],
      [0x30, 0, 0, 0x00000015],
      [0x15, 0, 3, 0x000000ff],
      [0x30, 0, 0, 0x00000036],
      [0x15, 0, 1, 0x00000086],
      [0x6, 0, 0, 0x00040000],
      [0x6, 0, 0, 0x00000000],
    ]);
  });

  it("passes a router advertisement", () => {
    expect(runFilter(ROUTER_ADVERTISEMENT_FILTER, ra)).toBeGreaterThan(0);
  });

  it.each<[string, Buffer]>([
    ["a neighbor solicitation", neighborSolicitationFrame(ROUTER_LL, ROUTER_MAC, OUR_LL)],
    ["hop limit 254", edited((f) => (f[21] = 254))],
    ["UDP", edited((f) => (f[20] = 17))],
    ["another EtherType", edited((f) => f.writeUInt16BE(0x0800, 12))],
    ["a short frame", ra.subarray(0, 40)],
  ])("drops %s", (_, frame) => {
    expect(runFilter(ROUTER_ADVERTISEMENT_FILTER, frame)).toBe(0);
  });
});
