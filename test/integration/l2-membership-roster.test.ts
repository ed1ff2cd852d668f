/**
 * L2 membership, controller side, on the real API server (issue 12): the controller keeps
 * the cluster key Secret and publishes the roster ConfigMap one pseudo-voter step at a time;
 * ServiceL2Status names ranked standbys; an agent's `metallb.io/down` report moves the
 * reported node's Services to their first standby IN PLACE (same object); and the RBAC of
 * both sides is what the agents and the controller need, no more (kubectl auth can-i).
 *
 * No agent runs here: the test plays the agents by writing their Leases (renewed every 3 s,
 * well inside the controller's 30 s expiry) with the annotations the agents write.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { eventually, kubectl, kubectlOk, deleteTestNamespace } from "../harness/kubectl";
import { repoRoot } from "../harness/local-cluster";
import { sleep } from "../harness/wait";

const ns = "metallb-system";
const appNs = "l2r-test";
const LABEL = "l2r-it";
const nodes = ["l2r-n1", "l2r-n2", "l2r-n3"];
const added = "l2r-n4";
const address = (n: string) => `198.51.100.${10 + Number(n.slice(-1))}`;

const yaml = (objects: object[]) => objects.map((o) => JSON.stringify(o)).join("\n---\n");
const apply = (objects: object[]) => kubectlOk(["apply", "-f", "-"], yaml(objects));
const microTime = () => new Date().toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");

const node = (name: string) => ({ apiVersion: "v1", kind: "Node", metadata: { name, labels: { [LABEL]: "yes" } } });
const lease = (name: string, down = "") => ({
  apiVersion: "coordination.k8s.io/v1",
  kind: "Lease",
  metadata: {
    name: `metallb-agent-${name}`,
    namespace: ns,
    annotations: {
      "metallb.io/draining": "false",
      "metallb.io/heartbeat-address": address(name),
      "metallb.io/down": down,
    },
  },
  spec: { holderIdentity: name, leaseDurationSeconds: 30, renewTime: microTime() },
});
const service = (name: string) => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace: appNs, annotations: { "metallb.io/address-pool": "l2r-pool" } },
  spec: { type: "LoadBalancer", selector: { app: name }, ports: [{ name: "http", port: 80, protocol: "TCP" }] },
});

interface Roster {
  voters: string[];
  tiebreaker: boolean;
  addresses: Record<string, string>;
}
const readRoster = async (): Promise<Roster | undefined> => {
  const r = await kubectl([
    "get",
    "configmap",
    "metallb-l2-membership",
    "-n",
    ns,
    "-o",
    "jsonpath={.data.roster\\.json}",
  ]);
  return r.code === 0 && r.stdout ? (JSON.parse(r.stdout) as Roster) : undefined;
};
const pseudo = (r: Roster) => new Set([...r.voters, ...(r.tiebreaker ? ["@api"] : [])]);
const difference = (a: Roster, b: Roster) => {
  const [pa, pb] = [pseudo(a), pseudo(b)];
  return [...[...pa].filter((v) => !pb.has(v)), ...[...pb].filter((v) => !pa.has(v))].sort();
};

interface L2Status {
  metadata: { name: string; uid: string; labels: Record<string, string> };
  status?: { node?: string; serviceName?: string; standbys?: string[] };
}
const statuses = async (): Promise<Map<string, L2Status>> => {
  const list = JSON.parse(
    await kubectlOk([
      "get",
      "servicel2statuses",
      "-n",
      ns,
      "-l",
      `metallb.io/service-namespace=${appNs}`,
      "-o",
      "json",
    ]),
  ) as { items: L2Status[] };
  return new Map(list.items.map((s) => [s.status?.serviceName ?? s.metadata.name, s]));
};

/** Every roster the ConfigMap showed, in order (polled; steps are seconds apart). */
class RosterWatch {
  readonly seen: Roster[] = [];
  private stopped = false;
  private done?: Promise<void>;
  start(): void {
    this.done = (async () => {
      while (!this.stopped) {
        const r = await readRoster().catch(() => undefined);
        const last = this.seen.at(-1);
        if (r && (!last || JSON.stringify(last) !== JSON.stringify(r))) this.seen.push(r);
        await sleep(150);
      }
    })();
  }
  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

describe("L2 membership: roster, key, standbys, in-place failover", () => {
  const alive = new Set<string>();
  const downReports = new Map<string, string>();
  let renewing: NodeJS.Timeout | undefined;
  const renew = () => apply([...alive].map((n) => lease(n, downReports.get(n) ?? "")));
  const watch = new RosterWatch();

  beforeAll(async () => {
    await kubectl(["create", "namespace", appNs]);
    await apply([
      {
        apiVersion: "metallb.io/v1beta1",
        kind: "IPAddressPool",
        metadata: { name: "l2r-pool", namespace: ns },
        spec: { addresses: ["203.0.113.200/29"], autoAssign: false },
      },
      {
        apiVersion: "metallb.io/v1beta1",
        kind: "L2Advertisement",
        metadata: { name: "l2r-ad", namespace: ns },
        spec: { ipAddressPools: ["l2r-pool"], nodeSelectors: [{ matchLabels: { [LABEL]: "yes" } }] },
      },
      ...nodes.map(node),
    ]);
    nodes.forEach((n) => alive.add(n));
    await renew();
    renewing = setInterval(() => void renew().catch(() => undefined), 3000);
    watch.start();
  });

  afterAll(async () => {
    clearInterval(renewing);
    await watch.stop();
    await deleteTestNamespace(appNs);
    await kubectl([
      "delete",
      "lease",
      "-n",
      ns,
      ...[...nodes, added].map((n) => `metallb-agent-${n}`),
      "--ignore-not-found",
    ]);
    await kubectl(["delete", "node", ...nodes, added, "--ignore-not-found"]);
    await kubectl(["delete", "l2advertisement", "l2r-ad", "-n", ns, "--ignore-not-found"]);
    await kubectl(["delete", "ipaddresspool", "l2r-pool", "-n", ns, "--ignore-not-found"]);
    // The roster sheds voters one step at a time: leave only once ours are gone, or the next
    // suite's agents (the BGP and L2 labs share this API server) start against a roster that
    // still counts these dead nodes and wait out the steps for a quorum.
    await eventually(
      async () => (mine(await readRoster().catch(() => undefined)).length === 0 ? true : undefined),
      "the roster to drop this test's nodes",
      120_000,
    );
  }, 180_000);

  const mine = (r: Roster | undefined) => (r ? r.voters.filter((v) => v.startsWith("l2r-")) : []);

  it("creates the cluster key: an Opaque Secret of 32 random bytes, labelled", async () => {
    const secret = await eventually(async () => {
      const r = await kubectl(["get", "secret", "metallb-l2-membership-key", "-n", ns, "-o", "json"]);
      return r.code === 0 ? JSON.parse(r.stdout) : undefined;
    }, "the key Secret");
    expect(secret.type).toBe("Opaque");
    expect(Buffer.from(secret.data.key, "base64")).toHaveLength(32);
    expect(secret.metadata.labels).toMatchObject({
      "app.kubernetes.io/name": "metallb-pepr",
      "app.kubernetes.io/component": "l2-membership",
    });
  });

  it("publishes the roster with every agent that names a heartbeat address, with addresses", async () => {
    const roster = await eventually(
      async () => {
        // The roster moves one pseudo-voter at a time, so the tie-breaker may follow the third
        // voter by one step: wait for the settled roster, then check it.
        const r = await readRoster();
        return mine(r).length === 3 && r!.tiebreaker === (r!.voters.length % 2 === 0) ? r : undefined;
      },
      "three test voters in the roster, with the tie-breaker settled",
      40_000,
    );
    expect(mine(roster)).toEqual(nodes);
    for (const n of nodes) expect(roster!.addresses[n]).toBe(address(n));
    expect([...roster!.voters].sort()).toEqual(roster!.voters);
    expect(roster!.tiebreaker).toBe(roster!.voters.length % 2 === 0);
  });

  it("a node joining changes the roster one pseudo-voter at a time", async () => {
    const before = watch.seen.length;
    await apply([node(added)]);
    alive.add(added);
    await renew();
    await eventually(
      async () => {
        const r = watch.seen.at(-1);
        return r && mine(r).includes(added) && r.tiebreaker === (r.voters.length % 2 === 0) ? r : undefined;
      },
      "the fourth node in the roster, with the tie-breaker settled",
      40_000,
    );
    await sleep(6000); // one more step pause: nothing else may follow
    const steps = watch.seen.slice(Math.max(0, before - 1));
    expect(steps.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < watch.seen.length; i++)
      expect({ step: i, diff: difference(watch.seen[i - 1], watch.seen[i]).length }).toEqual({ step: i, diff: 1 });
    expect(mine(watch.seen.at(-1))).toEqual([...nodes, added]);
  });

  it("ServiceL2Status names the owner and up to three ranked standbys", async () => {
    await apply(["l2r-a", "l2r-b", "l2r-c"].map(service));
    const all = await eventually(
      async () => {
        const m = await statuses();
        return m.size === 3 && [...m.values()].every((s) => (s.status?.standbys?.length ?? 0) === 3) ? m : undefined;
      },
      "three ServiceL2Status with standbys",
      40_000,
    );
    for (const s of all.values()) {
      const named = [s.status!.node!, ...s.status!.standbys!];
      expect(new Set(named)).toEqual(new Set([...nodes, added]));
      expect(s.metadata.labels["metallb.io/node"]).toBe(s.status!.node);
    }
    const wide = await kubectlOk(["get", "servicel2statuses", "-n", ns, "-o", "wide"]);
    expect(wide.split("\n")[0]).toMatch(/STANDBYS/);
  });

  it("a down report moves the node's Services to their first standby, in place", async () => {
    const before = await statuses();
    const victim = [...before.values()][0].status!.node!;
    const moving = [...before.values()].filter((s) => s.status!.node === victim);
    const reporter = [...alive].find((n) => n !== victim)!;
    downReports.set(reporter, victim);
    await renew();
    const after = await eventually(
      async () => {
        const m = await statuses();
        return moving.every((s) => m.get(s.status!.serviceName!)?.status?.node !== victim) ? m : undefined;
      },
      `${victim}'s Services moved`,
      20_000,
    );
    for (const s of moving) {
      const now = after.get(s.status!.serviceName!)!;
      expect(now.metadata.uid).toBe(s.metadata.uid); // the same object, patched
      expect(now.metadata.name).toBe(s.metadata.name);
      expect(now.status!.node).toBe(s.status!.standbys![0]);
      expect(now.status!.standbys).not.toContain(victim);
      expect(now.metadata.labels["metallb.io/node"]).toBe(now.status!.node);
    }
    // The reported node stays a voter: a silent vote, not a shrinking majority.
    expect(mine(await readRoster())).toContain(victim);
    const events = await kubectlOk([
      "get",
      "events",
      "-n",
      appNs,
      "--field-selector",
      "reason=nodeAssigned",
      "-o",
      "json",
    ]);
    expect(events).toContain(moving[0].status!.standbys![0]);
  });

  it("exports the hold state and the roster size on the controller's /metrics", async () => {
    const text = await eventually(async () => {
      const t = await scrape();
      const voters = Number(/^metallb_l2_controller_roster_voters (\d+)/m.exec(t)?.[1] ?? 0);
      return voters >= 4 ? t : undefined;
    }, "the roster voters gauge");
    expect(text).toMatch(/^metallb_l2_controller_holding 0$/m);
    expect(text).toContain("# TYPE metallb_layer2_failover_seconds histogram");
  });
});

/** The controller's /metrics (pepr dev serves HTTPS with a self-signed certificate). */
const scrape = (): Promise<string> =>
  new Promise((resolve, reject) => {
    const req = request({ host: "localhost", port: 3000, path: "/metrics", rejectUnauthorized: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve(body));
    });
    req.on("error", reject);
    req.end();
  });

