import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentialsFromKubeconfig, inClusterCredentials, loadCredentials } from "./credentials";

const kubeconfig = (
  user: string,
  cluster = "server: https://127.0.0.1:6443\n    certificate-authority-data: " + Buffer.from("CA").toString("base64"),
) => `
apiVersion: v1
kind: Config
current-context: lab
contexts:
- name: other
  context: {cluster: nowhere, user: nobody}
- name: lab
  context: {cluster: local, user: agent}
clusters:
- name: local
  cluster:
    ${cluster}
users:
- name: agent
  user:
    ${user}
`;

describe("agent credentials", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "creds-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("follows current-context to the server, CA and bearer token", () => {
    const c = credentialsFromKubeconfig(kubeconfig("token: abc123"), dir);
    expect(c.server.href).toBe("https://127.0.0.1:6443/");
    expect(c.tls.ca?.toString()).toBe("CA");
    expect(c.tls.rejectUnauthorized).toBe(true);
    expect(c.authorization()).toBe("Bearer abc123");
  });

  it("reads a relative tokenFile and CA file against the kubeconfig's directory", () => {
    writeFileSync(join(dir, "tok"), "from-file\n");
    writeFileSync(join(dir, "ca.crt"), "CA-FILE");
    const c = credentialsFromKubeconfig(
      kubeconfig("tokenFile: tok", "server: https://[::1]:7443/prefix\n    certificate-authority: ca.crt"),
      dir,
    );
    expect(c.authorization()).toBe("Bearer from-file");
    expect(c.tls.ca?.toString()).toBe("CA-FILE");
    expect(c.server.pathname).toBe("/prefix");
  });

  it("uses a client certificate and honours insecure-skip-tls-verify", () => {
    const b = (s: string): string => Buffer.from(s).toString("base64");
    const c = credentialsFromKubeconfig(
      kubeconfig(
        `client-certificate-data: ${b("CERT")}\n    client-key-data: ${b("KEY")}`,
        "server: https://10.0.0.1\n    insecure-skip-tls-verify: true",
      ),
      dir,
    );
    expect(c.tls.cert?.toString()).toBe("CERT");
    expect(c.tls.key?.toString()).toBe("KEY");
    expect(c.tls.rejectUnauthorized).toBe(false);
    expect(c.authorization()).toBeUndefined();
  });

  it.each([
    ["an exec plugin", kubeconfig("exec: {command: aws}"), /exec or auth-provider plugin/],
    ["no current-context", "apiVersion: v1\nkind: Config\n", /no current-context/],
    ["an unknown context", "current-context: x\ncontexts: []\n", /context "x" is not defined/],
  ])("refuses %s with a clear message", (_what, text, message) => {
    expect(() => credentialsFromKubeconfig(text, dir, "kc")).toThrow(message);
  });

  it("in a Pod: the ServiceAccount token and CA, and the service address (IPv6 bracketed)", () => {
    writeFileSync(join(dir, "token"), "sa-token");
    writeFileSync(join(dir, "ca.crt"), "SA-CA");
    const c = inClusterCredentials({ KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" }, dir);
    expect(c.server.host).toBe("[fd00::1]");
    expect(c.authorization()).toBe("Bearer sa-token");
    expect(c.tls.ca?.toString()).toBe("SA-CA");
  });

  it("says what is missing when there is neither a kubeconfig nor a Pod", () => {
    expect(() => loadCredentials({ KUBECONFIG: join(dir, "missing") })).toThrow(/does not exist/);
    expect(() => inClusterCredentials({}, dir)).toThrow(/not in a Pod/);
  });
});
