import { formatIP } from "../net/ip";
import { bfd, configOf, errorsOf, peer, warningsOf } from "./testing";

const only = (spec: Parameters<typeof peer>[1]) => errorsOf({ bgpPeers: [peer("p", spec)] });

describe("BGPPeer rules", () => {
  it("missing local ASN", () => {
    expect(only({ myASN: 0 })).toEqual([
      'BGPPeer "p": spec.myASN: missing local ASN; set spec.myASN to the AS number of the cluster nodes',
    ]);
  });

  it("ASN out of range", () => {
    expect(only({ peerASN: 4294967296 })).toEqual([
      'BGPPeer "p": spec.peerASN: invalid peer ASN 4294967296, must be in 1-4294967295 range',
    ]);
  });

  it("missing peer ASN and dynamicASN", () => {
    expect(only({ peerASN: undefined })).toEqual([
      'BGPPeer "p": spec.peerASN: missing peer ASN and dynamicASN; set spec.peerASN to the peer\'s AS number',
    ]);
  });

  it("both peer ASN and dynamicASN", () => {
    expect(only({ dynamicASN: "external" })).toEqual([
      'BGPPeer "p": spec.dynamicASN: both peer ASN and dynamicASN specified; set only spec.peerASN',
    ]);
  });

  it("dynamicASN internal or external stands in for peerASN", () => {
    for (const dynamicASN of ["internal", "external"] as const) {
      const config = configOf({ bgpPeers: [peer("p", { peerASN: undefined, dynamicASN })] });
      expect(config.peers[0]).toMatchObject({ peerASN: 0, dynamicASN });
    }
  });

  it("an unknown dynamicASN value", () => {
    expect(only({ peerASN: undefined, dynamicASN: "both" as "internal" })).toEqual([
      'BGPPeer "p": spec.dynamicASN: invalid dynamicASN "both"; use "internal" (the peer has spec.myASN) or "external" (any other AS)',
    ]);
  });

  it("ebgp-multihop with dynamicASN internal", () => {
    expect(only({ peerASN: undefined, dynamicASN: "internal", ebgpMultiHop: true })).toHaveLength(1);
  });

  it("ebgp-multihop on an iBGP peer", () => {
    expect(only({ peerASN: 64512, ebgpMultiHop: true })).toEqual([
      'BGPPeer "p": spec.ebgpMultiHop: invalid ebgp-multihop parameter set for an ibgp peer; remove it (peerASN equals myASN 64512)',
    ]);
  });

  it("no address or interface", () => {
    expect(only({ peerAddress: undefined })).toEqual([
      'BGPPeer "p": spec.peerAddress: peer has no Address or Interface specified; set spec.peerAddress to the peer\'s IP address, or spec.interface for BGP unnumbered',
    ]);
  });

  it("both address and interface", () => {
    expect(only({ interface: "eth0" })).toEqual([
      'BGPPeer "p": spec.interface: peer has both Address and Interface specified; set only spec.peerAddress, or only spec.interface for BGP unnumbered',
    ]);
  });

  describe("interface (BGP unnumbered)", () => {
    const unnumbered = (spec: Parameters<typeof peer>[1]) =>
      only({ peerAddress: undefined, interface: "eth1", ...spec });

    it("is carried to the model, without an address", () => {
      expect(unnumbered({})).toEqual([]);
      const p = configOf({ bgpPeers: [peer("p", { peerAddress: undefined, interface: "eth1" })] }).peers[0]!;
      expect(p.interface).toBe("eth1");
      expect(p.address).toBeUndefined();
    });

    it("refuses a name no NIC can have", () => {
      for (const bad of ["eth1/2", "a:b", "two words", "..", "sixteen-chars-xx"])
        expect(unnumbered({ interface: bad })).toEqual([
          `BGPPeer "p": spec.interface: invalid interface name "${bad}"; write the name of a node NIC, 1 to 15 characters without "/", ":" or spaces, such as "eth1"`,
        ]);
    });

    it("refuses what a link-local session cannot have, each with the reason", () => {
      expect(unnumbered({ sourceAddress: "192.0.2.10" })).toEqual([
        'BGPPeer "p": spec.sourceAddress: an unnumbered session (interface "eth1") always runs from the node\'s link-local address on that interface; remove spec.sourceAddress',
      ]);
      expect(unnumbered({ ebgpMultiHop: true })).toEqual([
        'BGPPeer "p": spec.ebgpMultiHop: an unnumbered session (interface "eth1") reaches only the router at the other end of the link; remove spec.ebgpMultiHop',
      ]);
      // A TCP MD5 password and BFD work there: both take the link-local address with its zone.
      expect(
        errorsOf({
          bgpPeers: [peer("p", { peerAddress: undefined, interface: "eth1", bfdProfile: "fast" })],
          bfdProfiles: [bfd("fast")],
        }),
      ).toEqual([]);
      expect(unnumbered({ password: "x" })).toEqual([]);
    });

    it("two unnumbered peers on one interface of the same nodes are refused (one router per link)", () => {
      const problems = errorsOf({
        bgpPeers: [
          peer("a", { peerAddress: undefined, interface: "eth1" }),
          peer("b", { peerAddress: undefined, interface: "eth1" }),
          peer("c", { peerAddress: undefined, interface: "eth2" }),
        ],
      });
      expect(problems).toEqual([
        'BGPPeer "b": spec.interface: interface "eth1" already carries the unnumbered session of BGPPeer "a" on some of the same nodes (one router per link); merge the two peers or give them disjoint nodeSelectors',
      ]);
    });
  });

  it("vrf is not supported", () => {
    expect(only({ vrf: "red" })).toEqual([
      'BGPPeer "p": spec.vrf: vrf "red" is not supported by metallb-pepr; sessions in a Linux VRF are not offered because they cannot be tested where this project is built (no VRF devices); remove spec.vrf to peer from the default VRF',
    ]);
  });

  it("dualStackAddressFamily is carried (default false)", () => {
    expect(configOf({ bgpPeers: [peer("p", { dualStackAddressFamily: true })] }).peers[0]).toMatchObject({
      dualStackAddressFamily: true,
    });
    expect(configOf({ bgpPeers: [peer("p", {})] }).peers[0]).toMatchObject({ dualStackAddressFamily: false });
  });

  describe("localASN", () => {
    it("is the AS an eBGP peer's sessions present", () => {
      const config = configOf({ bgpPeers: [peer("p", { myASN: 64512, peerASN: 64600, localASN: 65000 })] });
      expect(config.peers[0]).toMatchObject({ myASN: 64512, localASN: 65000, peerASN: 64600 });
    });

    it("is absent unless set", () => {
      expect(configOf({ bgpPeers: [peer("p", {})] }).peers[0]).not.toHaveProperty("localASN");
    });

    it("works with dynamicASN external", () => {
      const config = configOf({
        bgpPeers: [peer("p", { peerASN: undefined, dynamicASN: "external", localASN: 65000 })],
      });
      expect(config.peers[0]).toMatchObject({ localASN: 65000, dynamicASN: "external" });
    });

    it("must be a 32-bit AS number", () => {
      expect(only({ localASN: 4294967296 })).toEqual([
        'BGPPeer "p": spec.localASN: invalid local ASN 4294967296, must be in 1-4294967295 range',
      ]);
      expect(only({ localASN: 0 })).toEqual([
        'BGPPeer "p": spec.localASN: invalid local ASN 0, must be in 1-4294967295 range',
      ]);
    });

    it("must differ from myASN", () => {
      expect(only({ myASN: 64512, localASN: 64512 })).toEqual([
        'BGPPeer "p": spec.localASN: localASN 64512 equals myASN; remove spec.localASN, or set it to the other AS number to present',
      ]);
    });

    it("is refused on an iBGP session, whichever AS makes it one", () => {
      expect(only({ myASN: 64512, peerASN: 64512, localASN: 65000 })).toEqual([
        'BGPPeer "p": spec.localASN: localASN applies to eBGP sessions only, and peerASN 64512 equals myASN, which makes this session iBGP; remove spec.localASN',
      ]);
      expect(only({ myASN: 64512, peerASN: 65000, localASN: 65000 })).toEqual([
        'BGPPeer "p": spec.localASN: localASN applies to eBGP sessions only, and peerASN 65000 equals localASN, which makes this session iBGP; remove spec.localASN',
      ]);
      expect(only({ peerASN: undefined, dynamicASN: "internal", localASN: 65000 })).toEqual([
        'BGPPeer "p": spec.localASN: localASN applies to eBGP sessions only, and dynamicASN "internal" makes this one iBGP; remove spec.localASN or use dynamicASN "external"',
      ]);
    });
  });

  it("invalid address", () => {
    expect(only({ peerAddress: "192.0.2.300" })).toEqual([
      'BGPPeer "p": spec.peerAddress: invalid BGPPeer address "192.0.2.300"; write an IPv4 or IPv6 address such as "192.0.2.1"',
    ]);
  });

  it("invalid router ID (must be IPv4)", () => {
    expect(only({ routerID: "2001:db8::1" })).toEqual([
      'BGPPeer "p": spec.routerID: invalid router ID "2001:db8::1"; a router ID is written as an IPv4 address such as "10.0.0.1"',
    ]);
  });

  it("invalid source IP", () => {
    expect(only({ sourceAddress: "nope" })).toEqual([
      'BGPPeer "p": spec.sourceAddress: invalid source IP "nope"; write an IP address of the node',
    ]);
  });

  it("source IP of the other family", () => {
    expect(only({ sourceAddress: "2001:db8::5" })).toEqual([
      'BGPPeer "p": spec.sourceAddress: source IP "2001:db8::5" and peer address "192.0.2.1" are of different IP families; use a source address of the peer\'s family',
    ]);
  });

  it("password and secret ref together", () => {
    expect(only({ password: "x", passwordSecret: { name: "s" } })).toEqual([
      'BGPPeer "p": spec.passwordSecret: can not have both password and secret ref set in peer config "metallb-system"/"p"; use either spec.password or spec.passwordSecret',
    ]);
  });

  it("password secret in another namespace", () => {
    expect(only({ passwordSecret: { name: "s", namespace: "default" } })).toEqual([
      'BGPPeer "p": spec.passwordSecret.namespace: the password Secret must be in the "metallb-system" namespace, not "default"',
    ]);
  });

  it("secret not found (reconcile time)", () => {
    expect(errorsOf({ bgpPeers: [peer("p", { passwordSecret: { name: "s" } })], secrets: [] })).toEqual([
      'BGPPeer "p": spec.passwordSecret: secret "metallb-system"/"s" not found; create a Secret of type kubernetes.io/basic-auth with a "password" key',
    ]);
  });

  it("secret type mismatch", () => {
    const secrets = [
      { metadata: { name: "s", namespace: "metallb-system" }, type: "Opaque", data: { password: "eA==" } },
    ];
    expect(errorsOf({ bgpPeers: [peer("p", { passwordSecret: { name: "s" } })], secrets })).toEqual([
      'BGPPeer "p": spec.passwordSecret: secret type mismatch on "metallb-system"/"s", type "kubernetes.io/basic-auth" is expected',
    ]);
  });

  it("secret without a password", () => {
    const secrets = [{ metadata: { name: "s" }, type: "kubernetes.io/basic-auth", data: {} }];
    expect(errorsOf({ bgpPeers: [peer("p", { passwordSecret: { name: "s" } })], secrets })).toEqual([
      'BGPPeer "p": spec.passwordSecret: password not specified in the secret "metallb-system"/"s"; add a "password" key',
    ]);
  });

  it("hold time below 3s", () => {
    expect(only({ holdTime: "2s" })).toEqual(['BGPPeer "p": spec.holdTime: invalid hold time "2s": must be 0 or >=3s']);
  });

  it("hold time that is not a duration", () => {
    expect(only({ holdTime: "ninety" })).toEqual([
      'BGPPeer "p": spec.holdTime: invalid duration "ninety"; write a duration such as "90s" or "1m30s"',
    ]);
  });

  it("hold time in fractions of a second", () => {
    expect(only({ holdTime: "3500ms" })).toEqual([
      'BGPPeer "p": spec.holdTime: invalid hold time "3500ms": must be a whole number of seconds',
    ]);
  });

  it("keepalive not below hold time", () => {
    expect(only({ holdTime: "30s", keepaliveTime: "30s" })).toEqual([
      'BGPPeer "p": spec.keepaliveTime: invalid keepaliveTime "30s", must be lower than holdTime "30s"',
    ]);
  });

  it("peer port out of range", () => {
    expect(only({ peerPort: 16385 })).toEqual([
      'BGPPeer "p": spec.peerPort: invalid peer port 16385, must be in 1-16384 range',
    ]);
  });

  it("connect time out of range", () => {
    expect(only({ connectTime: "0.5s" })).toEqual([
      'BGPPeer "p": spec.connectTime: invalid connect time "0.5s": must be a whole number of seconds from 1s to 65535s',
    ]);
  });

  it("bfdProfile must exist", () => {
    expect(only({ bfdProfile: "fast" })).toEqual([
      'BGPPeer "p": spec.bfdProfile: peer "p" referencing non existing bfd profile "fast"; create that BFDProfile or remove spec.bfdProfile',
    ]);
  });

  it("bfdProfile naming an existing profile is accepted without a warning (the agent runs BFD)", () => {
    expect(warningsOf({ bgpPeers: [peer("p", { bfdProfile: "fast" })], bfdProfiles: [bfd("fast")] })).toEqual([]);
  });

  it("disableMP is a warning", () => {
    expect(warningsOf({ bgpPeers: [peer("p", { disableMP: true })] })).toEqual([
      'BGPPeer "p": spec.disableMP: disableMP is deprecated and has no effect',
    ]);
  });

  it("invalid node selector", () => {
    expect(
      only({ nodeSelectors: [{ matchExpressions: [{ key: "zone", operator: "Exists", values: ["a"] }] }] }),
    ).toEqual([
      'BGPPeer "p": spec.nodeSelectors[0]: failed to parse node selector: values must be empty for operator "Exists" on key "zone"',
    ]);
  });

  it("two peers to the same address and port for the same nodes", () => {
    expect(errorsOf({ bgpPeers: [peer("a", {}), peer("b", { myASN: 64600 })] })).toEqual([
      'BGPPeer "b": spec.peerAddress: peer "192.0.2.1" port 179 is already defined in BGPPeer "a" for some of the same nodes; merge the two peers or give them disjoint nodeSelectors',
    ]);
  });

  it("the same peer address for disjoint nodes is fine", () => {
    const nodes = [
      { name: "n1", labels: { rack: "1" } },
      { name: "n2", labels: { rack: "2" } },
    ];
    const bgpPeers = [
      peer("a", { nodeSelectors: [{ matchLabels: { rack: "1" } }] }),
      peer("b", { nodeSelectors: [{ matchLabels: { rack: "2" } }] }),
    ];
    expect(errorsOf({ bgpPeers, nodes })).toEqual([]);
    expect(errorsOf({ bgpPeers })).toEqual([]);
  });
});

