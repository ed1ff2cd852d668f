/**
 * Judges decoded messages: RFC 4271 §6.2 for OPEN, and RFC 4271 §6.3 as
 * revised by RFC 7606 for UPDATE. Each UPDATE problem maps to one of the
 * RFC 7606 §2 approaches; when several apply the most severe wins. Every
 * treat-as-withdraw problem also names the RFC 4271 §6.3 NOTIFICATION it
 * would have cost, which is sent when RFC 7606 §5.2 turns it into a reset.
 */
import type { IP } from "../../../shared/net/ip";
import { attributeCode, defaultAttributeFlags, encodeAttribute, encodeCapability } from "./encode";
import {
  AttrFlag,
  AttrType,
  BGP_VERSION,
  bgpError,
  type BgpError,
  type OpenMessage,
  type PathAttribute,
  type UpdateMessage,
} from "./messages";
import { ErrorCode, OpenSubcode, UpdateSubcode } from "./notification";

// ---------------------------------------------------------------- OPEN

export interface OpenContext {
  readonly localAS: number;
  /** The AS we expect; undefined accepts any (dynamic peer AS). */
  readonly expectedPeerAS?: number;
  /**
   * BGPPeer dynamicASN: any AS equal to ours (internal) or any other (external). The
   * RFC leaves acceptable peer ASes to configuration (RFC 4271 §6.2: "the Autonomous
   * System field ... is unacceptable"); this is that configuration.
   */
  readonly dynamicPeerAS?: "internal" | "external";
  readonly localId: IP;
}

/** The peer's real AS: the 4-octet AS capability when present (RFC 6793 §4.1), else My AS. */
export function peerASOf(open: OpenMessage): number {
  const cap = open.capabilities.find((c) => c.type === "four-octet-as");
  return cap && cap.type === "four-octet-as" ? cap.asn : open.myAS;
}

const openError = (subcode: number, reason: string, data?: Buffer): BgpError =>
  bgpError(ErrorCode.OPEN_MESSAGE, subcode, reason, data);

/** RFC 4271 §6.2 checks, in the RFC's order. Undefined when the OPEN is acceptable. */
export function validateOpen(open: OpenMessage, ctx: OpenContext): BgpError | undefined {
  // RFC 4271 §6.2: data is the largest version we support, as 2 octets.
  if (open.version !== BGP_VERSION) {
    return openError(
      OpenSubcode.UNSUPPORTED_VERSION,
      `peer speaks BGP version ${open.version}, we speak ${BGP_VERSION}`,
      Buffer.from([0, BGP_VERSION]),
    );
  }
  const peerAS = peerASOf(open);
  // RFC 7607 §2: AS 0 in an OPEN is a Bad Peer AS.
  if (peerAS === 0) return openError(OpenSubcode.BAD_PEER_AS, "peer AS is 0");
  if (ctx.expectedPeerAS !== undefined && peerAS !== ctx.expectedPeerAS) {
    return openError(OpenSubcode.BAD_PEER_AS, `peer says AS ${peerAS}, we expect AS ${ctx.expectedPeerAS}`);
  }
  if (ctx.dynamicPeerAS === "internal" && peerAS !== ctx.localAS) {
    return openError(
      OpenSubcode.BAD_PEER_AS,
      `peer says AS ${peerAS}, dynamicASN internal expects our AS ${ctx.localAS}`,
    );
  }
  if (ctx.dynamicPeerAS === "external" && peerAS === ctx.localAS) {
    return openError(OpenSubcode.BAD_PEER_AS, `peer says AS ${peerAS}, our own, but dynamicASN is external`);
  }
  // RFC 4271 §6.2 / §4.2: hold time is 0 or at least 3 seconds.
  if (open.holdTime === 1 || open.holdTime === 2) {
    return openError(OpenSubcode.UNACCEPTABLE_HOLD_TIME, `hold time ${open.holdTime} s (must be 0 or at least 3)`);
  }
  // RFC 6286 §2.2: the identifier is a non-zero 4-octet value, and differs from ours on iBGP.
  if (open.bgpId.value === 0n) return openError(OpenSubcode.BAD_BGP_IDENTIFIER, "BGP identifier is 0");
  if (peerAS === ctx.localAS && open.bgpId.value === ctx.localId.value) {
    return openError(OpenSubcode.BAD_BGP_IDENTIFIER, "iBGP peer uses our own BGP identifier");
  }
  // RFC 4271 §6.2 / RFC 5492 §4: Capabilities is the only optional parameter we know.
  const other = open.otherParameters?.[0];
  if (other)
    return openError(
      OpenSubcode.UNSUPPORTED_OPTIONAL_PARAMETER,
      `optional parameter type ${other.paramType} is not supported`,
    );
  // RFC 5492 §3: we refuse to run a 4-octet local AS over a 2-octet session (we never
  // emit AS4_PATH), naming the capability we need in the data field.
  if (ctx.localAS > 0xffff && !open.capabilities.some((c) => c.type === "four-octet-as")) {
    return openError(
      OpenSubcode.UNSUPPORTED_CAPABILITY,
      `local AS ${ctx.localAS} needs the 4-octet AS capability, which the peer lacks`,
      encodeCapability({ type: "four-octet-as", asn: ctx.localAS }),
    );
  }
  return undefined;
}

