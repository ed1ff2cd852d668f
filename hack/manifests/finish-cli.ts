/**
 * `node finish-cli.js [DIR]`: finishes the module manifest `pepr build` wrote in DIR
 * (default dist/) in place; see finish.ts for what and why. Run by `npm run build`
 * through hack/finish-manifests.sh.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { finishManifests, type ManifestObject } from "./finish";

function finishFile(path: string): string {
  const objects = parseAllDocuments(readFileSync(path, "utf8")).map((d) => {
    if (d.errors.length) throw new Error(`${path}: ${d.errors[0].message}`);
    return d.toJS() as ManifestObject;
  });
  const finished = finishManifests(objects);
  // No folded scalars and no YAML aliases (the two webhooks share a clientConfig): plain YAML
  // any tool reads, diffed and grepped line by line.
  writeFileSync(path, finished.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join("---\n"));
  const hooks = finished.flatMap((o) => (o.webhooks as { name: string; failurePolicy: string }[] | undefined) ?? []);
  return `${path}: ${hooks.map((h) => `${h.name} ${h.failurePolicy}`).join(", ")}; PodDisruptionBudget ${
    finished.some((o) => o.kind === "PodDisruptionBudget") ? "added" : "not added (no admission Deployment)"
  }`;
}

const dir = process.argv[2] ?? "dist";
const files = readdirSync(dir).filter((f) => /^pepr-module-.*\.yaml$/.test(f));
if (!files.length) {
  console.error(`finish-manifests: no pepr-module-*.yaml in ${dir}; run \`npx pepr build\` first`);
  process.exit(1);
}
for (const f of files) console.log(`finish-manifests: ${finishFile(join(dir, f))}`);
