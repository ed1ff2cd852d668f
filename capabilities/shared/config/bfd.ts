/**
 * BFDProfile: value ranges and defaults (MetalLB's, reference/metallb.md §1.5). The agent
 * runs BFD itself (agent/bfd/): receiveInterval, transmitInterval, detectMultiplier and
 * passiveMode drive every session; minimumTtl applies to multihop sessions (a single-hop
 * session accepts only TTL 255, RFC 5881 §5). echoMode is refused: the Echo function
 * (RFC 5880 §6.4) sends packets addressed to this node that the peer must forward back,
 * which an ordinary UDP socket cannot put on the wire (the kernel delivers them locally).
 * echoInterval is range-checked and has no effect without echo. MetalLB's BFDProfile has
 * no authentication field, so no profile can ask for BFD authentication.
 */
import type { BFDProfileSpec } from "../../../crds/types";
import { isIntIn, show, type Diagnostics } from "./diagnostics";
import { namedObjects } from "./objects";
import type { BFDProfileModel, ConfigInput } from "./types";

const RANGES: Record<
  "receiveInterval" | "transmitInterval" | "detectMultiplier" | "echoInterval" | "minimumTtl",
  [number, number, number]
> = {
  // [min, max, default]
  receiveInterval: [10, 60000, 300],
  transmitInterval: [10, 60000, 300],
  detectMultiplier: [2, 255, 3],
  echoInterval: [10, 60000, 50],
  minimumTtl: [1, 254, 254],
};

export function parseBFDProfiles(input: ConfigInput, diags: Diagnostics): Map<string, BFDProfileModel> {
  const out = new Map<string, BFDProfileModel>();
  for (const { name, obj } of namedObjects("BFDProfile", input.bfdProfiles, input.namespace, diags)) {
    const d = diags.for("BFDProfile", name);
    const spec: BFDProfileSpec = obj.spec ?? {};
    const value = (field: keyof typeof RANGES): number => {
      const [min, max, dflt] = RANGES[field];
      const v = spec[field];
      if (v === undefined || v === null) return dflt;
      if (!isIntIn(v, min, max)) {
        d.error(`spec.${field}`, `spec.${field}: invalid value ${show(v)}, must be in ${min}-${max} range`);
        return dflt;
      }
      return v;
    };
    if (spec.echoMode) {
      d.error(
        "spec.echoMode",
        "spec.echoMode: echo mode is not supported by metallb-pepr: echo packets are addressed to this node for the peer to loop back (RFC 5880 §6.4), which the agent's UDP sockets cannot send; remove spec.echoMode (asynchronous mode with transmitInterval and receiveInterval still detects failures)",
      );
    }
    out.set(name, {
      name,
      receiveInterval: value("receiveInterval"),
      transmitInterval: value("transmitInterval"),
      detectMultiplier: value("detectMultiplier"),
      echoInterval: value("echoInterval"),
      echoMode: spec.echoMode ?? false,
      passiveMode: spec.passiveMode ?? false,
      minimumTtl: value("minimumTtl"),
    });
  }
  return out;
}
