/**
 * deploy/prometheusrule.yaml under promtool (Debian's prometheus package; hack/install-deps.sh):
 * the rules pass `promtool check rules`, and test/unit/promtool/alerts.test.yaml, run with
 * `promtool test rules`, makes every alert fire on synthetic series and then resolve.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";

const root = join(__dirname, "..", "..");
const testFile = join(__dirname, "promtool", "alerts.test.yaml");

interface Rule {
  alert?: string;
  annotations?: Record<string, string>;
}
interface AlertTest {
  alertname: string;
  eval_time: string;
  exp_alerts?: unknown[];
}

const rule = parse(readFileSync(join(root, "deploy", "prometheusrule.yaml"), "utf8")) as {
  spec: { groups: Array<{ name: string; rules: Rule[] }> };
};
const alertNames = rule.spec.groups.flatMap((g) => g.rules.flatMap((r) => (r.alert ? [r.alert] : [])));

/** "1h2m30s" -> seconds. */
function seconds(d: string): number {
  let total = 0;
  for (const m of d.matchAll(/(\d+)(ms|s|m|h|d)/g))
    total += Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "ms" | "s" | "m" | "h" | "d"];
  return total;
}

function promtool(args: string[], cwd: string): string {
  try {
    return execFileSync("promtool", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (e.code === "ENOENT")
      throw new Error("promtool not found: run hack/install-deps.sh (Debian package prometheus)");
    throw new Error(`promtool ${args.join(" ")} failed:\n${e.stdout ?? ""}${e.stderr ?? ""}`);
  }
}

describe("deploy/prometheusrule.yaml under promtool", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "promtool-"));
    // Plain Prometheus rule file from the PrometheusRule's groups. Descriptions are long prose the
    // test does not repeat; `check rules` still parses their templates from the full copy.
    writeFileSync(join(dir, "full.yaml"), stringify({ groups: rule.spec.groups }));
    const short = structuredClone(rule.spec.groups);
    for (const g of short) for (const r of g.rules) delete r.annotations?.description;
    writeFileSync(join(dir, "rules.yaml"), stringify({ groups: short }));
    copyFileSync(testFile, join(dir, "alerts.test.yaml"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("promtool check rules accepts every rule", () => {
    expect(promtool(["check", "rules", "full.yaml"], dir)).toContain(`SUCCESS: ${alertNames.length} rules found`);
  });

  it("every alert fires and then resolves in the promtool tests", () => {
    const tests = (parse(readFileSync(testFile, "utf8")) as { tests: Array<{ alert_rule_test?: AlertTest[] }> }).tests;
    const checks = tests.flatMap((t) => t.alert_rule_test ?? []);
    const untested = alertNames.filter((name) => {
      const mine = checks.filter((c) => c.alertname === name);
      const fired = mine.filter((c) => (c.exp_alerts ?? []).length > 0).map((c) => seconds(c.eval_time));
      const quiet = mine.filter((c) => (c.exp_alerts ?? []).length === 0).map((c) => seconds(c.eval_time));
      return !(fired.length > 0 && quiet.some((t) => t > Math.min(...fired)));
    });
    expect(untested).toEqual([]);
  });

  it("promtool test rules passes (fire, resolve, single-address pools excluded)", () => {
    expect(promtool(["test", "rules", "alerts.test.yaml"], dir)).toContain("SUCCESS");
  });
});
