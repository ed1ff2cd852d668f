import { formatCIDR } from "../net/ip";
import { configOf, errorsOf, NS, pool } from "./testing";

describe("IPAddressPool rules", () => {
  it("missing pool name", () => {
    expect(errorsOf({ pools: [{ metadata: { namespace: NS }, spec: { addresses: ["192.0.2.0/24"] } }] })).toEqual([
      'IPAddressPool "": metadata.name: missing pool name',
    ]);
  });

  it("object outside the configuration namespace", () => {
    expect(
      errorsOf({ pools: [{ metadata: { name: "p", namespace: "default" }, spec: { addresses: ["192.0.2.0/24"] } }] }),
    ).toEqual([
      'IPAddressPool "p": metadata.namespace: resource must be created in metallb-system namespace, not "default"; move it to the "metallb-system" namespace',
    ]);
  });

  it("pool has no prefixes", () => {
    expect(errorsOf({ pools: [pool("p", [])] })).toEqual([
      'IPAddressPool "p": spec.addresses: pool has no prefixes defined; write a CIDR such as "192.0.2.0/24" or a range such as "192.0.2.10-192.0.2.20"',
    ]);
  });

  it("invalid CIDR", () => {
    expect(errorsOf({ pools: [pool("p", ["192.0.2.0/33"])] })).toEqual([
      'IPAddressPool "p": spec.addresses[0]: invalid CIDR "192.0.2.0/33" in pool "p"; write a CIDR such as "192.0.2.0/24" or a range such as "192.0.2.10-192.0.2.20"',
    ]);
  });

  it("a bare IP is an invalid CIDR, with the /32 spelled out", () => {
    expect(errorsOf({ pools: [pool("p", ["192.0.2.7"])] })).toEqual([
      'IPAddressPool "p": spec.addresses[0]: invalid CIDR "192.0.2.7" in pool "p"; write "192.0.2.7/32" for a single address',
    ]);
  });

  it("invalid range start", () => {
    expect(errorsOf({ pools: [pool("p", ["192.0.2.x-192.0.2.9"])] })).toEqual([
      'IPAddressPool "p": spec.addresses[0]: invalid IP range "192.0.2.x-192.0.2.9": invalid start IP "192.0.2.x"; write a CIDR such as "192.0.2.0/24" or a range such as "192.0.2.10-192.0.2.20"',
    ]);
  });

  it("invalid range end", () => {
    expect(errorsOf({ pools: [pool("p", ["192.0.2.1-192.0.2.300"])] })[0]).toBe(
      'IPAddressPool "p": spec.addresses[0]: invalid IP range "192.0.2.1-192.0.2.300": invalid end IP "192.0.2.300"; write a CIDR such as "192.0.2.0/24" or a range such as "192.0.2.10-192.0.2.20"',
    );
  });

  it("range start after end", () => {
    expect(errorsOf({ pools: [pool("p", ["192.0.2.9 - 192.0.2.1"])] })[0]).toBe(
      'IPAddressPool "p": spec.addresses[0]: invalid IP range "192.0.2.9 - 192.0.2.1": start IP "192.0.2.9" is after the end IP "192.0.2.1"; write a CIDR such as "192.0.2.0/24" or a range such as "192.0.2.10-192.0.2.20"',
    );
  });

  it("range mixing families", () => {
    expect(errorsOf({ pools: [pool("p", ["192.0.2.1-2001:db8::1"])] })[0]).toBe(
      'IPAddressPool "p": spec.addresses[0]: invalid IP range "192.0.2.1-2001:db8::1": start IP "192.0.2.1" and end IP "2001:db8::1" are of different families; write a CIDR such as "192.0.2.0/24" or a range such as "192.0.2.10-192.0.2.20"',
    );
  });

  it("overlap across pools names both pools", () => {
    expect(
      errorsOf({ pools: [pool("pool-b", ["198.51.100.0/24", "192.0.2.0/25"]), pool("pool-a", ["192.0.2.0/24"])] }),
    ).toEqual([
      'IPAddressPool "pool-b": spec.addresses[1] "192.0.2.0/25" overlaps with "192.0.2.0/24" in IPAddressPool "pool-a"; pools must not share addresses',
    ]);
  });

  it("overlap between a range and a CIDR", () => {
    expect(errorsOf({ pools: [pool("a", ["2001:db8::/120"]), pool("b", ["2001:db8::ff-2001:db8::1ff"])] })).toEqual([
      'IPAddressPool "b": spec.addresses[0] "2001:db8::ff-2001:db8::1ff" overlaps with "2001:db8::/120" in IPAddressPool "a"; pools must not share addresses',
    ]);
  });

  it("overlap within one pool", () => {
    expect(errorsOf({ pools: [pool("p", ["192.0.2.0/24", "192.0.2.10-192.0.2.20"])] })).toEqual([
      'IPAddressPool "p": spec.addresses[1] "192.0.2.10-192.0.2.20" overlaps with "192.0.2.0/24" in spec.addresses[0] of the same pool; list each address once',
    ]);
  });

  it("adjacent blocks do not overlap", () => {
    expect(errorsOf({ pools: [pool("a", ["192.0.2.0/25"]), pool("b", ["192.0.2.128-192.0.2.255"])] })).toEqual([]);
  });

  it("duplicate pool", () => {
    expect(errorsOf({ pools: [pool("p", ["192.0.2.0/24"]), pool("p", ["198.51.100.0/24"])] })).toEqual([
      'IPAddressPool "p": metadata.name: duplicate definition of pool "p"',
    ]);
  });

  it("duplicate namespaces", () => {
    expect(
      errorsOf({ pools: [pool("p", ["192.0.2.0/24"], { serviceAllocation: { namespaces: ["a", "b", "a"] } })] }),
    ).toEqual([
      'IPAddressPool "p": spec.serviceAllocation.namespaces[2]: duplicate definition in namespaces field "a"; list each namespace once',
    ]);
  });

  it("duplicate namespaceSelectors", () => {
    const sel = { matchLabels: { team: "x" } };
    expect(
      errorsOf({ pools: [pool("p", ["192.0.2.0/24"], { serviceAllocation: { namespaceSelectors: [sel, sel] } })] }),
    ).toEqual([
      'IPAddressPool "p": spec.serviceAllocation.namespaceSelectors[1]: duplicate definition of namespaceSelectors "team=x"; remove the repeated selector',
    ]);
  });

  it("duplicate serviceSelectors", () => {
    const sel = { matchExpressions: [{ key: "app", operator: "In" as const, values: ["b", "a"] }] };
    expect(
      errorsOf({ pools: [pool("p", ["192.0.2.0/24"], { serviceAllocation: { serviceSelectors: [sel, sel] } })] }),
    ).toEqual([
      'IPAddressPool "p": spec.serviceAllocation.serviceSelectors[1]: duplicate definition of serviceSelectors "app in (a,b)"; remove the repeated selector',
    ]);
  });

  it("invalid namespace selector", () => {
    const sel = { matchExpressions: [{ key: "team", operator: "In" as const, values: [] }] };
    expect(
      errorsOf({ pools: [pool("p", ["192.0.2.0/24"], { serviceAllocation: { namespaceSelectors: [sel] } })] }),
    ).toEqual([
      'IPAddressPool "p": spec.serviceAllocation.namespaceSelectors[0]: invalid namespace label selector: values must be non-empty for operator "In" on key "team"',
    ]);
  });

  it("invalid service selector", () => {
    expect(
      errorsOf({
        pools: [
          pool("p", ["192.0.2.0/24"], {
            serviceAllocation: { serviceSelectors: [{ matchLabels: { "bad key": "x" } }] },
          }),
        ],
      }),
    ).toEqual([
      'IPAddressPool "p": spec.serviceAllocation.serviceSelectors[0]: invalid service label selector: invalid label key "bad key": the name must be 1-63 characters of letters, digits, "-", "_" or ".", starting and ending with a letter or digit',
    ]);
  });

  describe("address classes no pool may hold", () => {
    const V4_FIX = `list only the addresses Services may receive, such as "192.0.2.0/24"`;
    it.each([
      ["0.0.0.0/0", `covers the whole IPv4 address space; ${V4_FIX}`],
      ["0.0.0.0-255.255.255.255", `covers the whole IPv4 address space; ${V4_FIX}`],
      [
        "::/0",
        'covers the whole IPv6 address space; list only the addresses Services may receive, such as "2001:db8:1::/120"',
      ],
    ])("%s is refused: it covers a whole family", (text, why) => {
      expect(errorsOf({ pools: [pool("p", [text])] })).toEqual([
        `IPAddressPool "p": spec.addresses[0] "${text}" ${why}`,
      ]);
    });

    it.each([
      ["0.0.0.0/32", "0.0.0.0/8", `the "this network" block 0.0.0.0/8, which holds the unspecified address 0.0.0.0`],
      ["127.0.0.1/32", "127.0.0.0/8", "loopback addresses 127.0.0.0/8, which never leave a host"],
      ["169.254.10.0/24", "169.254.0.0/16", "link-local addresses 169.254.0.0/16, which routers do not forward"],
      ["239.1.1.0/24", "224.0.0.0/4", "multicast addresses 224.0.0.0/4, which name groups of receivers, not a host"],
      // A range only partly inside a class is refused as well.
      [
        "223.255.255.250-224.0.0.5",
        "224.0.0.0/4",
        "multicast addresses 224.0.0.0/4, which name groups of receivers, not a host",
      ],
      ["255.255.255.255/32", "255.255.255.255/32", "the limited broadcast address 255.255.255.255"],
      ["::/128", "::/128", "the unspecified address ::"],
      ["::1/128", "::1/128", "the loopback address ::1, which never leaves a host"],
      ["::ffff:192.0.2.0/120", "::ffff:0:0/96", "IPv4-mapped addresses ::ffff:0:0/96, which Kubernetes reads as IPv4"],
      ["fe80::1-fe80::9", "fe80::/10", "link-local addresses fe80::/10, which routers do not forward"],
      ["ff02::/16", "ff00::/8", "multicast addresses ff00::/8, which name groups of receivers, not a host"],
    ])("%s is refused: it overlaps %s", (text, cidr, what) => {
      const example = text.includes(":") ? '"2001:db8:1::/120"' : '"192.0.2.0/24"';
      expect(errorsOf({ pools: [pool("p", ["198.51.100.0/24", text])] })).toEqual([
        `IPAddressPool "p": spec.addresses[1] "${text}" overlaps ${what}; use addresses outside ${cidr} that reach the cluster's nodes, such as ${example}`,
      ]);
    });

    it("a refused entry is left out of the model, so it cannot clash with other pools too", () => {
      expect(errorsOf({ pools: [pool("a", ["::/0"]), pool("b", ["2001:db8::/64"])] })).toEqual([
        expect.stringContaining('IPAddressPool "a": spec.addresses[0] "::/0" covers the whole IPv6 address space'),
      ]);
    });

    it.each([
      "10.0.0.0/8",
      "100.64.0.0/10",
      "240.0.0.0/24",
      "223.255.255.0/24",
      "fd00::/64",
      "2001:db8::/32",
      "::2/127",
    ])("%s is allowed", (text) => {
      expect(errorsOf({ pools: [pool("p", [text])] })).toEqual([]);
    });

    it("is refused at admission, not only at reconcile time", () => {
      expect(errorsOf({ pools: [pool("p", ["::/0"])] }, { deferReferences: true })).toHaveLength(1);
    });
  });

  it("reports every problem at once", () => {
    expect(errorsOf({ pools: [pool("a", ["x"]), pool("b", [])] })).toHaveLength(2);
  });
});

