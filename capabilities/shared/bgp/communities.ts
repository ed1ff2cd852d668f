/**
 * Community sets on planned routes: several advertisements can put the same
 * prefix on one peer, and the peer must get one route carrying all their
 * communities, in one canonical order (so equal sets compare equal).
 */
import type { LargeCommunity, StandardCommunity } from "../config";
import type { LargeCommunityValue } from "./types";

/** RFC 1997 wire value: high 16 bits ASN, low 16 bits value. */
export const standardValue = (c: StandardCommunity): number => c.asn * 0x10000 + c.value;

export const largeValue = (c: LargeCommunity): LargeCommunityValue => ({
  globalAdmin: c.global,
  localData1: c.local1,
  localData2: c.local2,
});

export function sortedStandard(values: Iterable<number>): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

const largeKey = (c: LargeCommunityValue): string => `${c.globalAdmin}:${c.localData1}:${c.localData2}`;

export function sortedLarge(values: Iterable<LargeCommunityValue>): LargeCommunityValue[] {
  const unique = new Map<string, LargeCommunityValue>();
  for (const v of values) unique.set(largeKey(v), v);
  return [...unique.values()].sort(
    (a, b) => a.globalAdmin - b.globalAdmin || a.localData1 - b.localData1 || a.localData2 - b.localData2,
  );
}

/** "AA:NN" as MetalLB users write it. */
export const formatStandard = (v: number): string => `${Math.floor(v / 0x10000)}:${v % 0x10000}`;
export const formatLarge = (c: LargeCommunityValue): string => `large:${largeKey(c)}`;
