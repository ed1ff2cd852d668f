/**
 * BGPPeer: ASNs (with the per-peer localASN), address, timers, authentication, BFD
 * reference, and the fields metallb-pepr does not implement.
 */
import type { BGPPeerSpec } from "../../../crds/types";
import { parseIP, type IP } from "../net/ip";
import { isIntIn, q, show, type Diagnostics, type ObjectDiagnostics } from "./diagnostics";
import { parseDuration } from "./duration";
import { namedObjects } from "./objects";
import { checkSelectorList, selectNames, selectionsOverlap } from "./selectors";
import { passwordFromSecret } from "./password-secret";
import type { BFDProfileModel, ConfigInput, PeerModel } from "./types";

const MAX_U32 = 4294967295;
const DEFAULT_HOLD_S = 90;

const notSupported = (what: string, fix: string): string => `${what} is not supported by metallb-pepr; ${fix}`;

/** Parses a duration field into milliseconds, reporting unparseable text. */
function durationField(
  spec: BGPPeerSpec,
  field: "holdTime" | "keepaliveTime" | "connectTime",
  d: ObjectDiagnostics,
): number | undefined {
  const text = spec[field];
  if (text === undefined || text === null || text === "") return undefined;
  const ms = parseDuration(String(text));
  if (ms === undefined || ms < 0) {
    d.error(`spec.${field}`, `spec.${field}: invalid duration ${q(text)}; write a duration such as "90s" or "1m30s"`);
    return undefined;
  }
  return ms;
}

/** Hold and keepalive times in seconds, with MetalLB's defaults (90s, hold/3, 3x keepalive). */
function timers(spec: BGPPeerSpec, d: ObjectDiagnostics): { hold: number; keepalive: number } {
  const holdMs = durationField(spec, "holdTime", d);
  const keepMs = durationField(spec, "keepaliveTime", d);
  let hold = DEFAULT_HOLD_S;
  if (holdMs !== undefined) {
    const bad = (why: string) =>
      d.error("spec.holdTime", `spec.holdTime: invalid hold time ${q(spec.holdTime)}: ${why}`);
    if (holdMs !== 0 && holdMs < 3000) bad("must be 0 or >=3s");
    else if (holdMs % 1000 !== 0) bad(`must be a whole number of seconds`);
    else if (holdMs > 65535000) bad("must be at most 65535s");
    else hold = holdMs / 1000;
  }
  if (keepMs === undefined) return { hold, keepalive: hold / 3 };
  const keepalive = keepMs / 1000;
  if (holdMs === undefined) {
    // Only the keepalive given: the hold time follows it.
    const implied = Math.min(Math.floor(3 * keepalive), 65535);
    if (implied !== 0 && implied < 3) {
      d.error(
        "spec.keepaliveTime",
        `spec.keepaliveTime: invalid keepaliveTime ${q(spec.keepaliveTime)}: the hold time it implies (3 times) must be 0 or >=3s; set spec.holdTime too`,
      );
    }
    return { hold: implied, keepalive };
  }
  if (keepalive >= hold && !(keepalive === 0 && hold === 0)) {
    d.error(
      "spec.keepaliveTime",
      `spec.keepaliveTime: invalid keepaliveTime ${q(spec.keepaliveTime)}, must be lower than holdTime ${q(spec.holdTime)}`,
    );
  }
  return { hold, keepalive };
}

function asn(value: unknown, field: string, what: string, d: ObjectDiagnostics): number | undefined {
  if (!isIntIn(value, 1, MAX_U32)) {
    d.error(field, `${field}: invalid ${what} ${show(value)}, must be in 1-${MAX_U32} range`);
    return undefined;
  }
  return value;
}

