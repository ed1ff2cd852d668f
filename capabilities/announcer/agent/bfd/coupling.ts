/**
 * BFD as a client service for BGP (RFC 5882): which BFD session a BGPSession gets, what a
 * BFD state change does to the BGP session, and the BFD part of BGPSession status.
 *
 * - A BGPSession with spec.bfd gets a BFD session to spec.peerAddress (single hop, or
 *   multihop for ebgpMultiHop peers), from spec.sourceAddress when set.
 * - Up -> Down is a path failure (RFC 5882 §3.2): the BGP session is torn down at once
 *   (NOTIFICATION Cease / BFD Down, RFC 9384) and is not re-dialled until BFD is Up again,
 *   so BGP does not flap over a path BFD calls broken.
 * - Down because the peer said AdminDown is not a failure (RFC 5882 §3.2): BGP is left
 *   alone, and a hold from an earlier failure is lifted (the peer stopped running BFD).
 * - A BFD session that has never been Up does not hold BGP (RFC 5882 §4.3: BFD may not be
 *   configured on the peer yet, and BGP must not depend on it before it is Up).
 * - Changing the profile's values re-configures the running BFD session (a Poll Sequence,
 *   RFC 5880 §6.5); it does not restart BGP.
 */
import type { BGPSessionBFDStatus, BGPSessionSpec, BGPSessionStatus } from "../../../../crds/types";
import type { BfdListener, BfdPeer, BfdSessions, BfdSnapshot, BfdStateName } from "./sessions";

/** What the BGP session must do after a BFD state change. */
export type BgpReaction = "tear-down" | "release" | "none";

/** The pure decision of RFC 5882 §3.2 / §4.3 (see the file header). */
export function bgpReaction(from: BfdStateName | undefined, s: BfdSnapshot): BgpReaction {
  if (s.state === "Up") return "release";
  if (from !== "Up") return s.state === "Down" && s.remoteState === "AdminDown" ? "release" : "none";
  if (s.state === "AdminDown") return "none"; // our own stop: BGP is being stopped too
  return s.remoteState === "AdminDown" ? "release" : "tear-down";
}

/** BFD settings of a BGPSession spec; undefined when it has none. */
export function bfdPeerOf(spec: BGPSessionSpec | undefined): BfdPeer | undefined {
  const b = spec?.bfd;
  if (!b || !spec?.peerAddress) return undefined;
  return {
    peerAddress: spec.peerAddress,
    ...(spec.sourceAddress ? { localAddress: spec.sourceAddress } : {}),
    multihop: b.multihop ?? false,
    ...(b.multihop ? { minimumTtl: b.minimumTtl ?? 254 } : {}),
    config: {
      desiredMinTxUs: (b.transmitInterval ?? 300) * 1000,
      requiredMinRxUs: (b.receiveInterval ?? 300) * 1000,
      detectMult: b.detectMultiplier ?? 3,
      passive: b.passiveMode ?? false,
    },
  };
}

export function bfdStatusOf(s: BfdSnapshot): BGPSessionBFDStatus {
  return {
    state: s.state,
    remoteState: s.remoteState,
    diagnostic: s.localDiagnostic,
    remoteDiagnostic: s.remoteDiagnostic,
    since: s.since.toISOString(),
    transmitInterval: Math.round(s.transmitIntervalMs),
    detectionTime: Math.round(s.detectionTimeMs),
    multihop: s.multihop,
    downEvents: s.downEvents,
  };
}

/**
 * A BGPSession status with its `bfd` part: the live BFD state, or null (a merge patch
 * then removes a stale one, e.g. after the BGPPeer's bfdProfile was removed).
 */
export function withBfdStatus(status: BGPSessionStatus, bfd: BGPSessionBFDStatus | undefined): BGPSessionStatus {
  return { ...status, bfd: bfd ?? null } as unknown as BGPSessionStatus;
}

/** The part of a BGP session the coupling drives. */
export interface BfdClient {
  bfdDown(): void;
  bfdReleased(): void;
}

interface Attached {
  /** The BfdPeer it runs, as JSON (a change re-attaches). */
  readonly peer: string;
  readonly client: BfdClient;
  readonly changed: () => void;
  last?: BfdSnapshot;
}

/** Attaches BFD sessions to BGP sessions by key (the BGPSession name). */
export class BgpBfdCoupling {
  private readonly attached = new Map<string, Attached>();

  constructor(
    private readonly bfd: BfdSessions,
    private readonly log: (msg: string, extra?: Record<string, unknown>) => void,
  ) {}

  /**
   * Starts, re-configures or (spec without bfd) stops the BFD session of `key`.
   * `changed` runs on every BFD state change, after the BGP session has reacted.
   */
  async attach(key: string, spec: BGPSessionSpec | undefined, client: BfdClient, changed: () => void): Promise<void> {
    const peer = bfdPeerOf(spec);
    if (!peer) return this.detach(key);
    const id = JSON.stringify(peer);
    if (this.attached.get(key)?.peer === id) return;
    const entry: Attached = { peer: id, client, changed };
    this.attached.set(key, entry);
    const listener: BfdListener = (s, from) => {
      entry.last = s;
      const reaction = bgpReaction(from, s);
      if (reaction === "tear-down") {
        this.log("BFD session down: tearing the BGP session down", { session: key, diagnostic: s.localDiagnostic });
        client.bfdDown();
      } else if (reaction === "release") client.bfdReleased();
      changed();
    };
    try {
      await this.bfd.acquire(key, peer, listener);
    } catch (err) {
      this.attached.delete(key);
      this.log(`BFD session could not start: ${(err as Error).message}`, { session: key });
    }
  }

  /** Stops the BFD session of `key`; a BGP session held by an earlier BFD failure is let go. */
  async detach(key: string): Promise<void> {
    const entry = this.attached.get(key);
    if (!entry) return;
    this.attached.delete(key);
    entry.client.bfdReleased();
    await this.bfd.release(key);
    entry.changed(); // status.bfd goes away
  }

  /** The status.bfd of `key`, or undefined without BFD. */
  status(key: string): BGPSessionBFDStatus | undefined {
    const last = this.attached.get(key)?.last;
    return last ? bfdStatusOf(last) : undefined;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.attached.keys()].map((k) => this.detach(k)));
    await this.bfd.stop();
  }
}
