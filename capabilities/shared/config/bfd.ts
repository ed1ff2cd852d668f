/**
 * BFDProfile: value ranges and defaults, and the "profile still in use" delete check.
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