function parseASNs(
  spec: BGPPeerSpec,
  d: ObjectDiagnostics,
): { my?: number; peer?: number; dynamic?: "internal" | "external" } {
  let my: number | undefined;
  if (spec.myASN === undefined || spec.myASN === null || spec.myASN === 0) {
    d.error("spec.myASN", "spec.myASN: missing local ASN; set spec.myASN to the AS number of the cluster nodes");
  } else {
    my = asn(spec.myASN, "spec.myASN", "local ASN", d);
  }
  const hasPeerASN = spec.peerASN !== undefined && spec.peerASN !== null && spec.peerASN !== 0;
  const dyn = spec.dynamicASN;
  let peer: number | undefined;
  if (hasPeerASN && dyn !== undefined) {
    d.error("spec.dynamicASN", "spec.dynamicASN: both peer ASN and dynamicASN specified; set only spec.peerASN");
  } else if (dyn !== undefined) {
    if (dyn === "internal" || dyn === "external") return { my, dynamic: dyn };
    d.error(
      "spec.dynamicASN",
      `spec.dynamicASN: invalid dynamicASN ${q(dyn)}; use "internal" (the peer has spec.myASN) or "external" (any other AS)`,
    );
  } else if (!hasPeerASN) {
    d.error("spec.peerASN", "spec.peerASN: missing peer ASN and dynamicASN; set spec.peerASN to the peer's AS number");
  } else {
    peer = asn(spec.peerASN, "spec.peerASN", "peer ASN", d);
  }
  return { my, peer };
}

/**
 * Per-peer local ASN: the AS this session presents instead of myASN, in its OPEN and as
 * the only AS in the AS_PATH it sends (FRR's `local-as N no-prepend replace-as`, which
 * MetalLB's FRR mode renders; its native mode refuses the field). It serves a router
 * that still expects the AS the cluster used to have. Like FRR's local-as it applies to
 * eBGP sessions only: the peer's AS differs from both myASN and localASN.
 */
function parseLocalASN(
  spec: BGPPeerSpec,
  my: number | undefined,
  peer: number | undefined,
  dynamic: "internal" | "external" | undefined,
  d: ObjectDiagnostics,
): number | undefined {
  if (spec.localASN === undefined || spec.localASN === null) return undefined;
  const local = asn(spec.localASN, "spec.localASN", "local ASN", d);
  if (local === undefined) return undefined;
  const bad = (why: string) => {
    d.error("spec.localASN", `spec.localASN: ${why}`);
    return undefined;
  };
  if (local === my)
    return bad(`localASN ${local} equals myASN; remove spec.localASN, or set it to the other AS number to present`);
  if (dynamic === "internal")
    return bad(
      `localASN applies to eBGP sessions only, and dynamicASN "internal" makes this one iBGP; remove spec.localASN or use dynamicASN "external"`,
    );
  if (peer !== undefined && (peer === my || peer === local))
    return bad(
      `localASN applies to eBGP sessions only, and peerASN ${peer} equals ${peer === my ? "myASN" : "localASN"}, which makes this session iBGP; remove spec.localASN`,
    );
  return local;
}

/**
 * Linux interface names (dev_valid_name): 1-15 bytes, not "." or "..", no "/", ":" or
 * whitespace. Anything else cannot name a NIC on any node.
 */
const validInterfaceName = (name: string): boolean =>
  Buffer.byteLength(name) <= 15 && name !== "." && name !== ".." && !/[/:\s]/.test(name);

function parseAddresses(
  spec: BGPPeerSpec,
  d: ObjectDiagnostics,
): { address?: IP; iface?: string; source?: IP; routerID?: IP } {
  const addrText = spec.peerAddress ?? "";
  const ifaceText = spec.interface ?? "";
  let address: IP | undefined;
  let iface: string | undefined;
  if (addrText !== "" && ifaceText !== "") {
    d.error(
      "spec.interface",
      "spec.interface: peer has both Address and Interface specified; set only spec.peerAddress, or only spec.interface for BGP unnumbered",
    );
  } else if (ifaceText !== "") {
    if (validInterfaceName(ifaceText)) iface = ifaceText;
    else
      d.error(
        "spec.interface",
        `spec.interface: invalid interface name ${q(ifaceText)}; write the name of a node NIC, 1 to 15 characters without "/", ":" or spaces, such as "eth1"`,
      );
  } else if (addrText === "") {
    d.error(
      "spec.peerAddress",
      "spec.peerAddress: peer has no Address or Interface specified; set spec.peerAddress to the peer's IP address, or spec.interface for BGP unnumbered",
    );
  } else {
    address = parseIP(addrText);
    if (!address)
      d.error(
        "spec.peerAddress",
        `spec.peerAddress: invalid BGPPeer address ${q(addrText)}; write an IPv4 or IPv6 address such as "192.0.2.1"`,
      );
  }
  let source: IP | undefined;
  if (spec.sourceAddress) {
    source = parseIP(spec.sourceAddress);
    if (!source) {
      d.error(
        "spec.sourceAddress",
        `spec.sourceAddress: invalid source IP ${q(spec.sourceAddress)}; write an IP address of the node`,
      );
    } else if (address && source.family !== address.family) {
      d.error(
        "spec.sourceAddress",
        `spec.sourceAddress: source IP ${q(spec.sourceAddress)} and peer address ${q(addrText)} are of different IP families; use a source address of the peer's family`,
      );
    }
  }
  let routerID: IP | undefined;
  if (spec.routerID) {
    routerID = parseIP(spec.routerID);
    if (!routerID || routerID.family !== 4) {
      routerID = undefined;
      d.error(
        "spec.routerID",
        `spec.routerID: invalid router ID ${q(spec.routerID)}; a router ID is written as an IPv4 address such as "10.0.0.1"`,
      );
    }
  }
  return { address, iface, source, routerID };
}

