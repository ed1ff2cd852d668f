import { checkServiceRequest, type ServiceLike } from "./service-request";
import { configOf, pool } from "./testing";

const svc = (
  annotations: Record<string, string>,
  spec: ServiceLike["spec"] = {},
  labels?: Record<string, string>,
): ServiceLike => ({
  metadata: { name: "web", namespace: "shop", annotations, labels },
  spec,
});
const config = configOf({
  pools: [
    pool("a", ["192.0.2.0/24", "2001:db8::/120"], { avoidBuggyIPs: true }),
    pool("b", ["198.51.100.0/24"]),
    pool("team", ["203.0.113.0/24"], { serviceAllocation: { namespaces: ["other"] } }),
  ],
});

describe("checkServiceRequest errors", () => {
  it("unparseable IP", () => {
    expect(checkServiceRequest(svc({ "metallb.io/loadBalancerIPs": "192.0.2.300" })).errors).toEqual([
      'Service "shop/web": annotation metallb.io/loadBalancerIPs: invalid requested loadbalancer IPs: "192.0.2.300" is not an IP address; list one or two addresses separated by a comma, such as "192.0.2.10,2001:db8::10"',
    ]);
  });

  it("unparseable IP in the legacy annotation", () => {
    expect(checkServiceRequest(svc({ "metallb.universe.tf/loadBalancerIPs": "x" })).errors).toEqual([
      'Service "shop/web": annotation metallb.universe.tf/loadBalancerIPs: invalid requested loadbalancer IPs: "x" is not an IP address; list one or two addresses separated by a comma, such as "192.0.2.10,2001:db8::10"',
    ]);
  });

  it("more than two IPs", () => {
    expect(
      checkServiceRequest(svc({ "metallb.io/loadBalancerIPs": "192.0.2.1, 2001:db8::1, 192.0.2.2" })).errors,
    ).toEqual([
      'Service "shop/web": annotation metallb.io/loadBalancerIPs: more than two addresses "192.0.2.1, 2001:db8::1, 192.0.2.2"; request at most one IPv4 and one IPv6 address',
    ]);
  });

  it("two IPs of one family", () => {
    expect(checkServiceRequest(svc({ "metallb.io/loadBalancerIPs": "192.0.2.1,192.0.2.2" })).errors).toEqual([
      'Service "shop/web": annotation metallb.io/loadBalancerIPs: "192.0.2.1" and "192.0.2.2" have the same family; request at most one address per IP family',
    ]);
  });

  it("annotation plus spec.loadBalancerIP", () => {
    expect(
      checkServiceRequest(svc({ "metallb.io/loadBalancerIPs": "192.0.2.1" }, { loadBalancerIP: "192.0.2.1" })).errors,
    ).toEqual([
      'Service "shop/web": service can not have both metallb.io/loadBalancerIPs and svc.Spec.LoadBalancerIP; remove spec.loadBalancerIP',
    ]);
  });

  it("unparseable spec.loadBalancerIP", () => {
    expect(checkServiceRequest(svc({}, { loadBalancerIP: "nope" })).errors).toEqual([
      'Service "shop/web": spec.loadBalancerIP: invalid requested loadbalancer IPs: "nope" is not an IP address; list one or two addresses separated by a comma, such as "192.0.2.10,2001:db8::10"',
    ]);
  });
});

describe("checkServiceRequest: metallb.io/bgp-communities", () => {
  it("a malformed community refuses the Service", () => {
    expect(checkServiceRequest(svc({ "metallb.io/bgp-communities": "64500:70000" }), config).errors).toEqual([
      'Service "shop/web": annotation metallb.io/bgp-communities: invalid community value: invalid section "70000" of community "64500:70000": must be a number from 0 to 65535; list values (AA:NN or large:A:B:C) or Community alias names separated by commas',
    ]);
  });

  it("a well-formed one no advertisement carries is admitted with a warning", () => {
    expect(checkServiceRequest(svc({ "metallb.io/bgp-communities": "64500:7" }), config)).toEqual({
      errors: [],
      warnings: [
        'Service "shop/web": annotation metallb.io/bgp-communities: no BGPAdvertisement carries Service communities; they are added only by advertisements annotated metallb.io/service-communities: "true"',
      ],
    });
  });
});

describe("checkServiceRequest warnings", () => {
  it("a well-formed dual-stack request in one pool is clean", () => {
    expect(checkServiceRequest(svc({ "metallb.io/loadBalancerIPs": "192.0.2.10,2001:db8::10" }), config)).toEqual({
      errors: [],
      warnings: [],
    });
  });

  it("legacy annotation", () => {
    expect(checkServiceRequest(svc({ "metallb.universe.tf/address-pool": "b" }), config)).toEqual({
      errors: [],
      warnings: [
        'Service "shop/web": uses deprecated annotation metallb.universe.tf/address-pool; use metallb.io/address-pool instead',
      ],
    });
  });

  it("requested IP outside every pool", () => {
    expect(checkServiceRequest(svc({ "metallb.io/loadBalancerIPs": "10.9.9.9" }), config).warnings).toEqual([
      'Service "shop/web": "10.9.9.9" is not allowed in config: no IPAddressPool contains it; the Service stays pending until one does',
    ]);
  });

  it("an address avoidBuggyIPs excludes counts as outside the pool", () => {
    expect(checkServiceRequest(svc({}, { loadBalancerIP: "192.0.2.255" }), config).warnings).toHaveLength(1);
  });

  it("unknown pool", () => {
    expect(checkServiceRequest(svc({ "metallb.io/address-pool": "gold" }), config).warnings).toEqual([
      'Service "shop/web": unknown pool "gold"; the Service stays pending until an IPAddressPool named "gold" exists',
    ]);
  });

  it("requested IP not in the requested pool", () => {
    expect(
      checkServiceRequest(svc({ "metallb.io/address-pool": "b", "metallb.io/loadBalancerIPs": "192.0.2.10" }), config)
        .warnings,
    ).toEqual([
      'Service "shop/web": requested loadBalancer IP(s) "192.0.2.10" is not compatible with requested address pool "b"; request an address of that pool or drop one of the two annotations',
    ]);
  });

  it("two requested IPs from different pools", () => {
    expect(
      checkServiceRequest(svc({ "metallb.io/loadBalancerIPs": "198.51.100.1,2001:db8::1" }), config).warnings,
    ).toEqual([
      'Service "shop/web": requested IPs "198.51.100.1" and "2001:db8::1" are in different pools ("b", "a"); both addresses must come from one IPAddressPool',
    ]);
  });

  it("a pool that is invalid (disabled) is named as the reason to wait", () => {
    const frozen = { ...config, pools: config.pools.map((p) => (p.name === "b" ? { ...p, disabled: "x" } : p)) };
    expect(checkServiceRequest(svc({ "metallb.io/address-pool": "b" }), frozen).warnings).toEqual([
      'Service "shop/web": pool "b" is invalid and hands out no new address until it is fixed (see kubectl get configurationstates -n metallb-system)',
    ]);
  });

  it("pool whose serviceAllocation does not admit the Service", () => {
    expect(checkServiceRequest(svc({ "metallb.io/address-pool": "team" }), config).warnings).toEqual([
      'Service "shop/web": pool "team" not compatible for ip assignment: its serviceAllocation does not admit this Service\'s namespace or labels',
    ]);
  });
});