// ---------------------------------------------------------------- UPDATE

export interface UpdateContext {
  /** Session to an external peer (LOCAL_PREF is then discarded, RFC 7606 §7.5). */
  readonly ebgp: boolean;
  /** Our addresses: a NEXT_HOP equal to one of them is invalid (RFC 4271 §6.3). */
  readonly localAddresses?: readonly IP[];
}

export type UpdateVerdict =
  | { readonly outcome: "ok"; readonly update: UpdateMessage }
  /** Some attributes were dropped (RFC 7606 §2 "attribute discard"); the rest stands. */
  | { readonly outcome: "attribute-discard"; readonly update: UpdateMessage; readonly problems: readonly string[] }
  /** The UPDATE's routes are to be handled as withdrawn (RFC 7606 §2 "treat-as-withdraw"). */
  | { readonly outcome: "treat-as-withdraw"; readonly update: UpdateMessage; readonly problems: readonly string[] }
  /** Send this NOTIFICATION and reset the session (RFC 7606 §2 "session reset"). */
  | { readonly outcome: "session-reset"; readonly error: BgpError };

type Severity = "ok" | "attribute-discard" | "treat-as-withdraw";
const RANK: Readonly<Record<Severity, number>> = { ok: 0, "attribute-discard": 1, "treat-as-withdraw": 2 };

/** Expected Optional/Transitive bits per known attribute (RFC 4271 §5, RFC 4760, 6793, 1997, 8092). */
const EXPECTED_FLAGS: Readonly<Record<number, number>> = {
  [AttrType.ORIGIN]: AttrFlag.TRANSITIVE,
  [AttrType.AS_PATH]: AttrFlag.TRANSITIVE,
  [AttrType.NEXT_HOP]: AttrFlag.TRANSITIVE,
  [AttrType.MULTI_EXIT_DISC]: AttrFlag.OPTIONAL,
  [AttrType.LOCAL_PREF]: AttrFlag.TRANSITIVE,
  [AttrType.ATOMIC_AGGREGATE]: AttrFlag.TRANSITIVE,
  [AttrType.AGGREGATOR]: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE,
  [AttrType.COMMUNITIES]: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE,
  [AttrType.ORIGINATOR_ID]: AttrFlag.OPTIONAL, // RFC 4456 §8
  [AttrType.CLUSTER_LIST]: AttrFlag.OPTIONAL, // RFC 4456 §8
  [AttrType.MP_REACH_NLRI]: AttrFlag.OPTIONAL,
  [AttrType.MP_UNREACH_NLRI]: AttrFlag.OPTIONAL,
  [AttrType.EXTENDED_COMMUNITIES]: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE, // RFC 4360 §2
  [AttrType.AS4_PATH]: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE,
  [AttrType.AS4_AGGREGATOR]: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE,
  [AttrType.LARGE_COMMUNITY]: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE,
  [AttrType.OTC]: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE, // RFC 9234 §5
};

/** RFC 7606 §7.9, §7.10: route-reflection attributes have no business on an external session. */
const IBGP_ONLY: ReadonlySet<number> = new Set([AttrType.ORIGINATOR_ID, AttrType.CLUSTER_LIST]);