describe("BGPPeer model", () => {
  it("defaults: port 179, hold 90s, keepalive hold/3", () => {
    const [p] = configOf({ bgpPeers: [peer("p", {})] }).peers;
    expect(p).toMatchObject({
      myASN: 64512,
      peerASN: 64513,
      port: 179,
      holdTimeSeconds: 90,
      keepaliveTimeSeconds: 30,
      ebgpMultiHop: false,
    });
    expect(formatIP(p.address!)).toBe("192.0.2.1");
  });

  it("keepalive follows hold time, and hold time follows keepalive", () => {
    const c = configOf({
      bgpPeers: [peer("a", { holdTime: "1m30s" }), peer("b", { keepaliveTime: "10s", peerAddress: "192.0.2.2" })],
    });
    expect(c.peers.map((p) => [p.holdTimeSeconds, p.keepaliveTimeSeconds])).toEqual([
      [90, 30],
      [30, 10],
    ]);
  });

  it("hold time 0 disables keepalives", () => {
    expect(configOf({ bgpPeers: [peer("p", { holdTime: "0s" })] }).peers[0]).toMatchObject({
      holdTimeSeconds: 0,
      keepaliveTimeSeconds: 0,
    });
  });

  it("accepts IPv6 peers, graceful restart and a router ID", () => {
    const [p] = configOf({
      bgpPeers: [
        peer("p", {
          peerAddress: "2001:db8::1",
          routerID: "10.0.0.1",
          enableGracefulRestart: true,
          peerPort: 1790,
          ebgpMultiHop: true,
        }),
      ],
    }).peers;
    expect(p.enableGracefulRestart).toBe(true);
    expect(p.port).toBe(1790);
    expect(formatIP(p.routerID!)).toBe("10.0.0.1");
  });

  it("reads the password from its Secret when secrets are given", () => {
    const secrets = [
      {
        metadata: { name: "s", namespace: "metallb-system" },
        type: "kubernetes.io/basic-auth",
        data: { password: Buffer.from("hunter2").toString("base64") },
      },
    ];
    const [p] = configOf({ bgpPeers: [peer("p", { passwordSecret: { name: "s" } })], secrets }).peers;
    expect(p.password).toBe("hunter2");
    expect(p.passwordSecret).toEqual({ name: "s", namespace: "metallb-system" });
  });

  it("resolves node selectors when nodes are given", () => {
    const nodes = [{ name: "n2", labels: { bgp: "yes" } }, { name: "n1", labels: { bgp: "yes" } }, { name: "n3" }];
    expect(
      configOf({ bgpPeers: [peer("p", { nodeSelectors: [{ matchLabels: { bgp: "yes" } }] })], nodes }).peers[0].nodes,
    ).toEqual(["n1", "n2"]);
  });
});
