import Ajv, { type ValidateFunction } from "ajv";
import { readFileSync, readdirSync } from "node:fs";
import { isIPv4, isIPv6 } from "node:net";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { CRD_NAMES, loadCRDManifests } from "./manifests";
import { ALL_KINDS, GROUP, KINDS } from "./types";

// Minimal view of the CRD fields the tests read.
interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  required?: string[];
  additionalProperties?: Schema | boolean;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-validations"?: { rule: string; message: string }[];
  [key: string]: unknown;
}
interface Column {
  name: string;
  type: string;
  jsonPath: string;
  priority?: number;
}
interface Version {
  name: string;
  served: boolean;
  storage: boolean;
  deprecated?: boolean;
  deprecationWarning?: string;
  subresources?: { status?: object };
  additionalPrinterColumns?: Column[];
  schema: { openAPIV3Schema: Schema };
}
interface CRD {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string; singular: string; listKind: string; shortNames?: string[] };
    conversion?: { strategy: string };
    versions: Version[];
  };
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
}

const crds = loadCRDManifests() as CRD[];
const byKind = new Map(crds.map((c) => [c.spec.names.kind, c]));
const examplesDir = join(__dirname, "..", "examples");

/**
 * kubectl's default strict field validation rejects unknown fields, and the
 * API server would otherwise prune them silently, so close every object schema
 * that lists its properties: a misspelt field in an example then fails here.
 */
function closed(schema: Schema): Schema {
  const out: Schema = { ...schema };
  if (schema.properties) {
    out.properties = Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, closed(v)]));
    if (schema.additionalProperties === undefined && !schema["x-kubernetes-preserve-unknown-fields"]) {
      out.additionalProperties = false;
    }
  }
  if (schema.items) out.items = closed(schema.items);
  return out;
}

// CRD schemas carry x-kubernetes-* keywords and Kubernetes formats that ajv does not know.
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addFormat("int32", {
  type: "number",
  validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31,
});
ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isSafeInteger(n) });
ajv.addFormat("date-time", /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/);
const validators = new Map<string, ValidateFunction>();
function validatorFor(kind: string, version: string): ValidateFunction {
  const key = `${kind}/${version}`;
  let v = validators.get(key);
  if (!v) {
    const ver = byKind.get(kind)?.spec.versions.find((x) => x.name === version);
    if (!ver) throw new Error(`no CRD version ${key}`);
    v = ajv.compile(closed(ver.schema.openAPIV3Schema));
    validators.set(key, v);
  }
  return v;
}
function schemaErrors(obj: K8sObject): string[] {
  const validate = validatorFor(obj.kind, obj.apiVersion.split("/")[1]);
  return validate(obj)
    ? []
    : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
}

function loadExamples(): { file: string; obj: K8sObject }[] {
  const out: { file: string; obj: K8sObject }[] = [];
  for (const file of readdirSync(examplesDir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(examplesDir, file), "utf8"))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
      const obj = doc.toJS() as K8sObject | null;
      if (obj) out.push({ file, obj });
    }
  }
  return out;
}

/** Walks `.spec.a.b` through a schema; undefined if any step is missing. */
function schemaAt(root: Schema, jsonPath: string): Schema | undefined {
  let s: Schema | undefined = root;
  for (const part of jsonPath.replace(/^\./, "").split(".")) {
    if (part === "metadata" && s === root) return {};
    s = s?.properties?.[part];
  }
  return s;
}

