/**
 * BGP end to end: the real API server and controller (the integration project's `pepr dev`),
 * three node namespaces running real agents as the agent ServiceAccount, and FRR in a router
 * namespace. Only Kubernetes objects go in (BGPPeer, BGPAdvertisement, Services,
 * EndpointSlices); what is checked is what an operator sees: `kubectl get bgpsessions`
 * and FRR's RIB.
 */
import { join } from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { kubectl, kubectlOk } from "../harness/kubectl";
import { L2Lab, NS } from "../harness/l2lab";
import { Frr, type FrrPath } from "../harness/frr";
import { labDescribe, needs } from "../harness/lab-suite";
import { until } from "../harness/wait";

const d = labDescribe("BGP with real agents", needs.lab, needs.frr, needs.addon);

const FRR_AS = 64512;
const NODE_AS = 64513;

d("BGP with real agents (API server, controller, agents, FRR)", () => {
  let lab: L2Lab;
  let frr: Frr;
  let frrDir: string;
  let peer: string;
  const addr = (node: string): string => lab.host(node).ipv4;
  const hops = (paths: FrrPath[]): string[] =>
    paths
      .filter((p) => p.valid !== false)
      .map((p) => p.nexthops?.[0]?.ip ?? "?")
      .sort();
  const routeVia = (prefix: string, want: string[]) =>
    until(
      `${prefix} via ${want.join(",")}`,
      async () => {
        const got = hops(await frr.paths(prefix));
        return got.join() === [...want].sort().join() ? got : undefined;
      },
      30_000,
      200,
    );

  interface Session {
    spec: { node: string; myASN?: number; keepaliveTime?: number; connectTime?: number };
    status?: { state?: string; advertisedPrefixes?: number; lastError?: string; negotiatedKeepaliveTime?: number };
  }
  const patchPeer = (spec: Record<string, unknown>) =>
    kubectlOk(["patch", "bgppeer", peer, "-n", NS, "--type=merge", "-p", JSON.stringify({ spec })]);
  const sessions = async (): Promise<Session[]> =>
    (
      JSON.parse(await kubectlOk(["get", "bgpsessions", "-n", NS, "-l", `metallb.io/peer=${peer}`, "-o", "json"])) as {
        items: Session[];
      }
    ).items;

  beforeAll(async () => {
    lab = await L2Lab.create({ nodes: 3, router: true });
    const [k, v] = lab.label;
    peer = `${lab.pool}-rtr`;
    frrDir = mkdtempSync(join(tmpdir(), "mlb-bgp-agents-"));
    frr = new Frr(lab.net.router!.ns, frrDir);
    frr.start({
      asn: FRR_AS,
      routerId: "192.0.2.1",
      neighbors: lab.nodeNames.map((n) => ({ address: addr(n), asn: NODE_AS })),
    });
    const objects = [
      {
        apiVersion: "metallb.io/v1beta2",
        kind: "BGPPeer",
        metadata: { name: peer, namespace: NS, labels: { [k]: v } },
        spec: {
          myASN: NODE_AS,
          peerASN: FRR_AS,
          peerAddress: "192.0.2.1",
          holdTime: "9s",
          keepaliveTime: "1s",
          connectTime: "5s",
          nodeSelectors: [{ matchLabels: { [k]: v } }],
        },
      },
      {
        apiVersion: "metallb.io/v1beta1",
        kind: "BGPAdvertisement",
        metadata: { name: lab.pool, namespace: NS, labels: { [k]: v } },
        spec: { ipAddressPools: [lab.pool], communities: ["64512:100"], peers: [peer] },
      },
    ];
    await kubectlOk(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
  }, 180_000);

  afterAll(async () => {
    await frr?.stop();
    await lab?.destroy();
    if (frrDir) rmSync(frrDir, { recursive: true, force: true });
  }, 60_000);

  it("every selected node's session is Established in `kubectl get bgpsessions`, reported by its agent", async () => {
    const all = await until(
      "three Established sessions",
      async () => {
        const s = await sessions();
        return s.length === 3 && s.every((x) => x.status?.state === "Established") ? s : undefined;
      },
      60_000,
      250,
    );
    expect(all.map((s) => s.spec.node).sort()).toEqual([...lab.nodeNames].sort());
    // The BGPPeer's keepaliveTime and connectTime reach each node; the agent sends KEEPALIVEs that often.
    expect(all.map((s) => [s.spec.keepaliveTime, s.spec.connectTime])).toEqual(all.map(() => [1, 5]));
    expect(all.map((s) => s.status?.negotiatedKeepaliveTime)).toEqual(all.map(() => 1));
    const table = await kubectlOk(["get", "bgpsessions", "-n", NS, "-l", `metallb.io/peer=${peer}`]);
    expect(table).toMatch(/STATE/);
    expect(table.match(/Established/g)).toHaveLength(3);
  });

  it("a Service's IP is routed through all three nodes (ECMP), with the advertisement's community", async () => {
    await lab.createService("bgp-web", "192.0.2.170");
    await lab.setEndpoints("bgp-web", [lab.nodeNames[0]]);
    expect(await routeVia("192.0.2.170/32", lab.nodeNames.map(addr))).toHaveLength(3);
    const detail = await frr.json<{ paths: Array<{ community?: { string: string }; aspath?: { string: string } }> }>(
      "show bgp ipv4 unicast 192.0.2.170/32 json",
    );
    expect(detail.paths.map((p) => p.community?.string)).toEqual(["64512:100", "64512:100", "64512:100"]);
    // The controller's record of the same plan (written after its debounce, so it may trail FRR).
    type Status = { status?: { node?: string; peers?: string[] } };
    const statuses = await until(
      "a ServiceBGPStatus per node",
      async () => {
        const items = (
          JSON.parse(
            await kubectlOk([
              "get",
              "servicebgpstatuses",
              "-n",
              NS,
              "-l",
              `metallb.io/service-name=bgp-web,metallb.io/service-namespace=${lab.serviceNamespace}`,
              "-o",
              "json",
            ]),
          ) as { items: Status[] }
        ).items;
        // Created, then its status written: wait for both.
        return items.length === 3 && items.every((i) => i.status?.node) ? items : undefined;
      },
      30_000,
      250,
    );
    expect(statuses.map((s) => s.status?.node).sort()).toEqual([...lab.nodeNames].sort());
    expect(statuses.every((s) => s.status?.peers?.includes(peer))).toBe(true);
  });

  it("a Service's own communities (metallb.io/bgp-communities) reach FRR once its advertisement opts in, and leave with the annotation", async () => {
    type Detail = { paths: Array<{ community?: { string: string }; largeCommunity?: { string: string } }> };
    const tags = async () =>
      (await frr.json<Detail>("show bgp ipv4 unicast 192.0.2.170/32 json")).paths.map(
        (p) => `${p.community?.string ?? ""}|${p.largeCommunity?.string ?? ""}`,
      );
    const tagsBecome = (want: string) =>
      until(
        `every path tagged ${want}`,
        async () => {
          const got = await tags();
          return got.length === 3 && got.every((t) => t === want) ? got : undefined;
        },
        30_000,
        200,
      );
    const svcArgs = ["service", "bgp-web", "-n", lab.serviceNamespace];
    const adArgs = ["bgpadvertisement", lab.pool, "-n", NS];
    // Asked for before any advertisement carries them: kubectl prints admission's warning, FRR sees nothing new.
    const asked = await kubectl(["annotate", ...svcArgs, "metallb.io/bgp-communities=64500:7,large:64500:1:2"]);
    expect(asked.code).toBe(0);
    expect(asked.stderr).toMatch(/no BGPAdvertisement carries Service communities/);
    // A malformed value is refused at admission, naming the annotation.
    const bad = await kubectl(["annotate", "--overwrite", ...svcArgs, "metallb.io/bgp-communities=64500:70000"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/metallb\.io\/bgp-communities: invalid community value/);
    // The network team opts the advertisement in: the Service's communities join the advertisement's.
    await kubectlOk(["annotate", ...adArgs, "metallb.io/service-communities=true"]);
    expect(await tagsBecome("64500:7 64512:100|64500:1:2")).toHaveLength(3);
    // The annotation removed: the routes go back to the advertisement's own community.
    await kubectlOk(["annotate", ...svcArgs, "metallb.io/bgp-communities-"]);
    expect(await tagsBecome("64512:100|")).toHaveLength(3);
    await kubectlOk(["annotate", ...adArgs, "metallb.io/service-communities-"]);
  });

  it("externalTrafficPolicy: Local: only nodes with a serving endpoint advertise, and the route follows the endpoint", async () => {
    await lab.createService("bgp-local", "192.0.2.171", { local: true });
    await lab.setEndpoints("bgp-local", [lab.nodeNames[1]]);
    expect(await routeVia("192.0.2.171/32", [addr(lab.nodeNames[1])])).toEqual([addr(lab.nodeNames[1])]);
    await lab.setEndpoints("bgp-local", [lab.nodeNames[2]]);
    expect(await routeVia("192.0.2.171/32", [addr(lab.nodeNames[2])])).toEqual([addr(lab.nodeNames[2])]);
  });

  it("an agent configured with a loadBalancerClass advertises that class's Services and no others", async () => {
    // The third node's agent serves class example.com/lb (METALLB_LOADBALANCER_CLASS, as the
    // DaemonSet passes it on); the other two serve class-less Services, as before.
    const [, , classed] = lab.nodeNames;
    const agent = lab.agents.get(classed)!;
    agent.kill("SIGTERM");
    await agent.exited;
    await lab.startAgent(classed, { METALLB_LOADBALANCER_CLASS: "example.com/lb" });
    try {
      const svc = {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "bgp-classed", namespace: lab.serviceNamespace, labels: { [lab.label[0]]: lab.label[1] } },
        spec: {
          type: "LoadBalancer",
          loadBalancerClass: "example.com/lb",
          ports: [{ port: 80, protocol: "TCP" }],
          ipFamilyPolicy: "SingleStack",
          ipFamilies: ["IPv4"],
        },
      };
      await kubectlOk(["apply", "-f", "-"], JSON.stringify(svc));
      await lab.setEndpoints("bgp-classed", lab.nodeNames);
      // Its address, as the controller serving that class would publish it.
      await kubectlOk([
        "patch",
        "service",
        "bgp-classed",
        "-n",
        lab.serviceNamespace,
        "--subresource=status",
        "--type=merge",
        "-p",
        JSON.stringify({ status: { loadBalancer: { ingress: [{ ip: "192.0.2.172" }] } } }),
      ]);
      expect(await routeVia("192.0.2.172/32", [addr(classed)])).toEqual([addr(classed)]);
      // The class-less Service of the earlier test: only the two class-less agents.
      const plain = lab.nodeNames.filter((n) => n !== classed).map(addr);
      expect(await routeVia("192.0.2.170/32", plain)).toEqual([...plain].sort());
    } finally {
      const again = lab.agents.get(classed)!;
      again.kill("SIGTERM");
      await again.exited;
      await lab.startAgent(classed);
    }
    expect(await routeVia("192.0.2.170/32", lab.nodeNames.map(addr))).toHaveLength(3);
  });

  it("a missing or malformed password Secret shows in each node's ConfigurationState and BGPSession, and clears when fixed", async () => {
    const [k, v] = lab.label;
    const pwPeer = `${lab.pool}-pw`;
    const secretName = `${lab.pool}-pw`;
    type State = { status?: { result?: string; errorSummary?: string; conditions?: Array<{ type: string }> } };
    const state = async (node: string): Promise<State | undefined> => {
      const r = await kubectl(["get", "configurationstates", `speaker-${node}`, "-n", NS, "-o", "json"]);
      return r.code === 0 ? (JSON.parse(r.stdout) as State) : undefined;
    };
    const everyNode = (what: string, ok: (s: State | undefined) => boolean) =>
      until(
        what,
        async () => {
          const all = await Promise.all(lab.nodeNames.map(state));
          return all.every(ok) ? all : undefined;
        },
        60_000,
        250,
      );
    const secret = (type: string, data: Record<string, string>) => ({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: secretName, namespace: NS, labels: { [k]: v } },
      type,
      data,
    });
    try {
      await kubectlOk(
        ["apply", "-f", "-"],
        JSON.stringify({
          apiVersion: "metallb.io/v1beta2",
          kind: "BGPPeer",
          metadata: { name: pwPeer, namespace: NS, labels: { [k]: v } },
          spec: {
            myASN: NODE_AS,
            peerASN: FRR_AS,
            peerAddress: "192.0.2.99",
            passwordSecret: { name: secretName, namespace: NS },
            nodeSelectors: [{ matchLabels: { [k]: v } }],
          },
        }),
      );
      const missing = new RegExp(`secret "${NS}"/"${secretName}" not found`);
      const states = await everyNode("every speaker Invalid: Secret not found", (s) =>
        missing.test(s?.status?.errorSummary ?? ""),
      );
      expect(states.map((s) => s?.status?.result)).toEqual(lab.nodeNames.map(() => "Invalid"));
      expect(states[0]?.status?.errorSummary).toMatch(new RegExp(`BGPPeer "${pwPeer}": spec.passwordSecret: `));
      expect(states[0]?.status?.conditions?.map((c) => c.type)).toEqual(["configReconcilerValid"]);
      const rows = (
        JSON.parse(
          await kubectlOk(["get", "bgpsessions", "-n", NS, "-l", `metallb.io/peer=${pwPeer}`, "-o", "json"]),
        ) as {
          items: Session[];
        }
      ).items;
      expect(rows).toHaveLength(lab.nodeNames.length);
      expect(rows.every((r) => missing.test(r.status?.lastError ?? ""))).toBe(true);

      await kubectlOk(
        ["apply", "-f", "-"],
        JSON.stringify(secret("Opaque", { password: Buffer.from("s3cret").toString("base64") })),
      );
      await everyNode("every speaker: wrong Secret type", (s) =>
        /secret type mismatch/.test(s?.status?.errorSummary ?? ""),
      );

      await kubectlOk(["delete", "secret", secretName, "-n", NS]);
      await kubectlOk(
        ["apply", "-f", "-"],
        JSON.stringify(secret("kubernetes.io/basic-auth", { password: Buffer.from("s3cret").toString("base64") })),
      );
      const fixed = await everyNode("every speaker Valid again", (s) => s?.status?.result === "Valid");
      expect(fixed.map((s) => s?.status?.errorSummary)).toEqual(lab.nodeNames.map(() => ""));
    } finally {
      await kubectl(["delete", "bgppeers.metallb.io", pwPeer, "-n", NS, "--ignore-not-found"]);
      await kubectl(["delete", "secret", secretName, "-n", NS, "--ignore-not-found"]);
    }
  });

  it("a clean agent stop withdraws its paths and leaves its session not Established; a restart brings both back", async () => {
    const node = lab.nodeNames[0];
    const agent = lab.agents.get(node)!;
    agent.kill("SIGTERM");
    await agent.exited;
    const others = lab.nodeNames.slice(1).map(addr);
    expect(await routeVia("192.0.2.170/32", others)).toEqual([...others].sort());
    const stopped = await until(
      `${node}'s session leaves Established`,
      async () => {
        const s = (await sessions()).find((x) => x.spec.node === node);
        return s && s.status?.state !== "Established" ? s : undefined;
      },
      30_000,
      250,
    );
    expect(stopped.status?.state).toBe("Idle");
    await lab.startAgent(node);
    expect(await routeVia("192.0.2.170/32", lab.nodeNames.map(addr))).toHaveLength(3);
  });

  it("dualStackAddressFamily: an IPv6 Service is routed over the IPv4 sessions, via each node's IPv6 address", async () => {
    await frr.vty(
      "configure terminal",
      `router bgp ${FRR_AS}`,
      "address-family ipv6 unicast",
      ...lab.nodeNames.map((n) => `neighbor ${addr(n)} activate`),
    );
    await lab.createService("bgp-v6", "2001:db8:1::170");
    await lab.setEndpoints("bgp-v6", [lab.nodeNames[0]]);
    await patchPeer({ dualStackAddressFamily: true });
    const v6Hops = lab.nodeNames.map((n) => lab.host(n).ipv6);
    expect(await routeVia("2001:db8:1::170/128", v6Hops)).toEqual([...v6Hops].sort());
    // The session's own family is still there, next hop the session's address.
    expect(await routeVia("192.0.2.170/32", lab.nodeNames.map(addr))).toHaveLength(3);
  }, 120_000);

  it("a BGPPeer's localASN is the AS the router sees: in the OPEN and alone in the AS_PATH", async () => {
    // The router is told to expect the AS the cluster "used to have" (FRR's own side of a
    // local-as migration), then the BGPPeer is given that AS as its localASN.
    const OLD_AS = 65000;
    await frr.vty(
      "configure terminal",
      `router bgp ${FRR_AS}`,
      ...lab.nodeNames.map((n) => `neighbor ${addr(n)} remote-as ${OLD_AS}`),
    );
    await patchPeer({ localASN: OLD_AS });
    const established = await until(
      "three Established sessions presenting the localASN",
      async () => {
        const s = await sessions();
        return s.length === 3 && s.every((x) => x.spec.myASN === OLD_AS && x.status?.state === "Established")
          ? s
          : undefined;
      },
      90_000,
      250,
    );
    expect(established.map((s) => s.spec.myASN)).toEqual([OLD_AS, OLD_AS, OLD_AS]);
    expect(await routeVia("192.0.2.170/32", lab.nodeNames.map(addr))).toHaveLength(3);
    // replace-as: the node's own AS (myASN) appears nowhere in the path FRR holds.
    const paths = await frr.paths("192.0.2.170/32");
    expect(paths.map((p) => p.path)).toEqual([String(OLD_AS), String(OLD_AS), String(OLD_AS)]);
  }, 150_000);
});
