/**
 * Desired BGPSession objects: one per planned (node, BGPPeer), with everything
 * the agent needs to dial already resolved from the parsed peer. Pure.
 *
 * The password is never copied: a Secret-backed peer is referenced by Secret;
 * a plain-text spec.password is referenced by BGPPeer (the agent reads it
 * there), with the peer's generation so a password change reaches the agent.
 */
import { createHash } from "node:crypto";
import type { BGPSessionSpec } from "../../../crds/types";
import type { BFDProfileModel, Config, NamedLabels, PeerModel } from "../../shared/config";
import { plannedSessions } from "../../shared/bgp";
import { formatIP } from "../../shared/net/ip";

export const NODE_LABEL = "metallb.io/node";
export const PEER_LABEL = "metallb.io/peer";
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY = "metallb-pepr";
/** "BGPPeer" when the agent must read spec.password from the BGPPeer named in spec.peer. */
export const PASSWORD_SOURCE_ANNOTATION = "metallb.io/password-source";
export const PEER_GENERATION_ANNOTATION = "metallb.io/peer-generation";

const MAX_NAME = 253;

/** "<peer>-<node>"; when that exceeds 253 characters, a prefix plus a hash of both names keeps it unique. */
export function sessionName(peer: string, node: string): string {
  const plain = `${peer}-${node}`;
  if (plain.length <= MAX_NAME) return plain;
  const hash = createHash("sha256").update(`${peer}\0${node}`).digest("hex").slice(0, 16);
  // Trailing dots or dashes are not allowed before the separator.
  const head = plain.slice(0, MAX_NAME - hash.length - 1).replace(/[-.]+$/, "");
  return `${head}-${hash}`;
}

export interface DesiredSession {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly spec: BGPSessionSpec;
}

/**
 * A BFDProfile's values for a session. ebgpMultiHop peers run multihop BFD (RFC 5883),
 * the others single hop (RFC 5881), as FRR does for MetalLB's FRR mode.
 */
export function sessionBfd(profile: BFDProfileModel, peer: PeerModel): NonNullable<BGPSessionSpec["bfd"]> {
  return {
    profile: profile.name,
    receiveInterval: profile.receiveInterval,
    transmitInterval: profile.transmitInterval,
    detectMultiplier: profile.detectMultiplier,
    passiveMode: profile.passiveMode,
    multihop: peer.ebgpMultiHop,
    minimumTtl: profile.minimumTtl,
  };
}

/** BGP timers are whole seconds on the wire; a positive fraction rounds down, never to 0 (which disables). */
const wholeSeconds = (s: number): number => (s > 0 ? Math.max(1, Math.floor(s)) : 0);

export function sessionSpec(peer: PeerModel, node: string, bfd?: BFDProfileModel): BGPSessionSpec {
  return {
    node,
    peer: peer.name,
    ...(peer.address ? { peerAddress: formatIP(peer.address) } : { interface: peer.interface }),
    ...(peer.dynamicASN ? { dynamicASN: peer.dynamicASN } : { peerASN: peer.peerASN }),
    // The AS the session presents: the BGPPeer's localASN replaces myASN in the OPEN and
    // the AS_PATH (FRR's `local-as N no-prepend replace-as`).
    myASN: peer.localASN ?? peer.myASN,
    ...(peer.sourceAddress ? { sourceAddress: formatIP(peer.sourceAddress) } : {}),
    peerPort: peer.port,
    ...(peer.routerID ? { routerID: formatIP(peer.routerID) } : {}),
    holdTime: peer.holdTimeSeconds,
    // Only when the user chose one: the default (a third of the hold time) is the agent's too,
    // and a spec that changes on upgrade would reset every session once.
    ...(peer.keepaliveTimeSeconds !== peer.holdTimeSeconds / 3
      ? { keepaliveTime: wholeSeconds(peer.keepaliveTimeSeconds) }
      : {}),
    ...(peer.connectTimeSeconds !== undefined ? { connectTime: peer.connectTimeSeconds } : {}),
    ebgpMultiHop: peer.ebgpMultiHop,
    // Only when set, so that existing sessions' specs do not change on upgrade.
    ...(peer.dualStackAddressFamily ? { dualStackAddressFamily: true } : {}),
    enableGracefulRestart: peer.enableGracefulRestart,
    ...(peer.passwordSecret
      ? {
          passwordSecretRef: {
            name: peer.passwordSecret.name,
            namespace: peer.passwordSecret.namespace,
            key: "password",
          },
        }
      : {}),
    ...(bfd ? { bfd: sessionBfd(bfd, peer) } : {}),
  };
}

/**
 * Every session that should exist, keyed by object name.
 * peerGenerations: BGPPeer name -> metadata.generation (for plain-text passwords).
 */
export function desiredSessions(
  config: Config,
  nodes: readonly NamedLabels[],
  peerGenerations: ReadonlyMap<string, number> = new Map(),
): Map<string, DesiredSession> {
  const out = new Map<string, DesiredSession>();
  for (const { node, peer } of plannedSessions(config, nodes)) {
    const name = sessionName(peer.name, node.name);
    const plainPassword = !peer.passwordSecret && !!peer.password;
    out.set(name, {
      name,
      labels: { [NODE_LABEL]: node.name, [PEER_LABEL]: peer.name, [MANAGED_BY_LABEL]: MANAGED_BY },
      annotations: plainPassword
        ? {
            [PASSWORD_SOURCE_ANNOTATION]: "BGPPeer",
            [PEER_GENERATION_ANNOTATION]: String(peerGenerations.get(peer.name) ?? 0),
          }
        : {},
      spec: sessionSpec(
        peer,
        node.name,
        config.bfdProfiles.find((b) => b.name === peer.bfdProfile),
      ),
    });
  }
  return out;
}

export interface ExistingSession {
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Partial<BGPSessionSpec>;
}

/** Spec fields the API server defaults, so a fresh read compares equal to what we sent. */
const withDefaults = (spec: Partial<BGPSessionSpec>): Partial<BGPSessionSpec> => ({
  peerPort: 179,
  enableGracefulRestart: false,
  ...spec,
  ...(spec.passwordSecretRef ? { passwordSecretRef: { key: "password", ...spec.passwordSecretRef } } : {}),
});

const canonical = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );

const ownedAnnotations = (a: Readonly<Record<string, string>> = {}) =>
  Object.fromEntries(
    [PASSWORD_SOURCE_ANNOTATION, PEER_GENERATION_ANNOTATION].flatMap((k) => (k in a ? [[k, a[k]]] : [])),
  );

/** What reconciling one session takes: nothing, an apply (create/update), or delete-then-create. */
export type SessionAction = "none" | "apply" | "recreate";

export function sessionAction(desired: DesiredSession, existing: ExistingSession | undefined): SessionAction {
  if (!existing) return "apply";
  const spec = existing.spec ?? {};
  // node and peer are immutable (CEL): a same-named object for another pair must be replaced.
  if (spec.node !== desired.spec.node || spec.peer !== desired.spec.peer) return "recreate";
  const labels = existing.metadata?.labels ?? {};
  const labelsMatch = Object.entries(desired.labels).every(([k, v]) => labels[k] === v);
  const same =
    labelsMatch &&
    canonical(withDefaults(spec)) === canonical(withDefaults(desired.spec)) &&
    canonical(ownedAnnotations(existing.metadata?.annotations)) === canonical(desired.annotations);
  return same ? "none" : "apply";
}