/** How a malformed attribute of each type is handled. */
function malformedHandling(code: number): Severity | "session-reset" {
  switch (code) {
    case AttrType.ATOMIC_AGGREGATE: // RFC 7606 §7.6
    case AttrType.AGGREGATOR: // RFC 7606 §7.7
    case AttrType.AS4_PATH: // RFC 6793 §6
    case AttrType.AS4_AGGREGATOR: // RFC 6793 §6
      return "attribute-discard";
    case AttrType.MP_REACH_NLRI: // RFC 7606 §7.11 / §5.3: the NLRI cannot be located or parsed
    case AttrType.MP_UNREACH_NLRI:
      return "session-reset";
    default:
      // ORIGIN §7.1, AS_PATH §7.2, NEXT_HOP §7.3, MED §7.4, LOCAL_PREF §7.5,
      // COMMUNITIES §7.8, ORIGINATOR_ID §7.9, CLUSTER_LIST §7.10, EXTENDED_COMMUNITIES
      // §7.14 (RFC 7606); LARGE_COMMUNITY (RFC 8092 §6); OTC (RFC 9234 §5).
      return "treat-as-withdraw";
  }
}

/**
 * The RFC 4271 §6.3 subcode for an attribute decode.ts could not read: its AS_PATH
 * checks are about structure, every other known attribute it marks malformed only
 * for a length that does not fit the type.
 */
const malformedSubcode = (code: number): number =>
  code === AttrType.AS_PATH || code === AttrType.AS4_PATH
    ? UpdateSubcode.MALFORMED_AS_PATH
    : UpdateSubcode.ATTRIBUTE_LENGTH_ERROR;

/** RFC 4271 §6.3: a NEXT_HOP must be a valid unicast host address (not 0/8, loopback, multicast, class E). */
export function isValidNextHop(ip: IP): boolean {
  if (ip.family !== 4) return false;
  const first = Number(ip.value >> 24n);
  return first !== 0 && first !== 127 && first < 224;
}

const resetWith = (subcode: number, reason: string, data?: Buffer): UpdateVerdict => ({
  outcome: "session-reset",
  error: bgpError(ErrorCode.UPDATE_MESSAGE, subcode, reason, data),
});

