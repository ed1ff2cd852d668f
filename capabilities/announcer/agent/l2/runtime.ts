/**
 * The L2 responder as it runs on a node: AF_PACKET sockets on the usable interfaces,
 * answering ARP/NDP for the IPs this node owns (decided by the pure responder), with
 * gratuitous ARP / unsolicited NA bursts when it takes an IP.
 *
 * Two inputs: the desired IPs (from this node's ServiceL2Status objects) and `active`
 * (false while fenced or not yet synced). Losing an IP or going inactive takes effect
 * synchronously: the next frame is already judged against the new set.
 */
import { formatIP, type IP } from "../../../shared/net/ip";
import { ETHERTYPE_ARP, ETHERTYPE_IPV6, decodeEthernet } from "./ethernet";
import { decodeArp } from "./arp";
import { gratuitousFrames } from "./gratuitous";
import { decodeIPv6, decodeNdMessage, solicitedNodeMAC } from "./ndp";
import { announcedSet, decide, type AnnouncedIPs } from "./responder";
import { announcementIn } from "./takeover";
import {
  ARP_REQUEST_FILTER,
  NEIGHBOR_DISCOVERY_FILTER,
  closePacket,
  interfaceInfo,
  joinMulticast,
  leaveMulticast,
  openPacket,
  sendPacket,
  type PacketHandle,
} from "../native";
import { agentMetrics } from "../metrics";

export interface DesiredIP {
  readonly ip: IP;
  /** Interfaces to answer on; empty = every usable interface. */
  readonly interfaces: readonly string[];
}

/** MetalLB's takeover schedule: a burst at once, then every 1.1 s while 5 s have not passed. */
export const BURST_OFFSETS_MS = [0, 1100, 2200, 3300, 4400];

interface Port {
  readonly name: string;
  readonly mac: Buffer;
  arp?: PacketHandle;
  nd?: PacketHandle;
  announced: AnnouncedIPs;
}

export interface L2RuntimeOptions {
  /** The usable interface names, re-read every rescan. */
  interfaces: () => string[];
  /** Gratuitous refresh period after the takeover bursts; 0 = none. */
  refreshMs: number;
  rescanMs?: number;
  log: (msg: string) => void;
  /**
   * Called right before answering a request or sending a gratuitous announcement: the
   * agent brings its desired set up to date there if its membership verdict has expired
   * (after a pause, a timer may not have run yet), so nothing goes out on a stale verdict.
   */
  beforeSending?: () => void;
}

const NOTHING = announcedSet([]);

export class L2Runtime {
  private readonly ports = new Map<string, Port>();
  private desired: DesiredIP[] = [];
  private active = false;
  /** "iface|ip" pairs answered now, each with its pending burst timers. */
  private readonly pairs = new Map<string, { port: Port; ip: IP; timers: NodeJS.Timeout[] }>();
  private rescanTimer?: NodeJS.Timeout;
  private announcementListener?: (ip: string) => void;

  constructor(private readonly opts: L2RuntimeOptions) {}

  /**
   * Calls `listener` with each IP another host announces (gratuitous ARP, unsolicited NA)
   * on our interfaces; undefined stops listening. The agent lets go of a moved address on
   * the new owner's announcement (draining, and moves between live nodes).
   */
  onAnnouncement(listener: ((ip: string) => void) | undefined): void {
    this.announcementListener = listener;
  }

  start(): void {
    this.rescan();
    this.rescanTimer = setInterval(() => this.rescan(), this.opts.rescanMs ?? 10_000);
  }

  /** The IPs this node should answer for (when active). */
  setDesired(desired: DesiredIP[]): void {
    this.desired = desired;
    this.apply();
  }

  /** Answer at all? False while fenced, draining done, or not yet in sync. */
  setActive(active: boolean): void {
    if (this.active === active) return;
    this.active = active;
    this.apply();
  }

  get isActive(): boolean {
    return this.active;
  }

  /** The IP texts answered on some interface right now. */
  answering(): string[] {
    return [...new Set([...this.pairs.keys()].map((k) => k.slice(k.indexOf("|") + 1)))].sort();
  }

  stop(): void {
    clearInterval(this.rescanTimer);
    this.active = false;
    this.apply();
    for (const port of this.ports.values()) this.closePort(port);
    this.ports.clear();
  }

  private rescan(): void {
    const names = new Set(this.opts.interfaces());
    for (const [name, port] of this.ports) {
      if (!names.has(name)) {
        this.closePort(port);
        this.ports.delete(name);
      }
    }
    for (const name of names) {
      if (this.ports.has(name)) continue;
      try {
        this.ports.set(name, this.openPort(name));
        this.opts.log(`listening for ARP/NDP on ${name}`);
      } catch (err) {
        this.opts.log(`cannot listen on ${name}: ${(err as Error).message}`);
      }
    }
    this.apply();
  }

