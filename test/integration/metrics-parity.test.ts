/**
 * MetalLB's controller metrics, as the running controller serves them on Pepr's /metrics:
 * per-family pool gauges that follow allocations and vanish with their pool, and the
 * k8s client metrics without labels (MetalLB's shape).
 */
import { request } from "node:https";
import { eventually, kubectl, kubectlOk } from "../harness/kubectl";

const ns = "metallb-system";
const app = "metrics-parity";

const scrape = (): Promise<string> =>
  new Promise((resolve, reject) => {
    // pepr dev serves HTTPS with its self-signed insecure-tls.crt.
    const req = request({ host: "localhost", port: 3000, path: "/metrics", rejectUnauthorized: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve(body));
    });
    req.on("error", reject);
    req.end();
  });

/** The value of one exact series line (name{labels} value), or undefined. */
const value = (text: string, series: string): number | undefined => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

const objects = `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: parity-dual, namespace: ${ns}}
spec: {addresses: ["203.0.113.248/30", "2001:db8:ff::/124"], autoAssign: false}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: parity-keep, namespace: ${ns}}
spec: {addresses: ["203.0.113.244/30"], autoAssign: false}
---
apiVersion: v1
kind: Service
metadata:
  name: ${app}
  namespace: default
  annotations: {metallb.io/address-pool: parity-dual}
spec:
  type: LoadBalancer
  ports: [{port: 80}]
  selector: {app: ${app}}
`;

describe("MetalLB's controller metrics on the running controller", () => {
  beforeAll(() => kubectlOk(["apply", "-f", "-"], objects));
  afterAll(async () => {
    await kubectl(["delete", "service", app, "-n", "default", "--ignore-not-found"]);
    await kubectl(["delete", "ipaddresspool", "parity-dual", "parity-keep", "-n", ns, "--ignore-not-found"]);
  });

  it("per-family pool gauges follow the allocation", async () => {
    const text = await eventually(async () => {
      const t = await scrape();
      return value(t, 'metallb_allocator_ipv4_addresses_in_use_total{pool="parity-dual"}') === 1 ? t : undefined;
    }, "the Service's IPv4 address counted in parity-dual");
    expect(value(text, 'metallb_allocator_ipv4_addresses_total{pool="parity-dual"}')).toBe(4);
    expect(value(text, 'metallb_allocator_ipv6_addresses_total{pool="parity-dual"}')).toBe(16);
    expect(value(text, 'metallb_allocator_ipv6_addresses_in_use_total{pool="parity-dual"}')).toBe(0);
    expect(value(text, 'metallb_allocator_addresses_total{pool="parity-dual"}')).toBe(20);
    expect(value(text, 'metallb_allocator_addresses_in_use_total{pool="parity-dual"}')).toBe(1);
  });

  it("k8s client metrics carry no labels: loaded, not stale, updates counted", async () => {
    const text = await scrape();
    expect(value(text, "metallb_k8s_client_config_loaded_bool")).toBe(1);
    expect(value(text, "metallb_k8s_client_config_stale_bool")).toBeDefined();
    expect(value(text, "metallb_k8s_client_updates_total")).toBeGreaterThan(0);
    expect(value(text, "metallb_k8s_client_update_errors_total")).toBeDefined();
  });

  it("a deleted pool's series go with it (no alert outlives its pool)", async () => {
    await kubectlOk(["delete", "service", app, "-n", "default"]);
    await kubectlOk(["delete", "ipaddresspool", "parity-dual", "-n", ns]);
    const text = await eventually(async () => {
      const t = await scrape();
      return t.includes('pool="parity-dual"') ? undefined : t;
    }, "parity-dual gone from /metrics");
    expect(value(text, 'metallb_allocator_addresses_total{pool="parity-keep"}')).toBe(4);
  });
});