/**
 * What BGP unnumbered does not combine with, each refused with the reason: the session runs
 * between the two ends of one link, from the node's link-local address on it.
 */
function checkUnnumbered(spec: BGPPeerSpec, iface: string, d: ObjectDiagnostics): void {
  const refuse = (field: string, why: string) => d.error(`spec.${field}`, `spec.${field}: ${why}`);
  if (spec.sourceAddress)
    refuse(
      "sourceAddress",
      `an unnumbered session (interface ${q(iface)}) always runs from the node's link-local address on that interface; remove spec.sourceAddress`,
    );
  if (spec.ebgpMultiHop)
    refuse(
      "ebgpMultiHop",
      `an unnumbered session (interface ${q(iface)}) reaches only the router at the other end of the link; remove spec.ebgpMultiHop`,
    );
}

function parsePassword(
  name: string,
  spec: BGPPeerSpec,
  input: ConfigInput,
  d: ObjectDiagnostics,
): { password?: string; secret?: { name: string; namespace: string } } {
  const ref = spec.passwordSecret;
  if (!ref) return { password: spec.password || undefined };
  if (spec.password) {
    d.error(
      "spec.passwordSecret",
      `spec.passwordSecret: can not have both password and secret ref set in peer config ${q(input.namespace)}/${q(name)}; use either spec.password or spec.passwordSecret`,
    );
    return {};
  }
  if (!ref.name) {
    d.error(
      "spec.passwordSecret.name",
      "spec.passwordSecret.name: missing secret name; name a Secret holding the password",
    );
    return {};
  }
  if (ref.namespace && ref.namespace !== input.namespace) {
    d.error(
      "spec.passwordSecret.namespace",
      `spec.passwordSecret.namespace: the password Secret must be in the ${q(input.namespace)} namespace, not ${q(ref.namespace)}`,
    );
    return {};
  }
  const secretRef = { name: ref.name, namespace: input.namespace };
  if (!input.secrets) return { secret: secretRef };
  const where = `${q(secretRef.namespace)}/${q(secretRef.name)}`;
  const secret = input.secrets.find(
    (s) => s.metadata?.name === ref.name && (s.metadata?.namespace ?? input.namespace) === input.namespace,
  );
  const read = passwordFromSecret(secret, where);
  if (read.ok) return { password: read.password, secret: secretRef };
  d.error("spec.passwordSecret", `spec.passwordSecret: ${read.message}`, read.transient ? { transient: true } : {});
  return { secret: secretRef };
}