  private openPort(name: string): Port {
    const info = interfaceInfo(name);
    const port: Port = { name, mac: info.mac, announced: NOTHING };
    port.arp = openPacket(name, ETHERTYPE_ARP, (f) => this.onFrame(port, port.arp, f), ARP_REQUEST_FILTER);
    try {
      port.nd = openPacket(name, ETHERTYPE_IPV6, (f) => this.onFrame(port, port.nd, f), NEIGHBOR_DISCOVERY_FILTER);
    } catch (err) {
      this.opts.log(`no NDP on ${name}: ${(err as Error).message}`);
    }
    return port;
  }

  private closePort(port: Port): void {
    for (const h of [port.arp, port.nd]) if (h) closePacket(h);
    port.arp = port.nd = undefined;
  }

  private onFrame(port: Port, handle: PacketHandle | undefined, frame: Buffer): void {
    if (this.announcementListener) {
      const a = announcementIn(frame, port.mac);
      if (a) this.announcementListener(formatIP(a.ip));
    }
    this.opts.beforeSending?.();
    const d = decide(frame, port.mac, port.announced);
    if (!d.reply || !handle) return;
    const ip = requestTarget(frame) ?? "unknown";
    agentMetrics.requestsReceived.inc({ device: port.name, ip });
    try {
      sendPacket(handle, d.reply);
      agentMetrics.responsesSent.inc({ device: port.name, ip });
    } catch (err) {
      this.opts.log(`sending on ${port.name}: ${(err as Error).message}`);
    }
  }

  /** Recomputes what each port answers and starts/stops gratuitous bursts for the difference. */
  private apply(): void {
    const want = new Map<string, { port: Port; ip: IP }>();
    if (this.active) {
      for (const d of this.desired) {
        for (const port of this.ports.values()) {
          if (d.interfaces.length === 0 || d.interfaces.includes(port.name))
            want.set(`${port.name}|${formatIP(d.ip)}`, { port, ip: d.ip });
        }
      }
    }
    for (const port of this.ports.values()) {
      port.announced = announcedSet([...want.values()].filter((w) => w.port === port).map((w) => w.ip));
    }
    for (const [key, pair] of this.pairs) {
      if (want.has(key)) continue;
      pair.timers.forEach((t) => clearTimeout(t));
      this.membership(pair.port, pair.ip, false);
      this.pairs.delete(key);
    }
    for (const [key, { port, ip }] of want) {
      if (this.pairs.has(key)) continue;
      this.membership(port, ip, true);
      this.pairs.set(key, { port, ip, timers: this.scheduleBursts(port, ip) });
    }
  }

  /**
   * RFC 4861 §7.2.1: a node answering for an IPv6 address joins its solicited-node group.
   * Solicitations are sent to that group's MAC (33:33:ff + low 24 bits), which a real NIC
   * drops unless someone on the host joined it. The kernel counts memberships per socket,
   * so addresses sharing a group each hold one.
   */
  private membership(port: Port, ip: IP, join: boolean): void {
    if (ip.family !== 6 || !port.nd) return;
    try {
      (join ? joinMulticast : leaveMulticast)(port.nd, solicitedNodeMAC(ip));
    } catch (err) {
      this.opts.log(
        `${join ? "joining" : "leaving"} the solicited-node group of ${formatIP(ip)} on ${port.name}: ${(err as Error).message}`,
      );
    }
  }

  private scheduleBursts(port: Port, ip: IP): NodeJS.Timeout[] {
    // The first burst goes out from apply() itself, on the verdict it was called with; the
    // later ones run from timers and check the verdict again first.
    const burst = (): void => this.sendGratuitous(port, ip, true);
    this.sendGratuitous(port, ip, false);
    const timers = BURST_OFFSETS_MS.slice(1).map((ms) => setTimeout(burst, ms));
    if (this.opts.refreshMs > 0) {
      const last = BURST_OFFSETS_MS[BURST_OFFSETS_MS.length - 1];
      timers.push(setTimeout(() => timers.push(setInterval(burst, this.opts.refreshMs)), last));
    }
    return timers;
  }

  private sendGratuitous(port: Port, ip: IP, recheck: boolean): void {
    if (recheck) {
      this.opts.beforeSending?.();
      if (!this.pairs.has(`${port.name}|${formatIP(ip)}`)) return;
    }
    const handle = ip.family === 4 ? port.arp : port.nd;
    if (!handle) return;
    for (const frame of gratuitousFrames(ip, port.mac)) {
      try {
        sendPacket(handle, frame);
        agentMetrics.gratuitousSent.inc({ ip: formatIP(ip) });
      } catch (err) {
        this.opts.log(`gratuitous on ${port.name}: ${(err as Error).message}`);
      }
    }
  }
}

/** The IP an ARP request or Neighbor Solicitation asks about (for metric labels). */
function requestTarget(frame: Buffer): string | undefined {
  const eth = decodeEthernet(frame);
  if (!eth) return undefined;
  if (eth.etherType === ETHERTYPE_ARP) {
    const arp = decodeArp(eth.payload);
    return arp && formatIP(arp.targetIp);
  }
  const v6 = decodeIPv6(eth.payload);
  const nd = v6 && decodeNdMessage(v6.payload);
  return nd ? formatIP(nd.target) : undefined;
}
