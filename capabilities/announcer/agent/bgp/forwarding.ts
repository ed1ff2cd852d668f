/**
 * What happens to received attributes if they are ever passed on (RFC 4271
 * §5): unrecognised optional transitive attributes go
 * on with the Partial bit set; unrecognised non-transitive ones are dropped).
 * The speaker does not forward routes today; this keeps the rule in one place.
 */
import { AttrFlag, type PathAttribute } from "./messages";

export function attributesForForwarding(attrs: readonly PathAttribute[]): PathAttribute[] {
  const out: PathAttribute[] = [];
  for (const a of attrs) {
    if (a.type === "malformed") continue;
    if (a.type !== "unknown") {
      out.push(a);
      continue;
    }
    const flags = a.flags ?? 0;
    if ((flags & AttrFlag.TRANSITIVE) === 0) continue; // RFC 4271 §5: quietly ignored, not passed along
    out.push({ ...a, flags: flags | AttrFlag.PARTIAL }); // RFC 4271 §5: Partial set when passed on
  }
  return out;
}
