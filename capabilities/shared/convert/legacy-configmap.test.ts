import { parseAllDocuments } from "yaml";
import { ConvertError, convertLegacyText, sanitizeName } from "./legacy-configmap";

/** A typical pre-0.13 install: one L2 pool, one BGP pool with two advertisements, two routers. */
const legacyConfigMap = `
apiVersion: v1
kind: ConfigMap
metadata:
  namespace: metallb-system
  name: config
data:
  config: |
    bgp-communities:
      no-export: 65535:65281
      edge: 64500:100
    peers:
    - peer-address: 192.0.2.1
      peer-asn: 64501
      my-asn: 64500
      hold-time: 90s
      router-id: 192.0.2.10
      password: "s3cret"
      node-selectors:
      - match-labels:
          rack: frontend
        match-expressions:
        - key: network-speed
          operator: NotIn
          values: [slow]
    - peer-address: 2001:db8::1
      peer-asn: 64502
      my-asn: 64500
      peer-port: 1179
      source-address: 2001:db8::10
    address-pools:
    - name: Lab_Pool
      protocol: layer2
      addresses:
      - 198.51.100.0/28
      - 198.51.100.100-198.51.100.110
      avoid-buggy-ips: true
    - name: routed
      protocol: bgp
      auto-assign: false
      addresses:
      - 203.0.113.0/24
      - 2001:db8:100::/120
      bgp-advertisements:
      - aggregation-length: 32
        localpref: 100
        communities: [no-export, "64500:7"]
      - aggregation-length: 24
        aggregation-length-v6: 120
`;

const kindsAndNames = (yaml: string) =>
  parseAllDocuments(yaml).map((d) => {
    const o = d.toJS();
    return `${o.apiVersion} ${o.kind}/${o.metadata.name}`;
  });

describe("convertLegacyText", () => {
  const r = convertLegacyText(legacyConfigMap);
  const find = (kind: string, name: string) => r.objects.find((o) => o.kind === kind && o.metadata.name === name)!;

  it("emits one object per pool, advertisement, peer and the community aliases", () => {
    expect(kindsAndNames(r.yaml)).toEqual([
      "metallb.io/v1beta1 Community/communities",
      "metallb.io/v1beta1 IPAddressPool/lab-pool",
      "metallb.io/v1beta1 L2Advertisement/lab-pool",
      "metallb.io/v1beta1 IPAddressPool/routed",
      "metallb.io/v1beta1 BGPAdvertisement/routed-1",
      "metallb.io/v1beta1 BGPAdvertisement/routed-2",
      "metallb.io/v1beta2 BGPPeer/peer1",
      "metallb.io/v1beta2 BGPPeer/peer2",
    ]);
    expect(r.objects.every((o) => o.metadata.namespace === "metallb-system")).toBe(true);
  });

  it("maps pool fields and keeps defaults implicit", () => {
    expect(find("IPAddressPool", "lab-pool").spec).toEqual({
      addresses: ["198.51.100.0/28", "198.51.100.100-198.51.100.110"],
      avoidBuggyIPs: true,
    });
    expect(find("IPAddressPool", "routed").spec).toEqual({
      addresses: ["203.0.113.0/24", "2001:db8:100::/120"],
      autoAssign: false,
    });
    expect(find("L2Advertisement", "lab-pool").spec).toEqual({ ipAddressPools: ["lab-pool"] });
  });

  it("maps BGP advertisements, keeping community aliases by name", () => {
    expect(find("BGPAdvertisement", "routed-1").spec).toEqual({
      ipAddressPools: ["routed"],
      aggregationLength: 32,
      localPref: 100,
      communities: ["no-export", "64500:7"],
    });
    expect(find("BGPAdvertisement", "routed-2").spec).toEqual({
      ipAddressPools: ["routed"],
      aggregationLength: 24,
      aggregationLengthV6: 120,
    });
    expect(find("Community", "communities").spec).toEqual({
      communities: [
        { name: "no-export", value: "65535:65281" },
        { name: "edge", value: "64500:100" },
      ],
    });
  });

  it("maps peers, including node selectors, to v1beta2 BGPPeers", () => {
    expect(find("BGPPeer", "peer1").spec).toEqual({
      myASN: 64500,
      peerASN: 64501,
      peerAddress: "192.0.2.1",
      holdTime: "90s",
      routerID: "192.0.2.10",
      password: "s3cret",
      nodeSelectors: [
        {
          matchLabels: { rack: "frontend" },
          matchExpressions: [{ key: "network-speed", operator: "NotIn", values: ["slow"] }],
        },
      ],
    });
    expect(find("BGPPeer", "peer2").spec).toEqual({
      myASN: 64500,
      peerASN: 64502,
      peerAddress: "2001:db8::1",
      peerPort: 1179,
      sourceAddress: "2001:db8::10",
    });
  });

  it("warns about renames and plain-text passwords", () => {
    expect(r.warnings.join("\n")).toContain('"Lab_Pool" renamed to "lab-pool"');
    expect(r.warnings.join("\n")).toContain("config.peers[0].password");
  });

  it("accepts the bare config document and a -n override", () => {
    const bare = convertLegacyText(
      "address-pools:\n- name: one\n  protocol: bgp\n  addresses: [192.0.2.0/29]\n",
      "lb-config",
    );
    expect(kindsAndNames(bare.yaml)).toEqual([
      "metallb.io/v1beta1 IPAddressPool/one",
      "metallb.io/v1beta1 BGPAdvertisement/one",
    ]);
    expect(bare.objects[0].metadata.namespace).toBe("lb-config");
  });

  it("converts BFD profiles", () => {
    const out = convertLegacyText(
      "bfd-profiles:\n- name: fast\n  receive-interval: 100\n  transmit-interval: 100\n  echo-mode: true\n",
    );
    expect(out.objects[0]).toMatchObject({
      kind: "BFDProfile",
      metadata: { name: "fast" },
      spec: { receiveInterval: 100, transmitInterval: 100, echoMode: true },
    });
  });
});