describe("CRD manifests", () => {
  it("holds exactly one CRD per kind, named <plural>.metallb.io", () => {
    expect(crds.map((c) => c.metadata.name).sort()).toEqual([...CRD_NAMES].sort());
    expect(CRD_NAMES).toHaveLength(10);
    for (const k of ALL_KINDS) {
      const crd = byKind.get(k.kind);
      expect(crd).toBeDefined();
      expect(crd?.spec.names).toMatchObject({
        kind: k.kind,
        plural: k.plural,
        singular: k.singular,
        listKind: `${k.kind}List`,
      });
    }
  });

  it.each(crds.map((c) => [c.metadata.name, c] as const))(
    "%s: group, scope, versions, status subresource",
    (_name, crd) => {
      expect(crd.apiVersion).toBe("apiextensions.k8s.io/v1");
      expect(crd.spec.group).toBe(GROUP);
      expect(crd.spec.scope).toBe("Namespaced");
      const storage = crd.spec.versions.filter((v) => v.storage);
      expect(storage).toHaveLength(1);
      expect(storage[0].name).toBe(KINDS[crd.spec.names.kind as keyof typeof KINDS].version);
      for (const v of crd.spec.versions) {
        expect(v.served).toBe(true);
        expect(v.subresources?.status).toEqual({});
        const root = v.schema.openAPIV3Schema;
        expect(root.type).toBe("object");
        expect(root.properties?.spec?.type).toBe("object");
        expect(root.properties?.status?.type).toBe("object");
        // Every printer column must point at a field that exists in the schema.
        for (const col of v.additionalPrinterColumns ?? []) {
          expect({ column: col.name, found: schemaAt(root, col.jsonPath) !== undefined }).toEqual({
            column: col.name,
            found: true,
          });
        }
      }
    },
  );

  it("matches the bundle the controller embeds (run `npm run gen:crds` after editing a CRD)", () => {
    const bundle: unknown = JSON.parse(readFileSync(join(__dirname, "generated", "crds.json"), "utf8"));
    expect(bundle).toEqual(crds);
  });

  it("gives short names only to BGPSession", () => {
    for (const crd of crds) {
      expect(crd.spec.names.shortNames).toEqual(crd.spec.names.kind === "BGPSession" ? ["bgps"] : undefined);
    }
  });

  const columns = (kind: string, version = "v1beta1"): [string, string, string][] =>
    (byKind.get(kind)?.spec.versions.find((v) => v.name === version)?.additionalPrinterColumns ?? []).map((c) => [
      c.name,
      c.jsonPath,
      c.type,
    ]);

  it("has MetalLB's printer columns", () => {
    expect(columns("IPAddressPool")).toEqual(
      expect.arrayContaining([
        ["Auto Assign", ".spec.autoAssign", "boolean"],
        ["Avoid Buggy IPs", ".spec.avoidBuggyIPs", "boolean"],
        ["Addresses", ".spec.addresses", "string"],
      ]),
    );
    for (const kind of ["L2Advertisement", "BGPAdvertisement"]) {
      expect(columns(kind)).toEqual(
        expect.arrayContaining([
          ["IPAddressPools", ".spec.ipAddressPools", "string"],
          ["IPAddressPool Selectors", ".spec.ipAddressPoolSelectors", "string"],
          ["Node Selectors", ".spec.nodeSelectors", "string"],
        ]),
      );
    }
    expect(columns("L2Advertisement")).toContainEqual(["Interfaces", ".spec.interfaces", "string"]);
    expect(columns("BGPAdvertisement")).toContainEqual(["Peers", ".spec.peers", "string"]);
    for (const v of ["v1beta1", "v1beta2"]) {
      expect(columns("BGPPeer", v)).toEqual([
        ["Address", ".spec.peerAddress", "string"],
        ["ASN", ".spec.peerASN", "string"],
        ["BFD Profile", ".spec.bfdProfile", "string"],
        ["Multi Hops", ".spec.ebgpMultiHop", "string"],
      ]);
    }
    expect(columns("BFDProfile").map((c) => c[0])).toEqual([
      "Passive Mode",
      "Transmit Interval",
      "Receive Interval",
      "Multiplier",
    ]);
    expect(columns("ServiceL2Status")).toEqual([
      ["Allocated Node", ".status.node", "string"],
      ["Service Name", ".status.serviceName", "string"],
      ["Service Namespace", ".status.serviceNamespace", "string"],
      ["Standbys", ".status.standbys", "string"],
    ]);
    expect(columns("ServiceBGPStatus").map((c) => c[1])).toEqual([
      ".status.node",
      ".status.serviceName",
      ".status.serviceNamespace",
    ]);
    expect(columns("ConfigurationState")).toEqual([
      ["Result", ".status.result", "string"],
      ["ErrorSummary", ".status.errorSummary", "string"],
      ["Age", ".metadata.creationTimestamp", "date"],
    ]);
  });

  it("shows live BGP session state in BGPSession's columns", () => {
    expect(columns("BGPSession")).toEqual(
      expect.arrayContaining([
        ["Node", ".spec.node", "string"],
        ["Peer", ".spec.peer", "string"],
        ["Address", ".spec.peerAddress", "string"],
        ["ASN", ".spec.peerASN", "integer"],
        ["State", ".status.state", "string"],
        ["BFD", ".status.bfd.state", "string"],
        ["Uptime", ".status.since", "date"],
        ["Advertised", ".status.advertisedPrefixes", "integer"],
        ["Received", ".status.receivedPrefixes", "integer"],
        ["Age", ".metadata.creationTimestamp", "date"],
      ]),
    );
  });

  describe("BGPPeer versions", () => {
    const peer = byKind.get("BGPPeer") as CRD;
    const version = (name: string) => peer.spec.versions.find((v) => v.name === name) as Version;

    it("serves deprecated v1beta1 and stores v1beta2, without a conversion webhook", () => {
      expect(peer.spec.versions.map((v) => [v.name, v.served, v.storage])).toEqual([
        ["v1beta1", true, false],
        ["v1beta2", true, true],
      ]);
      expect(version("v1beta1").deprecated).toBe(true);
      expect(version("v1beta1").deprecationWarning).toBe("v1beta1 is deprecated, please use v1beta2");
      expect(version("v1beta2").deprecated).toBeFalsy();
      expect(peer.spec.conversion).toEqual({ strategy: "None" });
    });

    it("keeps v1beta1 a superset of v1beta2, so stored objects round-trip through either", () => {
      const v1 = version("v1beta1").schema.openAPIV3Schema.properties?.spec?.properties ?? {};
      const v2 = version("v1beta2").schema.openAPIV3Schema.properties?.spec?.properties ?? {};
      expect(Object.keys(v1).sort()).toEqual(Object.keys(v2).sort());
      for (const { obj } of loadExamples().filter((e) => e.obj.kind === "BGPPeer")) {
        for (const v of ["v1beta1", "v1beta2"]) {
          expect(schemaErrors({ ...obj, apiVersion: `metallb.io/${v}` })).toEqual([]);
        }
      }
    });

    it("accepts the legacy v1beta1 node selector and port 0 only in v1beta1", () => {
      const old: K8sObject = {
        apiVersion: "metallb.io/v1beta1",
        kind: "BGPPeer",
        metadata: { name: "old", namespace: "metallb-system" },
        spec: {
          myASN: 64500,
          peerASN: 64501,
          peerAddress: "192.0.2.1",
          peerPort: 0,
          nodeSelectors: [{ matchLabels: { a: "b" }, matchExpressions: [{ key: "k", operator: "In", values: ["v"] }] }],
        },
      };
      expect(schemaErrors(old)).toEqual([]);
      expect(schemaErrors({ ...old, apiVersion: "metallb.io/v1beta2" }).join()).toMatch(/peerPort/);
    });
  });

  it("carries MetalLB's CEL rules", () => {
    const rules = (kind: string, path: string, version = "v1beta1") => {
      const root = byKind.get(kind)?.spec.versions.find((v) => v.name === version)?.schema.openAPIV3Schema as Schema;
      return (schemaAt(root, path)?.["x-kubernetes-validations"] ?? []).map((r) => r.message);
    };
    expect(rules("BGPAdvertisement", ".spec")).toContain(
      "serviceSelectors and aggregationLength are mutually exclusive, can only be used together with default aggregationLength (32) and aggregationLengthV6 (128)",
    );
    for (const v of ["v1beta1", "v1beta2"]) {
      expect(rules("BGPPeer", ".spec.connectTime", v)).toEqual([
        "connect time should be between 1 seconds to 65535",
        "connect time should contain a whole number of seconds",
      ]);
      expect(rules("BGPPeer", ".spec.enableGracefulRestart", v)).toEqual([
        "EnableGracefulRestart cannot be changed after creation",
      ]);
      expect(rules("BGPPeer", ".spec", v)).toContain("peerASN and dynamicASN are mutually exclusive, set only one");
    }
    for (const kind of ["ServiceL2Status", "ServiceBGPStatus"]) {
      for (const f of ["node", "serviceName", "serviceNamespace"]) {
        // A ServiceL2Status moves to the standby in place (issue 12): its node is not immutable.
        if (kind === "ServiceL2Status" && f === "node") expect(rules(kind, `.status.${f}`)).toEqual([]);
        else expect(rules(kind, `.status.${f}`)).toEqual(["Value is immutable"]);
      }
    }
  });

  describe("schemas reject what the API server would", () => {
    const obj = (apiVersion: string, kind: string, spec: Record<string, unknown>, status?: Record<string, unknown>) =>
      ({
        apiVersion,
        kind,
        metadata: { name: "x", namespace: "metallb-system" },
        spec,
        ...(status ? { status } : {}),
      }) as K8sObject;

    it.each([
      [
        "misspelt field",
        obj("metallb.io/v1beta1", "IPAddressPool", { adresses: ["192.0.2.0/24"] }),
        /additional|required/,
      ],
      ["missing addresses", obj("metallb.io/v1beta1", "IPAddressPool", {}), /addresses/],
      [
        "aggregationLength 0",
        obj("metallb.io/v1beta1", "BGPAdvertisement", { aggregationLength: 0 }),
        /aggregationLength/,
      ],
      ["peer ASN above 32 bits", obj("metallb.io/v1beta2", "BGPPeer", { myASN: 1, peerASN: 2 ** 32 }), /peerASN/],
      ["unknown dynamicASN", obj("metallb.io/v1beta2", "BGPPeer", { myASN: 1, dynamicASN: "any" }), /dynamicASN/],
      ["BFD multiplier 1", obj("metallb.io/v1beta1", "BFDProfile", { detectMultiplier: 1 }), /detectMultiplier/],
      [
        "L2 weight 101",
        obj("metallb.io/v1beta1", "L2Advertisement", { preferredNodeSelectors: [{ weight: 101, preference: {} }] }),
        /weight/,
      ],
      [
        "selector operator",
        obj("metallb.io/v1beta1", "L2Advertisement", {
          nodeSelectors: [{ matchExpressions: [{ key: "a", operator: "Is" }] }],
        }),
        /operator/,
      ],
      ["session without node", obj("metallb.io/v1beta1", "BGPSession", { peer: "p" }), /node/],
      [
        "unknown session state",
        obj("metallb.io/v1beta1", "BGPSession", { node: "n", peer: "p" }, { state: "Up" }),
        /state/,
      ],
      [
        "unknown BFD state",
        obj("metallb.io/v1beta1", "BGPSession", { node: "n", peer: "p" }, { bfd: { state: "Established" } }),
        /state/,
      ],
      [
        "BFD detect multiplier below MetalLB's range",
        obj("metallb.io/v1beta1", "BGPSession", { node: "n", peer: "p", bfd: { profile: "b", detectMultiplier: 1 } }),
        /detectMultiplier/,
      ],
      ["bad result", obj("metallb.io/v1beta1", "ConfigurationState", {}, { result: "OK" }), /result/],
    ])("%s", (_what, o, pattern) => {
      expect(schemaErrors(o).join("\n")).toMatch(pattern);
    });

    it("accepts a fully populated BGPSession and ConfigurationState", () => {
      const counters = { open: 1, update: 4, keepalive: 120, notification: 0, routeRefresh: 0, total: 125 };
      const session = obj(
        "metallb.io/v1beta1",
        "BGPSession",
        {
          node: "node-1",
          peer: "router-a",
          peerAddress: "198.51.100.1",
          peerASN: 4200000000,
          myASN: 64500,
          sourceAddress: "192.0.2.10",
          peerPort: 179,
          routerID: "192.0.2.10",
          holdTime: 90,
          ebgpMultiHop: false,
          passwordSecretRef: { name: "router-a-md5", key: "password" },
          enableGracefulRestart: true,
          bfd: {
            profile: "fast",
            receiveInterval: 300,
            transmitInterval: 300,
            detectMultiplier: 3,
            passiveMode: false,
          },
        },
        {
          state: "Established",
          since: "2026-01-02T03:04:05Z",
          negotiatedHoldTime: 90,
          capabilities: ["mp-ipv4-unicast", "route-refresh", "4-octet-asn"],
          advertisedPrefixes: 3,
          receivedPrefixes: 0,
          lastError: "",
          messages: { sent: counters, received: counters },
          observedGeneration: 2,
          lastUpdateTime: "2026-01-02T03:05:00.5+01:00",
          bfd: {
            state: "Up",
            remoteState: "Up",
            diagnostic: "no diagnostic",
            remoteDiagnostic: "no diagnostic",
            since: "2026-01-02T03:04:06Z",
            transmitInterval: 300,
            detectionTime: 900,
            multihop: false,
            downEvents: 0,
          },
        },
      );
      expect(schemaErrors(session)).toEqual([]);
      const state = obj(
        "metallb.io/v1beta1",
        "ConfigurationState",
        {},
        {
          result: "Invalid",
          errorSummary: "parsing peer router-a missing local ASN",
          conditions: [
            {
              type: "configReconcilerValid",
              status: "False",
              reason: "ConfigurationError",
              message: "parsing peer router-a missing local ASN",
              lastTransitionTime: "2026-01-02T03:04:05Z",
              observedGeneration: 1,
            },
          ],
        },
      );
      expect(schemaErrors(state)).toEqual([]);
    });
  });
});