export function parsePeers(
  input: ConfigInput,
  bfdProfiles: ReadonlyMap<string, BFDProfileModel>,
  diags: Diagnostics,
): Map<string, PeerModel> {
  const peers = new Map<string, PeerModel>();
  const sessions: Session[] = [];
  for (const { name, obj } of namedObjects("BGPPeer", input.bgpPeers, input.namespace, diags)) {
    const d = diags.for("BGPPeer", name);
    const spec: BGPPeerSpec = obj.spec ?? ({} as BGPPeerSpec);
    if (spec.disableMP) d.warn("spec.disableMP", "spec.disableMP: disableMP is deprecated and has no effect");
    const { my, peer, dynamic } = parseASNs(spec, d);
    if (spec.ebgpMultiHop && my !== undefined && (my === peer || dynamic === "internal")) {
      d.error(
        "spec.ebgpMultiHop",
        `spec.ebgpMultiHop: invalid ebgp-multihop parameter set for an ibgp peer; remove it (peerASN equals myASN ${my})`,
      );
    }
    const local = parseLocalASN(spec, my, peer, dynamic, d);
    if (spec.vrf)
      d.error(
        "spec.vrf",
        `spec.vrf: ${notSupported(
          `vrf ${q(spec.vrf)}`,
          "sessions in a Linux VRF are not offered because they cannot be tested where this project is built (no VRF devices); remove spec.vrf to peer from the default VRF",
        )}`,
      );
    const { address, iface, source, routerID } = parseAddresses(spec, d);
    if (iface !== undefined) checkUnnumbered(spec, iface, d);
    const port = spec.peerPort === undefined || spec.peerPort === null || spec.peerPort === 0 ? 179 : spec.peerPort;
    if (!isIntIn(port, 1, 16384))
      d.error("spec.peerPort", `spec.peerPort: invalid peer port ${show(port)}, must be in 1-16384 range`);
    const { hold, keepalive } = timers(spec, d);
    const connectMs = durationField(spec, "connectTime", d);
    if (connectMs !== undefined && (connectMs % 1000 !== 0 || connectMs < 1000 || connectMs > 65535000)) {
      d.error(
        "spec.connectTime",
        `spec.connectTime: invalid connect time ${q(spec.connectTime)}: must be a whole number of seconds from 1s to 65535s`,
      );
    }
    const { password, secret } = parsePassword(name, spec, input, d);
    const nodeSelectors = checkSelectorList(
      spec.nodeSelectors,
      { field: "spec.nodeSelectors", parseError: "failed to parse node selector", listName: "nodeSelectors" },
      d,
    );
    if (spec.bfdProfile) {
      if (!bfdProfiles.has(spec.bfdProfile)) {
        d.error(
          "spec.bfdProfile",
          `spec.bfdProfile: peer ${q(name)} referencing non existing bfd profile ${q(spec.bfdProfile)}; create that BFDProfile or remove spec.bfdProfile`,
          { transient: true, related: [{ kind: "BFDProfile", name: spec.bfdProfile }] },
        );
      }
    }
    peers.set(name, {
      name,
      myASN: my ?? 0,
      ...(local !== undefined ? { localASN: local } : {}),
      peerASN: peer ?? 0,
      ...(dynamic ? { dynamicASN: dynamic } : {}),
      ...(address ? { address } : {}),
      ...(iface !== undefined ? { interface: iface } : {}),
      port,
      holdTimeSeconds: hold,
      keepaliveTimeSeconds: keepalive,
      connectTimeSeconds: connectMs === undefined ? undefined : connectMs / 1000,
      routerID,
      sourceAddress: source,
      password,
      passwordSecret: secret,
      ebgpMultiHop: spec.ebgpMultiHop ?? false,
      dualStackAddressFamily: spec.dualStackAddressFamily ?? false,
      enableGracefulRestart: spec.enableGracefulRestart ?? false,
      nodeSelectors,
      nodes: input.nodes ? selectNames(nodeSelectors, input.nodes) : undefined,
      bfdProfile: spec.bfdProfile || undefined,
    });
    if (address || iface !== undefined) {
      const session = { name, address, iface, port, nodeSelectors };
      checkDuplicateSession(sessions, session, spec.peerAddress ?? "", input, d);
      sessions.push(session);
    }
  }
  return peers;
}

interface Session {
  name: string;
  address?: IP;
  iface?: string;
  port: number;
  nodeSelectors: PeerModel["nodeSelectors"];
}

/** One node cannot run two sessions to the same address and port, or two over one interface. */
function checkDuplicateSession(
  earlier: readonly Session[],
  me: Session,
  addrText: string,
  input: ConfigInput,
  d: ObjectDiagnostics,
): void {
  const same = (o: Session): boolean =>
    me.address
      ? o.address?.family === me.address.family && o.address.value === me.address.value && o.port === me.port
      : o.iface === me.iface;
  const other = earlier.find((o) => same(o) && selectionsOverlap(o.nodeSelectors, me.nodeSelectors, input.nodes));
  if (!other) return;
  if (me.address)
    d.error(
      "spec.peerAddress",
      `spec.peerAddress: peer ${q(addrText)} port ${me.port} is already defined in BGPPeer ${q(other.name)} for some of the same nodes; merge the two peers or give them disjoint nodeSelectors`,
      { related: [{ kind: "BGPPeer", name: other.name }] },
    );
  else
    d.error(
      "spec.interface",
      `spec.interface: interface ${q(me.iface)} already carries the unnumbered session of BGPPeer ${q(other.name)} on some of the same nodes (one router per link); merge the two peers or give them disjoint nodeSelectors`,
      { related: [{ kind: "BGPPeer", name: other.name }] },
    );
}