export function validateUpdate(update: UpdateMessage, ctx: UpdateContext): UpdateVerdict {
  let severity: Severity = "ok";
  const problems: string[] = [];
  /** The NOTIFICATION of the first treat-as-withdraw problem (RFC 4271 §6.3 subcode and data). */
  let withdrawError: BgpError | undefined;
  const raise = (to: Severity, problem: string, subcode?: number, data?: Buffer): void => {
    problems.push(problem);
    if (RANK[to] > RANK[severity]) severity = to;
    if (to === "treat-as-withdraw" && !withdrawError)
      withdrawError = bgpError(
        ErrorCode.UPDATE_MESSAGE,
        subcode ?? UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
        problem,
        data,
      );
  };
  const wire = (attr: PathAttribute): Buffer => encodeAttribute(attr, { fourOctetAS: true });

  // RFC 7606 §4: the attribute list could not be walked to its end.
  if (update.attributeListProblem !== undefined) raise("treat-as-withdraw", update.attributeListProblem);

  const kept: PathAttribute[] = [];
  const seen = new Set<number>();
  for (const attr of update.attributes) {
    const code = attributeCode(attr);
    const flags = attr.flags ?? defaultAttributeFlags(code);
    if (seen.has(code)) {
      // RFC 7606 §3 g: repeated MP_REACH/MP_UNREACH is a Malformed Attribute List;
      // any other repeat is discarded, keeping the first.
      if (code === AttrType.MP_REACH_NLRI || code === AttrType.MP_UNREACH_NLRI) {
        return resetWith(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, `attribute ${code} appears more than once`);
      }
      raise("attribute-discard", `duplicate attribute ${code} discarded`);
      continue;
    }
    seen.add(code);

    if (attr.type === "unknown") {
      // RFC 4271 §6.3: an unrecognised well-known attribute resets the session
      // (RFC 7606 leaves this unchanged); data is the attribute itself.
      if ((flags & AttrFlag.OPTIONAL) === 0 && EXPECTED_FLAGS[code] === undefined) {
        return resetWith(
          UpdateSubcode.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
          `unrecognised well-known attribute ${code}`,
          encodeAttribute(attr, { fourOctetAS: true }),
        );
      }
      // RFC 4271 §5: unknown optional attributes are kept (transitive ones would be
      // passed on with Partial set, non-transitive ones ignored when forwarding).
      kept.push(attr);
      continue;
    }

    if (ctx.ebgp && IBGP_ONLY.has(code)) {
      // RFC 7606 §7.9, §7.10: from an external peer, discarded whatever its shape.
      raise("attribute-discard", `attribute ${code} from an external peer discarded`);
      continue;
    }

    const expected = EXPECTED_FLAGS[code];
    if (expected !== undefined && (flags & (AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE)) !== expected) {
      // RFC 7606 §3 c: Optional/Transitive bits in conflict with the attribute's definition.
      raise(
        "treat-as-withdraw",
        `attribute ${code} has flags 0x${flags.toString(16)}`,
        UpdateSubcode.ATTRIBUTE_FLAGS_ERROR,
        wire(attr),
      );
      if (code !== AttrType.MP_REACH_NLRI && code !== AttrType.MP_UNREACH_NLRI) continue;
    }

    if (attr.type === "malformed") {
      const handling = malformedHandling(code);
      if (handling === "session-reset") {
        // RFC 4760 §7: an incorrect MP attribute is an Optional Attribute Error.
        return resetWith(
          UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR,
          attr.problem,
          encodeAttribute(attr, { fourOctetAS: true }),
        );
      }
      raise(handling, attr.problem, malformedSubcode(code), wire(attr));
      continue;
    }

    switch (attr.type) {
      case "origin":
        // RFC 7606 §7.1: an undefined ORIGIN value is treat-as-withdraw.
        if (attr.origin > 2) {
          raise(
            "treat-as-withdraw",
            `ORIGIN value ${attr.origin} is undefined`,
            UpdateSubcode.INVALID_ORIGIN,
            wire(attr),
          );
          continue;
        }
        break;
      case "next-hop":
        // RFC 7606 §7.3 with RFC 4271 §6.3: a semantically invalid NEXT_HOP is treat-as-withdraw.
        if (
          !isValidNextHop(attr.nextHop) ||
          (ctx.localAddresses ?? []).some((a) => a.family === 4 && a.value === attr.nextHop.value)
        ) {
          raise(
            "treat-as-withdraw",
            "NEXT_HOP is not a valid host address for this session",
            UpdateSubcode.INVALID_NEXT_HOP,
            wire(attr),
          );
          continue;
        }
        break;
      case "local-pref":
        // RFC 7606 §7.5: LOCAL_PREF from an external peer is discarded.
        if (ctx.ebgp) {
          raise("attribute-discard", "LOCAL_PREF from an external peer discarded");
          continue;
        }
        break;
      default:
        break;
    }
    kept.push(attr);
  }

  // RFC 7606 §3 d: a missing well-known mandatory attribute is treat-as-withdraw.
  // ORIGIN and AS_PATH go with any reachable NLRI; NEXT_HOP only with the IPv4
  // NLRI field (RFC 4760 §3 makes it unnecessary for MP_REACH-only UPDATEs).
  const mpReach = kept.find((a) => a.type === "mp-reach");
  const reachable = update.nlri.length > 0 || (mpReach?.type === "mp-reach" && mpReach.nlri.length > 0);
  if (reachable) {
    const present = new Set(kept.map(attributeCode));
    const required = [AttrType.ORIGIN, AttrType.AS_PATH, ...(update.nlri.length > 0 ? [AttrType.NEXT_HOP] : [])];
    for (const code of required) {
      if (!present.has(code)) {
        // RFC 4271 §6.3: the data is the missing attribute's type code.
        raise(
          "treat-as-withdraw",
          `well-known attribute ${code} is missing`,
          UpdateSubcode.MISSING_WELL_KNOWN_ATTRIBUTE,
          Buffer.from([code]),
        );
      }
    }
  }

  // RFC 7606 §5.2: with no NLRI anywhere (NLRI field, MP_REACH_NLRI, MP_UNREACH_NLRI)
  // there is nothing to treat as withdrawn, so the session is reset instead. An MP
  // attribute counts even for a family we do not parse (kept as "unknown").
  const hasNlri =
    update.nlri.length > 0 ||
    update.attributes.some((a) => {
      const code = attributeCode(a);
      return code === AttrType.MP_REACH_NLRI || code === AttrType.MP_UNREACH_NLRI;
    });
  if ((severity as Severity) === "treat-as-withdraw" && !hasNlri && withdrawError) {
    return { outcome: "session-reset", error: withdrawError };
  }

  const cleaned: UpdateMessage = { type: "update", withdrawn: update.withdrawn, attributes: kept, nlri: update.nlri };
  if (severity === "ok") return { outcome: "ok", update: cleaned };
  return { outcome: severity, update: cleaned, problems };
}
