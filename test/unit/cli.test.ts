/** bin/metallb-pepr.js runs straight from a checkout (no build step) for `convert`. */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const bin = join(__dirname, "..", "..", "bin", "metallb-pepr.js");
const cli = (args: string[], input?: string) =>
  spawnSync(process.execPath, [bin, ...args], { input, encoding: "utf8" });

describe("metallb-pepr convert", () => {
  it("reads a legacy ConfigMap on stdin and prints CRD YAML", () => {
    const configMap = [
      "apiVersion: v1",
      "kind: ConfigMap",
      "metadata: {name: config, namespace: metallb-system}",
      "data:",
      "  config: |",
      "    address-pools:",
      "    - {name: lab, protocol: layer2, addresses: [192.0.2.0/28]}",
    ].join("\n");
    const r = cli(["convert", "-n", "lb"], configMap);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("kind: IPAddressPool");
    expect(r.stdout).toContain("kind: L2Advertisement");
    expect(r.stdout).toContain("namespace: lb");
  });

  it("exits 1 naming the field it cannot convert", () => {
    const r = cli(["convert"], "address-pools:\n- {name: a, protocol: ospf, addresses: [192.0.2.0/28]}\n");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("config.address-pools[0].protocol");
  });

  it("a missing file is one line naming it, not a stack trace", () => {
    const r = cli(["convert", "-f", "/nonexistent/metallb-config.yaml"]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('metallb-pepr convert: cannot read "/nonexistent/metallb-config.yaml": no such file');
  });

  it("at a terminal without -f, says it is reading stdin before it waits", () => {
    // script(1) (util-linux, Essential in Debian) gives the CLI a terminal as stdin.
    const r = spawnSync("script", ["-q", "-e", "-c", `${process.execPath} ${bin} convert`, "/dev/null"], {
      input: "",
      encoding: "utf8",
    });
    expect(r.stdout).toContain("reading the ConfigMap from stdin (end with Ctrl-D; or pass -f FILE)");
  });

  it("rejects unknown arguments with usage", () => {
    const r = cli(["convert", "--frobnicate"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("usage:");
  });
});