describe("refusals name the field", () => {
  const problems = (config: string): string[] => {
    try {
      convertLegacyText(config);
    } catch (e) {
      if (e instanceof ConvertError) return e.problems;
      throw e;
    }
    throw new Error("expected a ConvertError");
  };

  it.each([
    [
      "address-pools:\n- name: a\n  protocol: ospf\n  addresses: [192.0.2.0/29]\n",
      'config.address-pools[0].protocol: "ospf" is not supported',
    ],
    ["address-pools:\n- name: a\n  addresses: [192.0.2.0/29]\n", "config.address-pools[0].protocol: required"],
    [
      "address-pools:\n- name: a\n  protocol: layer2\n  addresses: [192.0.2.0/33]\n",
      "config.address-pools[0].addresses[0]",
    ],
    [
      "address-pools:\n- name: a\n  protocol: layer2\n  addresses: [192.0.2.0/29]\n  bgp-advertisements: [{localpref: 1}]\n",
      "config.address-pools[0].bgp-advertisements: only allowed with protocol: bgp",
    ],
    [
      "address-pools:\n- name: a\n  protocol: bgp\n  addresses: [192.0.2.0/29]\n  bgp-advertisements: [{communities: [nope]}]\n",
      "config.address-pools[0].bgp-advertisements[0].communities[0]",
    ],
    [
      "address-pools:\n- name: a\n  protocol: bgp\n  addresses: [192.0.2.0/29]\n  bgp-advertisements: [{aggregation-length: 33}]\n",
      "aggregation-length: must be an integer in 0..32",
    ],
    ["peers:\n- peer-address: 192.0.2.1\n  peer-asn: 64501\n", "config.peers[0].my-asn: required"],
    [
      "peers:\n- peer-address: 192.0.2.1\n  peer-asn: 64501\n  my-asn: 64500\n  hold-time: soon\n",
      "config.peers[0].hold-time",
    ],
    [
      "peers:\n- peer-address: 192.0.2.1\n  peer-asn: 64501\n  my-asn: 64500\n  router-id: 2001:db8::1\n",
      "is not an IPv4 address",
    ],
    [
      "peers:\n- peer-address: 192.0.2.1\n  peer-asn: 64501\n  my-asn: 64500\n  vrf: red\n",
      "config.peers[0].vrf: unknown field",
    ],
    ["bgp-communities:\n  bad: 70000:1\n", "config.bgp-communities.bad"],
    [
      "address-pools:\n- {name: A, protocol: layer2, addresses: [192.0.2.0/29]}\n- {name: a, protocol: layer2, addresses: [192.0.2.8/29]}\n",
      'IPAddressPool name "a" collides',
    ],
    ["kind: ConfigMap\napiVersion: v1\nmetadata: {name: config}\ndata: {other: x}\n", "data.config: missing"],
  ])("case %#", (config, message) => {
    expect(problems(config).join("\n")).toContain(message);
  });

  it("reports every problem at once", () => {
    expect(problems("peers:\n- {}\n").length).toBe(3);
  });
});

describe("sanitizeName", () => {
  it("follows MetalLB's converter rules", () => {
    expect(sanitizeName("My_Pool")).toBe("my-pool");
    expect(sanitizeName("9-lives")).toBe("lives");
    expect(sanitizeName("x".repeat(80))).toHaveLength(63);
  });
});
