/**
 * Type-checks objects before the rules run, so that a field of the wrong JSON type
 * (possible when the CRD schema is missing or bypassed) is reported, dropped, and
 * can never crash a reconciler. Returns cleaned copies; unknown fields are dropped.
 */
import type { Diagnostics } from "./diagnostics";
import { ADVERTISEMENT_OPT_IN_ANNOTATION } from "./service-communities";
import { WEIGHTED_ECMP_ANNOTATION } from "./weighted-ecmp";
import type { ConfigInput, ConfigKind } from "./types";

type Schema = "string" | "number" | "boolean" | { list: Schema } | { map: Schema } | { object: Record<string, Schema> };

const str = "string";
const num = "number";
const bool = "boolean";
const strings: Schema = { list: str };
const selector: Schema = {
  object: {
    matchLabels: { map: str },
    matchExpressions: { list: { object: { key: str, operator: str, values: strings } } },
  },
};
const selectors: Schema = { list: selector };

const SPECS: Record<ConfigKind, Record<string, Schema>> = {
  IPAddressPool: {
    addresses: strings,
    autoAssign: bool,
    avoidBuggyIPs: bool,
    serviceAllocation: {
      object: { priority: num, namespaces: strings, namespaceSelectors: selectors, serviceSelectors: selectors },
    },
  },
  L2Advertisement: {
    ipAddressPools: strings,
    ipAddressPoolSelectors: selectors,
    nodeSelectors: selectors,
    interfaces: strings,
    serviceSelectors: selectors,
    preferredNodeSelectors: { list: { object: { weight: num, preference: selector } } },
  },
  BGPAdvertisement: {
    aggregationLength: num,
    aggregationLengthV6: num,
    localPref: num,
    communities: strings,
    ipAddressPools: strings,
    ipAddressPoolSelectors: selectors,
    nodeSelectors: selectors,
    peers: strings,
    serviceSelectors: selectors,
  },
  BGPPeer: {
    myASN: num,
    peerASN: num,
    dynamicASN: str,
    localASN: num,
    peerAddress: str,
    interface: str,
    sourceAddress: str,
    peerPort: num,
    holdTime: str,
    keepaliveTime: str,
    connectTime: str,
    routerID: str,
    nodeSelectors: selectors,
    password: str,
    passwordSecret: { object: { name: str, namespace: str } },
    bfdProfile: str,
    enableGracefulRestart: bool,
    ebgpMultiHop: bool,
    vrf: str,
    disableMP: bool,
    dualStackAddressFamily: bool,
  },
  BFDProfile: {
    receiveInterval: num,
    transmitInterval: num,
    detectMultiplier: num,
    echoInterval: num,
    echoMode: bool,
    passiveMode: bool,
    minimumTtl: num,
  },
  Community: { communities: { list: { object: { name: str, value: str } } } },
};

const METADATA: Schema = { object: { name: str, namespace: str, labels: { map: str } } };
/** Annotations of metallb.io objects that are configuration (the rest, such as last-applied, is not). */
export const PARSED_ANNOTATIONS: readonly string[] = [ADVERTISEMENT_OPT_IN_ANNOTATION, WEIGHTED_ECMP_ANNOTATION];

function describe(s: Schema): string {
  if (s === "string") return "a string";
  if (s === "number") return "a number";
  if (s === "boolean") return "true or false";
  if ("list" in s) return `a list of ${describe(s.list).replace(/^an? /, "")}s`.replace("true or falses", "booleans");
  if ("map" in s) return "a map of strings";
  return "an object";
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The value if it has the schema's type (cleaned), undefined otherwise (reported unless null/absent). */
function conform(
  value: unknown,
  schema: Schema,
  field: string,
  report: (field: string, text: string) => void,
): unknown {
  if (value === undefined || value === null) return undefined;
  const bad = () => void report(field, `${field}: invalid value ${JSON.stringify(value)}: must be ${describe(schema)}`);
  if (typeof schema === "string") return typeof value === schema ? value : bad();
  if ("list" in schema) {
    if (!Array.isArray(value)) return bad();
    const out: unknown[] = [];
    value.forEach((v, i) => {
      const c = conform(v, schema.list, `${field}[${i}]`, report);
      if (c !== undefined) out.push(c);
      else if (v === null)
        report(`${field}[${i}]`, `${field}[${i}]: invalid value null: must be ${describe(schema.list)}`);
    });
    return out;
  }
  if (!isObject(value)) return bad();
  const out: Record<string, unknown> = {};
  if ("map" in schema) {
    for (const [k, v] of Object.entries(value)) {
      const c = conform(v, schema.map, `${field}[${JSON.stringify(k)}]`, report);
      if (c !== undefined) out[k] = c;
    }
    return out;
  }
  for (const [k, s] of Object.entries(schema.object)) {
    const c = conform(value[k], s, field ? `${field}.${k}` : k, report);
    if (c !== undefined) out[k] = c;
  }
  return out;
}

/** The annotations the parser reads (not last-applied-configuration and the like), if any is set. */
function parsedAnnotations(metadata: unknown): Record<string, string> | undefined {
  const all = isObject(metadata) && isObject(metadata.annotations) ? metadata.annotations : {};
  const kept = Object.entries(all).filter(
    (e): e is [string, string] => PARSED_ANNOTATIONS.includes(e[0]) && typeof e[1] === "string",
  );
  return kept.length > 0 ? Object.fromEntries(kept) : undefined;
}

function conformList<T>(kind: ConfigKind, list: unknown, d: Diagnostics): T[] | undefined {
  if (list === undefined) return undefined;
  if (!Array.isArray(list)) return [];
  return list.map((raw) => {
    const obj = isObject(raw) ? raw : {};
    const rawName = isObject(obj.metadata) && typeof obj.metadata.name === "string" ? obj.metadata.name : "";
    const report = (field: string, text: string) => d.error(kind, rawName, field, text);
    const metadata = conform(obj.metadata, METADATA, "metadata", report) as Record<string, unknown> | undefined;
    const annotations = parsedAnnotations(obj.metadata);
    const spec = conform(obj.spec, { object: SPECS[kind] }, "spec", report);
    return { metadata: annotations ? { ...metadata, annotations } : metadata, spec } as T;
  });
}

/** A copy of the input whose metallb.io objects all have the declared field types. */
export function conformInput(input: ConfigInput, d: Diagnostics): ConfigInput {
  return {
    ...input,
    pools: conformList("IPAddressPool", input.pools, d),
    l2Advertisements: conformList("L2Advertisement", input.l2Advertisements, d),
    bgpAdvertisements: conformList("BGPAdvertisement", input.bgpAdvertisements, d),
    bgpPeers: conformList("BGPPeer", input.bgpPeers, d),
    bfdProfiles: conformList("BFDProfile", input.bfdProfiles, d),
    communities: conformList("Community", input.communities, d),
  };
}
