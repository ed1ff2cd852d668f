/**
 * Converts MetalLB's pre-0.13 ConfigMap configuration (`data.config`, kebab-case
 * YAML) into metallb.io objects. Pure: text in, objects (or YAML) out.
 *
 * Everything the old format can say maps onto the CRDs; anything we do not
 * recognise, or cannot express faithfully, is refused with a message that names
 * the field (e.g. `address-pools[1].protocol`), never silently dropped.
 */
import { parse, parseAllDocuments, stringify } from "yaml";
import { parseCIDR, parseIP } from "../net/ip";

export interface ConvertedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
  spec: Record<string, unknown>;
}

export interface ConvertResult {
  objects: ConvertedObject[];
  /** Things that converted but deserve a look (e.g. plain-text passwords). */
  warnings: string[];
}

export class ConvertError extends Error {
  constructor(readonly problems: string[]) {
    super(`cannot convert the legacy configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** MetalLB's converter rules: lower-case, `_` -> `-`, no leading digits/dashes, at most 63 characters. */
export function sanitizeName(name: string): string {
  return name
    .toLowerCase()
    .replace(/_/g, "-")
    .replace(/[^a-z0-9.-]/g, "-")
    .replace(/^[0-9-]+/, "")
    .slice(0, 63)
    .replace(/[-.]+$/, "");
}

/** Accepts a whole ConfigMap, `{config: "..."}`, or the config document itself. */
export function extractConfig(text: string): { config: Obj; namespace?: string } {
  const docs = parseAllDocuments(text).filter((d) => d.contents !== null);
  if (docs.length !== 1) throw new ConvertError([`expected one YAML document, found ${docs.length}`]);
  if (docs[0].errors.length) throw new ConvertError(docs[0].errors.map((e) => `YAML: ${e.message}`));
  const top = docs[0].toJS() as unknown;
  if (!isObj(top)) throw new ConvertError(["the input is not a YAML mapping"]);
  if (top.kind === "ConfigMap") {
    const data = isObj(top.data) ? top.data : {};
    if (typeof data.config !== "string")
      throw new ConvertError(["ConfigMap data.config: missing (the legacy MetalLB key)"]);
    const meta = isObj(top.metadata) ? top.metadata : {};
    return {
      config: parseConfig(data.config),
      namespace: typeof meta.namespace === "string" ? meta.namespace : undefined,
    };
  }
  if (typeof top.config === "string" && Object.keys(top).length === 1) return { config: parseConfig(top.config) };
  return { config: top };
}

function parseConfig(text: string): Obj {
  let v: unknown;
  try {
    v = parse(text);
  } catch (e) {
    throw new ConvertError([`data.config: not valid YAML: ${(e as Error).message}`]);
  }
  if (v === null || v === undefined) return {};
  if (!isObj(v)) throw new ConvertError(["data.config: not a YAML mapping"]);
  return v;
}

/** A reader over one legacy object that records problems with their field paths. */
class Fields {
  constructor(
    private readonly o: Obj,
    private readonly path: string,
    private readonly problems: string[],
    allowed: readonly string[],
  ) {
    for (const k of Object.keys(o))
      if (!allowed.includes(k)) problems.push(`${path}.${k}: unknown field (no equivalent in the metallb.io CRDs)`);
  }
  at = (k: string) => `${this.path}.${k}`;
  has = (k: string) => this.o[k] !== undefined && this.o[k] !== null;
  fail(k: string, msg: string): undefined {
    this.problems.push(`${this.at(k)}: ${msg}`);
    return undefined;
  }
  str(k: string): string | undefined {
    if (!this.has(k)) return undefined;
    const v = this.o[k];
    return typeof v === "string" ? v : this.fail(k, `must be a string, got ${JSON.stringify(v)}`);
  }
  bool(k: string): boolean | undefined {
    if (!this.has(k)) return undefined;
    const v = this.o[k];
    return typeof v === "boolean" ? v : this.fail(k, `must be true or false, got ${JSON.stringify(v)}`);
  }
  int(k: string, min: number, max: number): number | undefined {
    if (!this.has(k)) return undefined;
    const v = this.o[k];
    if (typeof v === "number" && Number.isInteger(v) && v >= min && v <= max) return v;
    return this.fail(k, `must be an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
  }
  list(k: string): unknown[] {
    if (!this.has(k)) return [];
    const v = this.o[k];
    return Array.isArray(v) ? v : (this.fail(k, "must be a list") ?? []);
  }
  raw = (k: string): unknown => this.o[k];
}

const POOL_FIELDS = ["name", "protocol", "addresses", "auto-assign", "avoid-buggy-ips", "bgp-advertisements"];
const ADV_FIELDS = ["aggregation-length", "aggregation-length-v6", "localpref", "communities"];
const PEER_FIELDS = [
  "peer-address",
  "peer-asn",
  "my-asn",
  "peer-port",
  "hold-time",
  "keepalive-time",
  "router-id",
  "source-address",
  "password",
  "bfd-profile",
  "ebgp-multihop",
  "node-selectors",
];
const BFD_FIELDS = [
  "name",
  "receive-interval",
  "transmit-interval",
  "echo-interval",
  "echo-mode",
  "passive-mode",
  "minimum-ttl",
  "detect-multiplier",
];
const TOP_FIELDS = ["peers", "address-pools", "bgp-communities", "bfd-profiles"];

const COMMUNITY = /^(\d{1,5}):(\d{1,5})$/;
const LARGE_COMMUNITY = /^large:\d{1,10}:\d{1,10}:\d{1,10}$/;
const DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;
const ASN_MAX = 4294967295;

const isCommunityValue = (v: string): boolean => {
  const m = COMMUNITY.exec(v);
  if (m) return Number(m[1]) <= 65535 && Number(m[2]) <= 65535;
  return LARGE_COMMUNITY.test(v);
};

/** The legacy config as CRD objects, all in `namespace`. Throws ConvertError listing every problem. */
export function convertLegacyConfig(config: Obj, namespace = "metallb-system"): ConvertResult {
  const problems: string[] = [];
  const warnings: string[] = [];
  const objects: ConvertedObject[] = [];
  const top = new Fields(config, "config", problems, TOP_FIELDS);
  const make = (kind: string, name: string, spec: Obj, version = "v1beta1"): ConvertedObject => ({
    apiVersion: `metallb.io/${version}`,
    kind,
    metadata: { name, namespace },
    spec,
  });
  const seen = new Map<string, string>();
  const claim = (kind: string, name: string, path: string): boolean => {
    const prev = seen.get(`${kind}/${name}`);
    if (prev) problems.push(`${path}: ${kind} name "${name}" collides with ${prev} after sanitising`);
    else seen.set(`${kind}/${name}`, path);
    return !prev;
  };

  // bgp-communities: one Community object holding every alias.
  const aliases = new Set<string>();
  const rawAliases = top.raw("bgp-communities");
  if (rawAliases !== undefined && rawAliases !== null) {
    if (!isObj(rawAliases)) problems.push("config.bgp-communities: must be a map of name -> AA:NN");
    else {
      const entries = Object.entries(rawAliases).map(([name, value]) => {
        if (typeof value !== "string" || !isCommunityValue(value))
          problems.push(
            `config.bgp-communities.${name}: ${JSON.stringify(value)} is not a community (AA:NN, each 0..65535)`,
          );
        aliases.add(name);
        return { name, value: String(value) };
      });
      if (entries.length) objects.push(make("Community", "communities", { communities: entries }));
    }
  }

  top.list("address-pools").forEach((raw, i) => {
    const path = `config.address-pools[${i}]`;
    if (!isObj(raw)) return void problems.push(`${path}: must be a mapping`);
    const f = new Fields(raw, path, problems, POOL_FIELDS);
    const rawName = f.str("name");
    if (!rawName) return void f.fail("name", "required");
    const name = sanitizeName(rawName);
    if (!name) return void f.fail("name", `"${rawName}" has no usable characters for a Kubernetes name`);
    if (name !== rawName) warnings.push(`${f.at("name")}: "${rawName}" renamed to "${name}"`);
    if (!claim("IPAddressPool", name, path)) return;

    const addresses = f.list("addresses").map((a, j) => {
      const where = `addresses[${j}]`;
      if (typeof a !== "string") return f.fail(where, "must be a string");
      const range = a.split("-").map((s) => s.trim());
      const ok = range.length === 2 ? range.every((s) => parseIP(s)) : parseCIDR(a.trim()) !== undefined;
      return ok ? a.trim() : f.fail(where, `"${a}" is neither a CIDR nor an a-b range`);
    });
    if (!addresses.length) f.fail("addresses", "at least one CIDR or range is required");
    const spec: Obj = { addresses: addresses.filter(Boolean) };
    if (f.bool("auto-assign") === false) spec.autoAssign = false;
    if (f.bool("avoid-buggy-ips") === true) spec.avoidBuggyIPs = true;
    objects.push(make("IPAddressPool", name, spec));

    const protocol = f.str("protocol");
    const advs = f.list("bgp-advertisements");
    if (protocol === "layer2" || protocol === "l2") {
      if (advs.length) f.fail("bgp-advertisements", "only allowed with protocol: bgp");
      objects.push(make("L2Advertisement", name, { ipAddressPools: [name] }));
    } else if (protocol === "bgp") {
      if (!advs.length) objects.push(make("BGPAdvertisement", name, { ipAddressPools: [name] }));
      advs.forEach((rawAdv, j) => {
        const advPath = `${path}.bgp-advertisements[${j}]`;
        if (!isObj(rawAdv)) return void problems.push(`${advPath}: must be a mapping`);
        const a = new Fields(rawAdv, advPath, problems, ADV_FIELDS);
        const spec: Obj = { ipAddressPools: [name] };
        const len4 = a.int("aggregation-length", 0, 32);
        const len6 = a.int("aggregation-length-v6", 0, 128);
        const pref = a.int("localpref", 0, ASN_MAX);
        if (len4 !== undefined) spec.aggregationLength = len4;
        if (len6 !== undefined) spec.aggregationLengthV6 = len6;
        if (pref !== undefined) spec.localPref = pref;
        const communities = a.list("communities").filter((c, k) => {
          if (typeof c === "string" && (isCommunityValue(c) || aliases.has(c))) return true;
          a.fail(`communities[${k}]`, `${JSON.stringify(c)} is neither AA:NN nor a name defined in bgp-communities`);
          return false;
        });
        if (communities.length) spec.communities = communities;
        const advName = advs.length === 1 ? name : `${name.slice(0, 58).replace(/[-.]+$/, "")}-${j + 1}`;
        if (claim("BGPAdvertisement", advName, advPath)) objects.push(make("BGPAdvertisement", advName, spec));
      });
    } else if (protocol === undefined) f.fail("protocol", "required (layer2 or bgp)");
    else f.fail("protocol", `"${protocol}" is not supported: use layer2 or bgp`);
  });

  top.list("peers").forEach((raw, i) => {
    const path = `config.peers[${i}]`;
    if (!isObj(raw)) return void problems.push(`${path}: must be a mapping`);
    const f = new Fields(raw, path, problems, PEER_FIELDS);
    const spec: Obj = {};
    const ip = (k: string, v4only = false) => {
      const v = f.str(k);
      if (v === undefined) return undefined;
      const parsed = parseIP(v);
      if (!parsed || (v4only && parsed.family !== 4))
        return f.fail(k, `"${v}" is not an ${v4only ? "IPv4" : "IP"} address`);
      return v;
    };
    const peerAddress = ip("peer-address");
    if (!f.has("peer-address")) f.fail("peer-address", "required");
    const peerASN = f.int("peer-asn", 1, ASN_MAX);
    if (!f.has("peer-asn")) f.fail("peer-asn", "required");
    const myASN = f.int("my-asn", 1, ASN_MAX);
    if (!f.has("my-asn")) f.fail("my-asn", "required");
    Object.assign(spec, { myASN, peerASN, peerAddress });
    const port = f.int("peer-port", 1, 65535);
    if (port !== undefined) spec.peerPort = port;
    for (const [k, out] of [
      ["hold-time", "holdTime"],
      ["keepalive-time", "keepaliveTime"],
    ] as const) {
      const d = f.str(k);
      if (d !== undefined) {
        if (DURATION.test(d)) spec[out] = d;
        else f.fail(k, `"${d}" is not a duration such as 90s or 1m30s`);
      }
    }
    const routerID = ip("router-id", true);
    if (routerID) spec.routerID = routerID;
    const source = ip("source-address");
    if (source) spec.sourceAddress = source;
    const password = f.str("password");
    if (password) {
      spec.password = password;
      warnings.push(`${f.at("password")}: kept as plain text in BGPPeer.spec.password; consider a passwordSecret`);
    }
    const bfd = f.str("bfd-profile");
    if (bfd) spec.bfdProfile = sanitizeName(bfd);
    const multihop = f.bool("ebgp-multihop");
    if (multihop !== undefined) spec.ebgpMultiHop = multihop;
    const selectors = f.list("node-selectors").map((s, j) => nodeSelector(s, `${path}.node-selectors[${j}]`, problems));
    if (selectors.length) spec.nodeSelectors = selectors;
    objects.push(make("BGPPeer", `peer${i + 1}`, spec, "v1beta2"));
  });

  top.list("bfd-profiles").forEach((raw, i) => {
    const path = `config.bfd-profiles[${i}]`;
    if (!isObj(raw)) return void problems.push(`${path}: must be a mapping`);
    const f = new Fields(raw, path, problems, BFD_FIELDS);
    const rawName = f.str("name");
    if (!rawName) return void f.fail("name", "required");
    const name = sanitizeName(rawName);
    if (!claim("BFDProfile", name, path)) return;
    const spec: Obj = {};
    const ints: [string, string, number, number][] = [
      ["receive-interval", "receiveInterval", 10, 60000],
      ["transmit-interval", "transmitInterval", 10, 60000],
      ["echo-interval", "echoInterval", 10, 60000],
      ["detect-multiplier", "detectMultiplier", 2, 255],
      ["minimum-ttl", "minimumTtl", 1, 254],
    ];
    for (const [k, out, min, max] of ints) {
      const v = f.int(k, min, max);
      if (v !== undefined) spec[out] = v;
    }
    const echo = f.bool("echo-mode");
    if (echo !== undefined) spec.echoMode = echo;
    const passive = f.bool("passive-mode");
    if (passive !== undefined) spec.passiveMode = passive;
    objects.push(make("BFDProfile", name, spec));
  });

  if (problems.length) throw new ConvertError(problems);
  return { objects, warnings };
}

function nodeSelector(raw: unknown, path: string, problems: string[]): Obj {
  if (!isObj(raw)) {
    problems.push(`${path}: must be a mapping`);
    return {};
  }
  const f = new Fields(raw, path, problems, ["match-labels", "match-expressions"]);
  const out: Obj = {};
  const labels = f.raw("match-labels");
  if (labels !== undefined && labels !== null) {
    if (!isObj(labels) || Object.values(labels).some((v) => typeof v !== "string"))
      f.fail("match-labels", "must be a map of label -> string value");
    else out.matchLabels = labels;
  }
  const exprs = f.list("match-expressions").map((e, j) => {
    const ePath = `${path}.match-expressions[${j}]`;
    if (!isObj(e)) return void problems.push(`${ePath}: must be a mapping`);
    const x = new Fields(e, ePath, problems, ["key", "operator", "values"]);
    const key = x.str("key");
    if (!key) x.fail("key", "required");
    const op = ["In", "NotIn", "Exists", "DoesNotExist"].find(
      (o) => o.toLowerCase() === x.str("operator")?.toLowerCase(),
    );
    if (!op) x.fail("operator", `${JSON.stringify(x.raw("operator"))} is not In, NotIn, Exists or DoesNotExist`);
    const values = x.list("values").map(String);
    if ((op === "In" || op === "NotIn") && !values.length) x.fail("values", `required with operator ${op}`);
    if ((op === "Exists" || op === "DoesNotExist") && values.length)
      x.fail("values", `must be empty with operator ${op}`);
    return values.length ? { key, operator: op, values } : { key, operator: op };
  });
  if (exprs.length) out.matchExpressions = exprs;
  return out;
}

/** Multi-document YAML, one object per document. */
export function toYAML(objects: ConvertedObject[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join("---\n");
}

/** The CLI's whole job: legacy text in, CRD YAML out. */
export function convertLegacyText(text: string, namespace?: string): ConvertResult & { yaml: string } {
  const { config, namespace: fromMap } = extractConfig(text);
  const result = convertLegacyConfig(config, namespace ?? fromMap ?? "metallb-system");
  return { ...result, yaml: toYAML(result.objects) };
}
