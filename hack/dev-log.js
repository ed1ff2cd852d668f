#!/usr/bin/env node
/**
 * What `npm start` shows of `pepr dev`: one line per record the module logs (records with a
 * `component`), one line per warning or error (the error's message, not its stack), a
 * count instead of one line per unformatted file. Dropped: Pepr's own info records (five
 * multi-line records per admission request, two per binding at start) and esbuild's
 * bundle size table, which pepr dev prints on every build whatever LOG_LEVEL says.
 * Reads pepr dev's output (pino, pretty-printed: pepr dev forces PEPR_PRETTY_LOGS) on stdin.
 */
"use strict";
const { createInterface } = require("node:readline");

const ansi = /\x1b\[[0-9;]*m/g;
const header = /^\[(\d\d:\d\d:\d\d)\.\d+\] (TRACE|DEBUG|INFO|WARN|ERROR|FATAL) \([^)]*\): ?(.*)$/;
const sizeTable = /^\s*(dist\/\S+\s+\d|[├└] )/;
const unformatted = /^File (.+) is not formatted correctly$/;

let record; // { time, level, msg, body: string[] }
let unformattedFiles = [];
let idle;

const field = (body, name) => {
  for (const line of body) {
    const m = line.match(new RegExp(`^ {4}${name}: "(.*)"$`));
    if (m) return m[1];
  }
  return undefined;
};

/** The first entry of an `errors: [...]` field (why a configuration object was disabled). */
const firstError = (body) => {
  const at = body.findIndex((l) => l === "    errors: [");
  const m = at >= 0 ? (body[at + 1] ?? "").match(/^ {6}(".*"),?$/) : null;
  if (!m) return undefined;
  try {
    return JSON.parse(m[1]);
  } catch {
    return m[1];
  }
};

/** The error's own message, first line only. */
const errorMessage = (body) => {
  for (const line of body) {
    const m = line.match(/^ {6}"message": "(.*)",?$/);
    if (m) {
      try {
        return JSON.parse(`"${m[1]}"`).split("\n")[0].slice(0, 300);
      } catch {
        return m[1].slice(0, 300);
      }
    }
  }
  return undefined;
};

function flushRecord() {
  if (!record) return;
  const { time, level, msg, body } = record;
  record = undefined;
  const component = field(body, "component");
  const serious = level === "WARN" || level === "ERROR" || level === "FATAL";
  // Pepr's own info chatter goes; the module's records without a component are its own
  // start-up lines ("metallb-pepr controller ready"), and a rebuild says "Running module".
  if (!component && !serious && !/^(metallb-pepr|Running module)/.test(msg)) return;
  const object = field(body, "object");
  const err = errorMessage(body) ?? firstError(body);
  const tag = level === "INFO" ? "" : `${level} `;
  const parts = [`${time} ${tag}${component ?? "module"}: ${msg}`];
  if (object) parts.push(` (${object})`);
  if (err) parts.push(`: ${err}`);
  process.stdout.write(`${parts.join("")}\n`);
}

function flushUnformatted() {
  if (unformattedFiles.length === 0) return;
  process.stdout.write(
    `pepr: ${unformattedFiles.length} file(s) not formatted: npx prettier --write ${unformattedFiles.join(" ")}\n`,
  );
  unformattedFiles = [];
}

function line(raw) {
  const text = raw.replace(ansi, "");
  const h = text.match(header);
  if (h) {
    flushRecord();
    flushUnformatted();
    record = { time: h[1], level: h[2], msg: h[3], body: [] };
    return;
  }
  if (record && text.startsWith("    ")) {
    record.body.push(text);
    return;
  }
  flushRecord();
  const u = text.match(unformatted);
  if (u) {
    unformattedFiles.push(u[1]);
    return;
  }
  if (text.startsWith("Formatting errors were found")) return; // said once by flushUnformatted
  flushUnformatted();
  if (text.trim() === "" || sizeTable.test(text)) return;
  process.stdout.write(`${text}\n`);
}

const rl = createInterface({ input: process.stdin });
rl.on("line", (raw) => {
  line(raw);
  // A record's body has no end marker: print it once the stream goes quiet.
  clearTimeout(idle);
  // (The unformatted-file count waits for the next other line: pepr prints those in bursts.)
  idle = setTimeout(flushRecord, 200);
});
rl.on("close", () => {
  clearTimeout(idle);
  flushRecord();
  flushUnformatted();
});
