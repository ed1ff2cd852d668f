#!/usr/bin/env node
/**
 * metallb-pepr CLI: see `usage` below, or run `metallb-pepr --help`.
 *
 * `convert` and `preflight` need no build step: their TypeScript is bundled on the
 * fly with esbuild (present after `npm ci`: it is a pinned devDependency and Pepr's
 * peer dependency) into a temp file keyed by the bundle's content hash.
 * Plain JavaScript on purpose, so it runs before anything is compiled.
 */
"use strict";
const { createHash } = require("node:crypto");
const { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join, resolve } = require("node:path");

const root = resolve(__dirname, "..");

const usage = `usage:
  metallb-pepr preflight [-n NAMESPACE]
      Reads the cluster's metallb.io objects (kubeconfig from KUBECONFIG or ~/.kube/config)
      and prints, per object, whether metallb-pepr will run it, refuse it (and why), or run
      it with a warning. NAMESPACE defaults to $METALLB_NAMESPACE or metallb-system.
      Exits 1 when something would be refused, 3 when the cluster cannot be read.
  metallb-pepr convert [-f FILE|-] [-n NAMESPACE]
      Reads MetalLB's pre-0.13 ConfigMap (or just its data.config) from FILE or stdin
      and prints the equivalent IPAddressPool/L2Advertisement/BGPAdvertisement/BGPPeer/
      Community/BFDProfile objects as YAML. Warnings go to stderr.
  metallb-pepr manifests [--agent-image IMAGE] [--no-lease-policy]
      Prints what the install needs besides Pepr's own objects (the namespace, the CRDs, the
      controller's Role, the node agent and its Lease policy) as YAML. The manifest
      \`npm run build\` writes already holds them; after \`npx pepr deploy\`, apply them with
      \`metallb-pepr manifests | kubectl apply --server-side -f -\`.
  metallb-pepr agent
      Runs the node agent (dist/agent/agent.js; build it with npm run build:agent).
  metallb-pepr help | --help | -h        this text
  metallb-pepr --version                 the package version`;

function fail(message, code = 2) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

function runAgent() {
  const agent = join(root, "dist", "agent", "agent.js");
  if (!existsSync(agent)) fail(`${agent} not found: run \`npm run build:agent\` first`, 1);
  require(agent); // the bundle starts the agent when loaded
}

/** size:mtime of each file a bundle was built from, so an unchanged checkout skips esbuild. */
function fingerprint(inputs) {
  const out = {};
  for (const rel of inputs) {
    try {
      const st = statSync(join(root, rel));
      out[rel] = `${st.size}:${st.mtimeMs}`;
    } catch {
      out[rel] = "missing";
    }
  }
  return out;
}

/**
 * Bundles a TypeScript entry (a path under the checkout) into the temp directory and
 * loads it. The bundle is reused while none of its input files changed: bundling the
 * Kubernetes client for preflight takes seconds on a busy machine.
 */
function loadBundle(command, ...entryPath) {
  const dir = join(tmpdir(), "metallb-pepr-cli");
  const key = createHash("sha256").update(root).digest("hex").slice(0, 12);
  const index = join(dir, `${command}-${key}.json`);
  try {
    const last = JSON.parse(readFileSync(index, "utf8"));
    const now = fingerprint(Object.keys(last.inputs));
    if (existsSync(last.file) && Object.keys(now).every((k) => now[k] === last.inputs[k])) return require(last.file);
  } catch {
    // no usable index: bundle below
  }
  let esbuild;
  try {
    esbuild = require("esbuild");
  } catch {
    fail(`metallb-pepr ${command} needs esbuild: run \`npm ci\` in the metallb-pepr checkout`, 1);
  }
  const result = esbuild.buildSync({
    entryPoints: [join(root, ...entryPath)],
    absWorkingDir: root,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const code = result.outputFiles[0].text;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${command}-${createHash("sha256").update(code).digest("hex").slice(0, 16)}.js`);
  if (!existsSync(file)) writeFileSync(file, code);
  writeFileSync(index, JSON.stringify({ file, inputs: fingerprint(Object.keys(result.metafile.inputs)) }));
  return require(file);
}

function parseArgs(argv) {
  const opts = { file: "-", namespace: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) fail(`${a} needs a value\n${usage}`);
      return argv[++i];
    };
    if (a === "-f" || a === "--file") opts.file = value();
    else if (a === "-n" || a === "--namespace") opts.namespace = value();
    else if (a === "-h" || a === "--help") {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    } else fail(`unknown argument ${a}\n${usage}`);
  }
  return opts;
}

/** The input text; a missing or unreadable file is one line, not a stack trace. */
function readInput(file) {
  if (file === "-" && process.stdin.isTTY) {
    // Without -f, a user at a terminal would otherwise see nothing happen.
    process.stderr.write("reading a MetalLB ConfigMap from stdin; pass -f FILE to read a file (Ctrl-D ends input)\n");
  }
  try {
    return readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (e) {
    const why =
      e && e.code === "ENOENT" ? "no such file" : e && e.code === "EISDIR" ? "is a directory" : String(e && e.message);
    fail(`metallb-pepr convert: cannot read ${file === "-" ? "stdin" : JSON.stringify(file)}: ${why}`, 1);
  }
}

function runConvert(argv) {
  const opts = parseArgs(argv);
  const text = readInput(opts.file);
  const { convertLegacyText, ConvertError } = loadBundle(
    "convert",
    "capabilities",
    "shared",
    "convert",
    "legacy-configmap.ts",
  );
  try {
    const out = convertLegacyText(text, opts.namespace);
    for (const w of out.warnings) process.stderr.write(`warning: ${w}\n`);
    process.stdout.write(out.yaml);
  } catch (e) {
    if (e instanceof ConvertError) fail(e.message, 1);
    throw e;
  }
}

function runPreflight(argv) {
  const { runPreflight: run } = loadBundle("preflight", "capabilities", "shared", "preflight", "cli.ts");
  const io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };
  run(argv, io).then(
    // exit(): the client's keep-alive sockets would otherwise hold the process open.
    (code) => process.stdout.write("", () => process.exit(code)),
    (e) => fail(`metallb-pepr preflight: ${e && e.stack ? e.stack : e}`, 1),
  );
}

function runManifests(argv) {
  if (argv.includes("-h") || argv.includes("--help")) {
    const { MANIFESTS_USAGE } = loadBundle("manifests", "capabilities", "shared", "kube", "install-cli.ts");
    process.stdout.write(`${MANIFESTS_USAGE}\n`);
    return;
  }
  const { renderInstallManifests, UsageError } = loadBundle(
    "manifests",
    "capabilities",
    "shared",
    "kube",
    "install-cli.ts",
  );
  try {
    process.stdout.write(renderInstallManifests(argv, process.env));
  } catch (e) {
    if (e instanceof UsageError) fail(e.message);
    throw e;
  }
}

function version() {
  return JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;
}

const [command, ...rest] = process.argv.slice(2);
if (command === "agent") runAgent();
else if (command === "convert") runConvert(rest);
else if (command === "preflight") runPreflight(rest);
else if (command === "manifests") runManifests(rest);
else if (command === "-h" || command === "--help" || command === "help") process.stdout.write(`${usage}\n`);
else if (command === "--version" || command === "-V" || command === "version") process.stdout.write(`${version()}\n`);
else if (command === undefined) fail(usage);
else fail(`metallb-pepr: unknown command ${JSON.stringify(command)}\n${usage}`);