describe("examples", () => {
  const examples = loadExamples();

  it("has every required file", () => {
    const files = new Set(examples.map((e) => e.file));
    for (const f of [
      "ipaddresspool",
      "l2advertisement",
      "bgppeer",
      "bgpadvertisement",
      "community",
      "bfdprofile",
      "service",
    ]) {
      expect(files).toContain(`${f}.yaml`);
    }
  });

  it.each(examples.map((e) => [`${e.file}: ${e.obj.kind}/${e.obj.metadata?.name}`, e.obj] as const))(
    "%s",
    (_label, obj) => {
      if (obj.apiVersion === "v1") {
        // The only core object the examples may hold is a LoadBalancer Service using our annotations.
        expect(obj.kind).toBe("Service");
        expect(obj.spec?.type).toBe("LoadBalancer");
        expect(Object.keys(obj.metadata.annotations ?? {})).toContain("metallb.io/address-pool");
        return;
      }
      const [group, version] = obj.apiVersion.split("/");
      expect(group).toBe(GROUP);
      const crd = byKind.get(obj.kind);
      expect(crd).toBeDefined();
      expect(crd?.spec.versions.find((v) => v.name === version)?.served).toBe(true);
      expect(obj.metadata.namespace).toBe("metallb-system");
      expect(schemaErrors(obj)).toEqual([]);
    },
  );

  it("reads the same under YAML 1.1 (kubectl's and PyYAML's dialect) as under 1.2", () => {
    for (const file of readdirSync(examplesDir).filter((f) => /\.ya?ml$/.test(f))) {
      const text = readFileSync(join(examplesDir, file), "utf8");
      const read = (version: "1.1" | "1.2") => parseAllDocuments(text, { version }).map((d) => d.toJS());
      expect({ file, docs: read("1.1") }).toEqual({ file, docs: read("1.2") });
    }
  });

  it("shows both BGPPeer versions", () => {
    const versions = examples.filter((e) => e.obj.kind === "BGPPeer").map((e) => e.obj.apiVersion);
    expect(versions).toEqual(expect.arrayContaining(["metallb.io/v1beta1", "metallb.io/v1beta2"]));
  });

  it("uses unique names, and pool references resolve", () => {
    const names = examples.map((e) => `${e.obj.kind}/${e.obj.metadata.namespace}/${e.obj.metadata.name}`);
    expect(new Set(names).size).toBe(names.length);
    const pools = new Set(examples.filter((e) => e.obj.kind === "IPAddressPool").map((e) => e.obj.metadata.name));
    const peers = new Set(examples.filter((e) => e.obj.kind === "BGPPeer").map((e) => e.obj.metadata.name));
    for (const { obj } of examples) {
      for (const p of (obj.spec?.ipAddressPools as string[] | undefined) ?? []) expect(pools).toContain(p);
      for (const p of (obj.spec?.peers as string[] | undefined) ?? []) expect(peers).toContain(p);
      const annotated = obj.metadata.annotations?.["metallb.io/address-pool"];
      if (annotated) expect(pools).toContain(annotated);
    }
  });

  it("uses only documentation prefixes, with no block overlapping another", () => {
    const doc = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"].map(block);
    const blocks = examples
      .filter((e) => e.obj.kind === "IPAddressPool")
      .flatMap((e) =>
        (e.obj.spec?.addresses as string[]).map((a) => ({ pool: e.obj.metadata.name, text: a, ...block(a) })),
      );
    expect(blocks.length).toBeGreaterThanOrEqual(6);
    for (const b of blocks) {
      expect({
        block: b.text,
        documentation: doc.some((d) => d.family === b.family && d.first <= b.first && b.last <= d.last),
      }).toEqual({
        block: b.text,
        documentation: true,
      });
    }
    for (let i = 0; i < blocks.length; i++) {
      for (let j = i + 1; j < blocks.length; j++) {
        const [a, b] = [blocks[i], blocks[j]];
        const overlap = a.family === b.family && a.first <= b.last && b.first <= a.last;
        expect({ a: a.text, b: b.text, overlap }).toEqual({ a: a.text, b: b.text, overlap: false });
      }
    }
  });
});

// Just enough address parsing for the overlap check; the real math lives in capabilities/shared/net.
function ipValue(text: string): { family: 4 | 6; value: bigint } {
  const s = text.trim();
  if (isIPv4(s)) return { family: 4, value: s.split(".").reduce((acc, o) => (acc << 8n) | BigInt(o), 0n) };
  if (!isIPv6(s)) throw new Error(`not an IP: ${text}`);
  const [head, tail] = s.includes("::") ? s.split("::") : [s, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  return { family: 6, value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n) };
}
function block(text: string): { family: 4 | 6; first: bigint; last: bigint } {
  if (text.includes("/")) {
    const [addr, len] = text.split("/");
    const { family, value } = ipValue(addr);
    const host = BigInt((family === 4 ? 32 : 128) - Number(len));
    const first = (value >> host) << host;
    return { family, first, last: first + (1n << host) - 1n };
  }
  const [a, b] = text.split("-").map(ipValue);
  expect(a.family).toBe(b.family);
  return { family: a.family, first: a.value, last: b.value };
}