describe("IPAddressPool model", () => {
  it("summarizes ranges, keeps listed order and applies defaults", () => {
    const [p] = configOf({ pools: [pool("p", ["192.0.2.10-192.0.2.20", "2001:db8::/126", "10.0.0.0/24"])] }).pools;
    expect(p.cidrs.map(formatCIDR)).toEqual([
      "192.0.2.10/31",
      "192.0.2.12/30",
      "192.0.2.16/30",
      "192.0.2.20/32",
      "2001:db8::/126",
      "10.0.0.0/24",
    ]);
    expect(p.addresses.map((a) => a.text)).toEqual(["192.0.2.10-192.0.2.20", "2001:db8::/126", "10.0.0.0/24"]);
    expect(p.autoAssign).toBe(true);
    expect(p.avoidBuggyIPs).toBe(false);
    expect(p.serviceAllocation).toBeUndefined();
  });

  it("masks host bits like MetalLB", () => {
    expect(configOf({ pools: [pool("p", ["192.0.2.7/24"])] }).pools[0].cidrs.map(formatCIDR)).toEqual(["192.0.2.0/24"]);
  });

  it("resolves namespaceSelectors into the namespace set", () => {
    const c = configOf({
      pools: [
        pool("p", ["192.0.2.0/24"], {
          autoAssign: false,
          serviceAllocation: { priority: 5, namespaces: ["a"], namespaceSelectors: [{ matchLabels: { team: "x" } }] },
        }),
      ],
      namespaces: [
        { name: "b", labels: { team: "x" } },
        { name: "c", labels: { team: "y" } },
      ],
    });
    const sa = c.pools[0].serviceAllocation!;
    expect([...sa.namespaces].sort()).toEqual(["a", "b"]);
    expect(sa.priority).toBe(5);
    expect(c.pools[0].autoAssign).toBe(false);
  });

  it("lists pools by name", () => {
    expect(
      configOf({ pools: [pool("z", ["10.0.1.0/24"]), pool("a", ["10.0.0.0/24"])] }).pools.map((p) => p.name),
    ).toEqual(["a", "z"]);
  });
});
