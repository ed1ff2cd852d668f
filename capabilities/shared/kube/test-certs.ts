/** Test-only: self-signed certificate pairs from the openssl CLI (in Debian's base system). */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** A self-signed EC pair written to `dir` as NAME.crt and NAME.key, valid `days`; returns the PEM texts. */
export function selfSignedPair(dir: string, name: string, days: number): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", key, "-out", cert, "-days", String(days), "-subj", `/CN=${name}`,
  ], { stdio: "ignore" }); // prettier-ignore
  return { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") };
}
