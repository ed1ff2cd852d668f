#!/usr/bin/env node
// Renders crds/*.yaml (the source of truth) into crds/generated/crds.json, which
// the controller bundle embeds to install the CRDs at start-up. A unit test
// fails when the two drift apart: run `npm run gen:crds` after editing a CRD.
const { readdirSync, readFileSync, writeFileSync, mkdirSync } = require("node:fs");
const { join } = require("node:path");
const { parse } = require("yaml");

const dir = join(__dirname, "..", "crds");
const crds = readdirSync(dir)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map((f) => parse(readFileSync(join(dir, f), "utf8")));
mkdirSync(join(dir, "generated"), { recursive: true });
writeFileSync(join(dir, "generated", "crds.json"), JSON.stringify(crds, null, 1) + "\n");
console.log(`wrote ${crds.length} CRDs to crds/generated/crds.json`);
