/**
 * The type checker and ESLint (eslint.config.mjs: floating promises, misused promises,
 * unused names) as part of `npm test`, so Jest's summary counts them and a failure
 * prints every diagnostic. Both run at once as child processes: each builds its own
 * TypeScript program, and on two cores that halves the wait.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";

const root = join(__dirname, "..", "..");

interface Run {
  code: number | null;
  output: string;
}

function run(bin: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, "node_modules", ...bin.split("/")), ...args], { cwd: root });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

// Started once, at load, so the two checks overlap however Jest orders the tests.
const tsc = run("typescript/bin/tsc", ["--noEmit", "-p", "tsconfig.json"]);
const eslint = run("eslint/bin/eslint.js", ["--max-warnings", "0", "."]);

// Generous: on a busy two-core machine ESLint's typed rules take over a minute.
const LIMIT_MS = 600_000;

describe("static checks", () => {
  it(
    "tsc --noEmit finds no type errors",
    async () => {
      const r = await tsc;
      if (r.code !== 0) throw new Error(`tsc --noEmit -p tsconfig.json exited ${r.code}:\n${r.output}`);
    },
    LIMIT_MS,
  );

  it(
    "eslint finds no problems",
    async () => {
      const r = await eslint;
      if (r.code !== 0) throw new Error(`eslint . exited ${r.code}:\n${r.output}`);
    },
    LIMIT_MS,
  );
});