/** Both sides' RBAC, as the API server's authorizer answers it. */
describe("L2 membership RBAC", () => {
  const agent = `system:serviceaccount:${ns}:metallb-agent`;
  const controller = "system:serviceaccount:pepr-system:pepr-metallb-pepr";
  const buildDir = process.env.PEPR_BUILD_DIR ?? join(repoRoot, ".lab", "pepr-build");
  let rbacFile = "";

  beforeAll(async () => {
    // The agent's RBAC and the controller's Role in metallb-system come with the install
    // objects pepr dev applies at start; the controller's ClusterRole is the one `pepr build`
    // generated from package.json pepr.rbac, applied here (and only it deleted after).
    const docs = parseAllDocuments(readFileSync(join(buildDir, "pepr-module-metallb-pepr.yaml"), "utf8")).map((d) =>
      d.toJS(),
    );
    const rbac = docs.filter(
      (o) => (o.kind === "ClusterRole" || o.kind === "ClusterRoleBinding") && o.metadata.name === "pepr-metallb-pepr",
    );
    rbacFile = join(mkdtempSync(join(tmpdir(), "l2r-rbac-")), "rbac.json");
    writeFileSync(rbacFile, JSON.stringify({ apiVersion: "v1", kind: "List", items: rbac }));
    await kubectlOk(["apply", "--server-side", "--force-conflicts", "-f", rbacFile]);
    await eventually(
      async () => ((await canI(agent, ["watch", "configmaps/metallb-l2-membership", "-n", ns])) ? true : undefined),
      "the agent Role with the membership rules",
      30_000,
    );
  });
  afterAll(async () => {
    if (rbacFile) await kubectl(["delete", "-f", rbacFile, "--ignore-not-found"]);
  });

  const canI = async (as: string, args: string[]): Promise<boolean> =>
    (await kubectl(["auth", "can-i", ...args, `--as=${as}`])).stdout.trim() === "yes";

  it.each([
    [["watch", "configmaps/metallb-l2-membership", "-n", ns]],
    [["list", "configmaps/metallb-l2-membership", "-n", ns]],
    [["get", "secrets/metallb-l2-membership-key", "-n", ns]],
    [["watch", "secrets/metallb-l2-membership-key", "-n", ns]],
    [["get", "leases.coordination.k8s.io/metallb-l2-tiebreaker", "-n", ns]],
    [["patch", "leases.coordination.k8s.io/metallb-l2-tiebreaker", "-n", ns]],
    [["create", "leases.coordination.k8s.io", "-n", ns]],
  ])("the agent CAN %j", async (args) => {
    expect(await canI(agent, args)).toBe(true);
  });

  it.each([
    [["list", "secrets", "-n", ns]],
    [["watch", "secrets", "-n", ns]],
    [["watch", "secrets/some-other-secret", "-n", ns]],
    [["get", "secrets/metallb-l2-membership-key", "-n", "default"]],
    [["get", "configmaps/some-other-config", "-n", ns]],
    [["list", "configmaps", "-n", ns]],
    [["update", "configmaps/metallb-l2-membership", "-n", ns]],
    [["patch", "configmaps/metallb-l2-membership", "-n", ns]],
    [["update", "secrets/metallb-l2-membership-key", "-n", ns]],
    [["create", "secrets", "-n", ns]],
    [["update", "leases.coordination.k8s.io/metallb-agent-other", "-n", ns]],
    [["update", "leases.coordination.k8s.io/metallb-l2-tiebreaker", "-n", ns]],
    [["create", "servicel2statuses.metallb.io", "-n", ns]],
    [["patch", "servicel2statuses.metallb.io", "-n", ns]],
    [["patch", "servicel2statuses.metallb.io", "--subresource=status", "-n", ns]],
    [["delete", "servicel2statuses.metallb.io", "-n", ns]],
  ])("the agent CANNOT %j", async (args) => {
    expect(await canI(agent, args)).toBe(false);
  });

  it.each([
    [["create", "secrets", "-n", ns]],
    [["create", "configmaps", "-n", ns]],
    [["get", "configmaps/metallb-l2-membership", "-n", ns]],
    [["update", "configmaps/metallb-l2-membership", "-n", ns]],
    [["list", "leases.coordination.k8s.io", "-n", ns]],
    [["patch", "servicel2statuses.metallb.io", "-n", ns]],
    [["patch", "servicel2statuses.metallb.io", "--subresource=status", "-n", ns]],
  ])("the controller CAN %j", async (args) => {
    expect(await canI(controller, args)).toBe(true);
  });

  it.each([
    [["get", "secrets/metallb-l2-membership-key", "-n", ns]],
    [["get", "secrets", "-n", "kube-system"]],
    [["list", "secrets", "-n", ns]],
    [["update", "secrets/metallb-l2-membership-key", "-n", ns]],
    [["get", "configmaps/some-other-config", "-n", "kube-system"]],
    [["update", "configmaps/some-other-config", "-n", ns]],
    [["list", "configmaps", "-n", ns]],
    [["delete", "configmaps/metallb-l2-membership", "-n", ns]],
  ])("the controller CANNOT %j", async (args) => {
    expect(await canI(controller, args)).toBe(false);
  });
});
