/**
 * A BGP password Secret, judged the same way wherever it is read: by the parser when it
 * is given Secrets, and by the node agent, which reads them (the controller may not).
 * MetalLB's rules and messages: type kubernetes.io/basic-auth, key "password".
 */
import { q } from "./diagnostics";
import type { SecretInput } from "./types";

export const BASIC_AUTH = "kubernetes.io/basic-auth";

export type SecretPassword =
  | { ok: true; password: string }
  /** `transient`: the Secret may simply not exist yet (created after the peer). */
  | { ok: false; message: string; transient: boolean };

/** `secret` undefined: there is no such Secret. `where` names it: "ns"/"name". */
export function passwordFromSecret(secret: SecretInput | undefined, where: string, key = "password"): SecretPassword {
  if (!secret)
    return {
      ok: false,
      transient: true,
      message: `secret ${where} not found; create a Secret of type ${BASIC_AUTH} with a ${q(key)} key`,
    };
  if (secret.type !== BASIC_AUTH)
    return {
      ok: false,
      transient: false,
      message: `secret type mismatch on ${where}, type ${q(BASIC_AUTH)} is expected`,
    };
  const value = secret.data?.[key];
  if (value === undefined)
    return {
      ok: false,
      transient: false,
      message: `password not specified in the secret ${where}; add a ${q(key)} key`,
    };
  return { ok: true, password: Buffer.from(value, "base64").toString("utf8") };
}
