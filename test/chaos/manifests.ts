/** The objects the chaos rounds create, as the API takes them. */
import type { ServiceSpec } from "./plan";
import {
  ADV_UNKNOWN_ALIAS,
  ADV_USING_ALIAS,
  COMMUNITY,
  CONFIG_NAMESPACE,
  FOREIGN_CLASS,
  OVERLAP_POOL,
  PEER_BASE,
  PEER_MISSING_BFD,
  SERVICE_LABEL,
  poolAddresses,
  poolLayout,
  type Team,
} from "./scenario";

const METALLB = "/apis/metallb.io";
export const PATHS = {
  pools: `${METALLB}/v1beta1/namespaces/${CONFIG_NAMESPACE}/ipaddresspools`,
  bgpAdvertisements: `${METALLB}/v1beta1/namespaces/${CONFIG_NAMESPACE}/bgpadvertisements`,
  bgpPeers: `${METALLB}/v1beta2/namespaces/${CONFIG_NAMESPACE}/bgppeers`,
  communities: `${METALLB}/v1beta1/namespaces/${CONFIG_NAMESPACE}/communities`,
  services: (namespace: string) => `/api/v1/namespaces/${namespace}/services`,
};

export function serviceManifest(s: ServiceSpec): unknown {
  const annotations: Record<string, string> = {};
  if (s.requestIP) annotations["metallb.io/loadBalancerIPs"] = s.requestIP;
  if (s.pool) annotations["metallb.io/address-pool"] = s.pool;
  if (s.shareKey) annotations["metallb.io/allow-shared-ip"] = s.shareKey;
  const families = { v4: ["IPv4"], v6: ["IPv6"], "require-dual": ["IPv4", "IPv6"], "prefer-dual": ["IPv4", "IPv6"] }[
    s.stack
  ];
  const policy = {
    v4: "SingleStack",
    v6: "SingleStack",
    "require-dual": "RequireDualStack",
    "prefer-dual": "PreferDualStack",
  }[s.stack];
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: s.name, namespace: s.namespace, labels: { [SERVICE_LABEL]: "1" }, annotations },
    spec: {
      type: "LoadBalancer",
      ...(s.foreign ? { loadBalancerClass: FOREIGN_CLASS } : {}),
      ipFamilyPolicy: policy,
      ipFamilies: families,
      // No node ports: a long run creates thousands of Services.
      allocateLoadBalancerNodePorts: false,
      selector: { app: s.name },
      ports: [{ name: "p", port: s.port, protocol: "TCP" }],
    },
  };
}

export function poolManifest(name: string, size: number, team: Team): unknown {
  const layout = poolLayout(name);
  return {
    apiVersion: "metallb.io/v1beta1",
    kind: "IPAddressPool",
    metadata: { name, namespace: CONFIG_NAMESPACE },
    spec: {
      addresses: poolAddresses(layout, size),
      autoAssign: layout.autoAssign,
      ...(layout.selectsTeam
        ? { serviceAllocation: { priority: 10, namespaceSelectors: [{ matchLabels: { team } }] } }
        : {}),
    },
  };
}

export const overlapManifest = (): unknown => ({
  apiVersion: "metallb.io/v1beta1",
  kind: "IPAddressPool",
  metadata: { name: OVERLAP_POOL.name, namespace: CONFIG_NAMESPACE },
  spec: { addresses: OVERLAP_POOL.addresses, autoAssign: OVERLAP_POOL.autoAssign },
});

export const communityManifest = (): unknown => ({
  apiVersion: "metallb.io/v1beta1",
  kind: "Community",
  metadata: { name: COMMUNITY.name, namespace: CONFIG_NAMESPACE },
  spec: { communities: [{ name: COMMUNITY.alias, value: COMMUNITY.value }] },
});

export const advertisementManifest = (name: string, communities: string[]): unknown => ({
  apiVersion: "metallb.io/v1beta1",
  kind: "BGPAdvertisement",
  metadata: { name, namespace: CONFIG_NAMESPACE },
  spec: { ipAddressPools: ["pool-a"], communities },
});

export const advUsingAlias = (): unknown => advertisementManifest(ADV_USING_ALIAS, [COMMUNITY.alias]);
export const advUnknownAlias = (): unknown => advertisementManifest(ADV_UNKNOWN_ALIAS, ["no-such-alias"]);

export const peerManifest = (name: string, bfdProfile?: string): unknown => ({
  apiVersion: "metallb.io/v1beta2",
  kind: "BGPPeer",
  metadata: { name, namespace: CONFIG_NAMESPACE },
  spec: {
    myASN: 64500,
    peerASN: 64501,
    peerAddress: name === PEER_BASE ? "203.0.113.254" : "203.0.113.253",
    ...(bfdProfile ? { bfdProfile } : {}),
  },
});

export const peerBase = (): unknown => peerManifest(PEER_BASE);
export const peerMissingBfd = (): unknown => peerManifest(PEER_MISSING_BFD, "no-such-bfd");
