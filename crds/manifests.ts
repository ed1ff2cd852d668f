/**
 * Reads the CRD manifests (crds/*.yaml, the source of truth) so the controller
 * can server-side-apply them at start-up and tests can inspect them. Pure apart
 * from reading files: no Kubernetes client.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { ALL_KINDS } from "./types/kinds";

/** Names of every CRD this project ships, `<plural>.metallb.io`. */
export const CRD_NAMES: readonly string[] = ALL_KINDS.map((k) => k.crdName);

/** The directory holding the YAML next to this module (crds/ in the source tree). */
export const DEFAULT_CRD_DIR = __dirname;

/**
 * Every CustomResourceDefinition found in `dir/*.yaml|yml`, in file-name order
 * so callers see a stable sequence. Throws on YAML errors rather than skipping
 * a file, because a half-installed API is worse than a failed start.
 */
export function loadCRDManifests(dir: string = DEFAULT_CRD_DIR): object[] {
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  const out: object[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), "utf8"))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
      const obj: unknown = doc.toJS();
      if (isCRD(obj)) out.push(obj);
    }
  }
  return out;
}

function isCRD(obj: unknown): obj is { kind: string } {
  return (
    typeof obj === "object" &&
    obj !== null &&
    (obj as { kind?: unknown }).kind === "CustomResourceDefinition" &&
    (obj as { apiVersion?: unknown }).apiVersion === "apiextensions.k8s.io/v1"
  );
}
