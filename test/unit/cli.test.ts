/** bin/metallb-pepr.js runs straight from a checkout (no build step) for `convert` and `preflight`. */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";

const bin = join(__dirname, "..", "..", "bin", "metallb-pepr.js");
const cli = (args: string[], input?: string, env: NodeJS.ProcessEnv = process.env) =>
  spawnSync(process.execPath, [bin, ...args], { input, encoding: "utf8", env });

describe("metallb-pepr", () => {
  it.each([["--help"], ["-h"], ["help"]])("%s prints usage naming every command and exits 0", (flag) => {
    const r = cli([flag]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
    for (const command of ["preflight", "convert", "manifests", "agent", "--version"])
      expect(r.stdout).toContain(command);
  });

  it("--version prints the package version", () => {
    const { version } = JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8"));
    const r = cli(["--version"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${version}\n`);
  });

  it("an unknown command exits 2 naming it, with usage on stderr", () => {
    const r = cli(["frobnicate"]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^metallb-pepr: unknown command "frobnicate"\nusage:/);
  });

  it("no command at all exits 2 with usage", () => {
    const r = cli([]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^usage:/);
  });
});

describe("metallb-pepr preflight (the cluster side is in test/integration/preflight.test.ts)", () => {
  it("without a kubeconfig says so in one line and exits 3", () => {
    const env = { PATH: process.env.PATH, HOME: "/nonexistent" };
    const r = cli(["preflight"], undefined, env);
    expect(r.status).toBe(3);
    expect(r.stderr).toBe("metallb-pepr preflight: no kubeconfig: set KUBECONFIG or create ~/.kube/config\n");
  });

  it("rejects unknown arguments with exit 2", () => {
    const r = cli(["preflight", "--frobnicate"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unexpected argument "--frobnicate"');
  });
});

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
    expect(r.stdout).toContain(
      "reading a MetalLB ConfigMap from stdin; pass -f FILE to read a file (Ctrl-D ends input)",
    );
  });

  it("rejects unknown arguments with usage", () => {
    const r = cli(["convert", "--frobnicate"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("usage:");
  });
});

describe("metallb-pepr manifests (applied to a real API server in test/integration/deploy.test.ts)", () => {
  const kinds = (yaml: string) =>
    parseAllDocuments(yaml).map((d) => {
      const o = d.toJS() as { kind: string; metadata: { name: string } };
      return `${o.kind}/${o.metadata.name}`;
    });

  it("prints the install objects: namespace first, then CRDs, RBAC, the agent and its Lease policy", () => {
    const r = cli(["manifests"]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
    const ids = kinds(r.stdout);
    expect(ids[0]).toBe("Namespace/metallb-system");
    for (const id of [
      "CustomResourceDefinition/ipaddresspools.metallb.io",
      "Role/metallb-controller",
      "DaemonSet/metallb-agent",
      "ValidatingAdmissionPolicy/metallb-agent-leases",
    ])
      expect(ids).toContain(id);
  });

  it("takes the agent image from --agent-image, and leaves the Lease policy out on request", () => {
    const r = cli(["manifests", "--agent-image", "registry.example.com/agent:7", "--no-lease-policy"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("image: registry.example.com/agent:7");
    expect(kinds(r.stdout).some((id) => id.startsWith("ValidatingAdmissionPolicy"))).toBe(false);
  });

  it("rejects unknown arguments with exit 2 and its usage", () => {
    const r = cli(["manifests", "--frobnicate"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^unknown argument --frobnicate\nusage: metallb-pepr manifests/);
  });
});
