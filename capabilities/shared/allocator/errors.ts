/**
 * Every failure the engine reports, in one place so the wording stays MetalLB's style
 * (lower case, values double-quoted) and callers can branch on a code instead of text.
 */
import { formatIP, type Family, type IP } from "../net/ip";
import type { AllocationErrorCode, Result, ServicePort } from "./types";

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });

const fail = <T>(code: AllocationErrorCode, message: string): Result<T> => ({ ok: false, error: { code, message } });

export const familyName = (family: Family): string => (family === 4 ? "IPv4" : "IPv6");

/** The IPs as one quoted, comma-joined value, the way the annotation spells them. */
export const quoteIPs = (ips: readonly IP[]): string => `"${ips.map(formatIP).join(",")}"`;

export const portName = (p: ServicePort): string => `${p.protocol}/${p.port}`;

export const errors = {
  invalid: <T>(message: string) => fail<T>("invalidRequest", message),
  notInConfig: <T>(ips: readonly IP[]) => fail<T>("notInConfig", `${quoteIPs(ips)} is not allowed in config`),
  unknownPool: <T>(pool: string) => fail<T>("unknownPool", `unknown pool "${pool}"`),
  poolMismatch: <T>(ips: readonly IP[], pool: string) =>
    fail<T>(
      "poolMismatch",
      `requested loadBalancer IP(s) ${quoteIPs(ips)} is not compatible with requested address pool "${pool}"`,
    ),
  poolIncompatible: <T>(pool: string) => fail<T>("poolIncompatible", `pool "${pool}" not compatible for ip assignment`),
  poolDisabled: <T>(pool: string, why: string) =>
    fail<T>("poolDisabled", `pool "${pool}" is invalid and hands out no new address (${why})`),
  noSuitablePool: <T>(families: string) => fail<T>("noSuitablePool", `no suitable pool for ${families} IPFamily`),
  noAvailableIPs: <T>() => fail<T>("noAvailableIPs", "no available IPs"),
  noAvailableIPsInPool: <T>(pool: string, family: Family) =>
    fail<T>("noAvailableIPs", `no available IPs in pool "${pool}" for ${familyName(family)} IPFamily`),
  sharingConflict: <T>(serviceKey: string, others: readonly string[]) =>
    fail<T>(
      "sharingConflict",
      `can't change sharing key for "${serviceKey}", address also in use by ${others.join(",")}`,
    ),
  portInUse: <T>(port: ServicePort, ip: IP) =>
    fail<T>("portInUse", `port ${portName(port)} is already in use on "${formatIP(ip)}"`),
};
