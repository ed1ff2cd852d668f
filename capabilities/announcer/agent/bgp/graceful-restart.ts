/**
 * End-of-RIB markers (RFC 4724 §2) and the decision of when to send them.
 * RFC 4724 §4 recommends sending End-of-RIB after the initial update for each
 * family whether or not graceful restart was negotiated; a peer that keeps our
 * routes as stale across our restart drops the stale ones when it arrives.
 */
import { AttrFlag, AttrType, IPV4_UNICAST, sameAfiSafi, type AfiSafi, type UpdateMessage } from "./messages";

/** IPv4 unicast: an UPDATE with nothing in it; other families: an empty MP_UNREACH_NLRI. */
export function endOfRib(family: AfiSafi): UpdateMessage {
  if (sameAfiSafi(family, IPV4_UNICAST)) return { type: "update", withdrawn: [], attributes: [], nlri: [] };
  return {
    type: "update",
    withdrawn: [],
    attributes: [{ type: "mp-unreach", flags: AttrFlag.OPTIONAL, afi: family.afi, safi: family.safi, withdrawn: [] }],
    nlri: [],
  };
}

/** The family whose End-of-RIB this UPDATE is, or undefined when it is an ordinary UPDATE. */
export function endOfRibFamily(update: UpdateMessage): AfiSafi | undefined {
  if (update.withdrawn.length > 0 || update.nlri.length > 0) return undefined;
  if (update.attributes.length === 0) return IPV4_UNICAST;
  if (update.attributes.length !== 1) return undefined;
  const only = update.attributes[0]!;
  if (only.type === "mp-unreach" && only.withdrawn.length === 0) return { afi: only.afi, safi: only.safi };
  // An MP_UNREACH for a family we do not parse is kept raw: three octets means no NLRI.
  if (only.type === "unknown" && only.code === AttrType.MP_UNREACH_NLRI && only.value.length === 3) {
    return { afi: only.value.readUInt16BE(0), safi: only.value[2]! };
  }
  return undefined;
}

export const isEndOfRib = (update: UpdateMessage): boolean => endOfRibFamily(update) !== undefined;

/** Families that still need their End-of-RIB, in negotiated order. */
export function endOfRibPending(negotiated: readonly AfiSafi[], sent: readonly AfiSafi[], only?: AfiSafi): AfiSafi[] {
  return negotiated.filter((f) => !sent.some((s) => sameAfiSafi(s, f)) && (only === undefined || sameAfiSafi(only, f)));
}
