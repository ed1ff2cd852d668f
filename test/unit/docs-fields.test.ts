/**
 * docs/configuration.md documents every spec field of the configuration kinds, in the
 * kind's own section: a field added to a CRD (or accepted at last, as localASN and
 * dualStackAddressFamily were) without a line there fails here.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadCRDManifests } from "../../crds/manifests";

interface Crd {
  spec: {
    names: { kind: string };
    versions: Array<{
      storage?: boolean;
      schema: { openAPIV3Schema: { properties: { spec?: { properties?: object } } } };
    }>;
  };
}

const doc = readFileSync(join(__dirname, "..", "..", "docs", "configuration.md"), "utf8");
const section = (kind: string): string => {
  const start = doc.indexOf(`\n## ${kind}\n`);
  if (start < 0) return "";
  const end = doc.indexOf("\n## ", start + 1);
  return doc.slice(start, end < 0 ? undefined : end);
};
const crds = loadCRDManifests() as Crd[];
const KINDS = ["IPAddressPool", "L2Advertisement", "BGPAdvertisement", "BGPPeer", "BFDProfile", "Community"];

describe("docs/configuration.md", () => {
  it.each(KINDS)("documents every spec field of %s in its section", (kind) => {
    const crd = crds.find((c) => c.spec.names.kind === kind)!;
    const stored = crd.spec.versions.find((v) => v.storage)!;
    const fields = Object.keys(stored.schema.openAPIV3Schema.properties.spec?.properties ?? {});
    expect(fields.length).toBeGreaterThan(0);
    const text = section(kind);
    // `spec.field`, `spec.field.sub`, `spec.field[]...` or `spec.other` / `field` in one row.
    const documented = (f: string) => new RegExp("`spec\\." + f + "[`.\\[]|`spec\\.\\w+` / `" + f + "`").test(text);
    expect(fields.filter((f) => !documented(f))).toEqual([]);
  });
});
