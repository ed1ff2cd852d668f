/**
 * The user's path on a real node (issue 14): a one-node cluster built here
 * (hack/cluster/cluster.sh: kubelet, containerd + runc, CNI bridge, kube-proxy,
 * controller-manager, scheduler), the images imported without a registry, then exactly
 * what docs/install.md says: `npm run build` (`pepr build`, then the finished webhooks, budget
 * and anti-affinity), `kubectl apply --server-side` of the generated manifest,
 * `kubectl apply -f examples/`, a Deployment behind a LoadBalancer Service, `curl` to
 * its address from a client on the node's LAN (L2: the agent answers ARP), admission
 * stopped (Services still created, metallb.io objects still refused), and the
 * uninstall, after which nothing of ours is left.
 *
 * Part of `npm test` when run as root (it builds and runs a node); METALLB_PEPR_CLUSTER=0 skips it.
 * Alone: npx jest --selectProjects cluster. METALLB_PEPR_CLUSTER_KEEP=1 leaves the cluster up.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  acquireClusterLock,
  clusterDir,
  clusterDown,
  clusterUp,
  kubectl,
  kubectlOk,
  moduleCheckout,
  nodeName,
  onClient,
  onNode,
  releaseClusterLock,
  vtysh,
} from "../harness/cluster";
import { repoRoot } from "../harness/local-cluster";
import { until } from "../harness/wait";
import type { V1ValidatingWebhook } from "@kubernetes/client-node";

const disabled = process.env.METALLB_PEPR_CLUSTER === "0" || process.env.METALLB_PEPR_CLUSTER === "false";
const root = process.getuid?.() === 0;
if (!root) console.warn("test/cluster: skipped, a real node needs root (network namespaces, containerd, kubelet)");
const suite = root && !disabled ? describe : describe.skip;

const ns = "metallb-system";
const minute = 60_000;
const figures: Record<string, number> = {};

/** A LoadBalancer Service in front of hack/cluster/web.yaml's pods. */
const lbService = (name: string, annotations: Record<string, string> = {}) => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace: "default", annotations },
  spec: { type: "LoadBalancer", selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] },
});

/** `kubectl apply` of one object, written to the lab's state directory (the node sees the same files). */
async function applyJson(object: { kind: string; metadata: { name: string } }) {
  const path = join(clusterDir, `${object.kind.toLowerCase()}-${object.metadata.name}.json`);
  writeFileSync(path, JSON.stringify(object));
  return kubectl("apply", "-f", path);
}

/** A Service's first LoadBalancer address, once it has one. */
const lbAddress = (service: string, namespace = "default"): Promise<string> =>
  until(
    `${service}'s LoadBalancer address`,
    async () => {
      const ip = await kubectlOk(
        "-n",
        namespace,
        "get",
        `service/${service}`,
        "-o",
        "jsonpath={.status.loadBalancer.ingress[0].ip}",
      );
      return ip.trim() || undefined;
    },
    3 * minute,
    500,
  );

/** What the client's curl of the address gets back, once it answers. */
const curlFromClient = (ip: string): Promise<string> => {
  const url = ip.includes(":") ? `http://[${ip}]/` : `http://${ip}/`;
  return until(
    `an answer from ${url}`,
    async () => {
      const r = await onClient(["curl", "-sS", "-g", "--max-time", "2", url]);
      return r.code === 0 ? r.stdout : undefined;
    },
    3 * minute,
    500,
  );
};

/** The router's valid paths to a prefix, once there is one. */
const routerPaths = (family: "ipv4" | "ipv6", prefix: string) =>
  until(
    `a valid route to ${prefix} in FRR`,
    async () => {
      const r = await vtysh(`show bgp ${family} unicast json`);
      const routes = JSON.parse(r.stdout || "{}").routes ?? {};
      const p = routes[prefix] as { valid?: boolean; nexthops: { ip: string }[] }[] | undefined;
      return p?.some((x) => x.valid) ? p : undefined;
    },
    3 * minute,
    1000,
  );

/** What of ours is still in the cluster after an uninstall. */
async function leftovers() {
  return {
    namespaces: (await kubectlOk("get", "ns", "-o", "jsonpath={.items[*].metadata.name}"))
      .split(" ")
      .filter((n) => n === ns || n === "pepr-system"),
    crds: (await kubectlOk("get", "crd", "-o", "jsonpath={.items[*].metadata.name}"))
      .split(" ")
      .filter((n) => n.endsWith(".metallb.io") || n.endsWith(".pepr.dev")),
    clusterRoles: (await kubectlOk("get", "clusterroles,clusterrolebindings", "-o", "name"))
      .split("\n")
      .filter((n) => /metallb|pepr/.test(n)),
    webhooks: (
      await kubectlOk(
        "get",
        "mutatingwebhookconfigurations,validatingwebhookconfigurations,validatingadmissionpolicies,validatingadmissionpolicybindings",
        "-o",
        "name",
      )
    )
      .split("\n")
      .filter((n) => /metallb|pepr/.test(n)),
    agents: (await kubectlOk("get", "pods", "-A", "-l", "app.kubernetes.io/name=metallb-agent", "-o", "name"))
      .split("\n")
      .filter(Boolean),
  };
}

suite("a real node: the generated manifest applied, the agent in its container, curl through the VIP", () => {
  let moduleDir = "";
  /** The Deployment and LoadBalancer Service of the README's "Real cluster" section. */
  const web = () => join(repoRoot, "hack", "cluster", "web.yaml");
  /** What `npm run build` writes and the install applies. */
  const manifest = () => join(moduleDir, "dist", "pepr-module-metallb-pepr.yaml");
  let vip = "";
  let bgpVip = "";
  let bgpVip6 = "";
  let deployStartedAt = 0;

  beforeAll(async () => {
    await acquireClusterLock();
    // The module and the agent image both come from a checkout of HEAD, as a user's would.
    moduleDir = await moduleCheckout();
    const t0 = Date.now();
    await clusterUp(moduleDir);
    figures.clusterUpSeconds = (Date.now() - t0) / 1000;
  }, 60 * minute);

  afterAll(async () => {
    // Figures go to the log (and .lab/cluster/figures.json), never into assertions.
    writeFileSync(join(clusterDir, "figures.json"), JSON.stringify(figures, null, 2));
    console.log(`real-cluster figures: ${JSON.stringify(figures)}`);
    if (process.env.METALLB_PEPR_CLUSTER_KEEP !== "1") await clusterDown();
    releaseClusterLock();
  }, 10 * minute);

  it(
    "the node is Ready and runs a pod from a locally built image",
    async () => {
      await kubectlOk("apply", "-f", web());
      const r = await kubectl("rollout", "status", "deployment/web", "--timeout=180s");
      expect(r).toMatchObject({ code: 0 });
      const nodes = await kubectlOk("get", "nodes", "-o", "jsonpath={.items[*].metadata.name}");
      expect(nodes.split(" ")).toEqual([nodeName]);
    },
    5 * minute,
  );

  it(
    "npm run build, then kubectl apply --server-side of the generated manifest, install the module; the agent runs with the manifest's security context",
    async () => {
      // `npm run build` is `pepr build` and then hack/finish-manifests.sh (the webhooks Pepr cannot
      // express, the admission budget and anti-affinity). `npx pepr deploy` would rebuild and apply
      // Pepr's own, unfinished objects, so the manifest itself is applied, as in production.
      const build = await onNode(["npm", "run", "build"], { cwd: moduleDir, timeoutMs: 10 * minute });
      expect({ code: build.code, stderr: build.code ? build.stderr : "" }).toEqual({ code: 0, stderr: "" });
      expect(build.stdout).toContain("pepr-metallb-pepr-services.pepr.dev Ignore");
      const t0 = Date.now();
      const deploy = await kubectl("apply", "--server-side", "-f", manifest());
      expect({ code: deploy.code, stderr: deploy.code ? deploy.stderr : "" }).toEqual({ code: 0, stderr: "" });
      figures.manifestApplySeconds = (Date.now() - t0) / 1000;
      deployStartedAt = t0;

      for (const d of ["pepr-metallb-pepr", "pepr-metallb-pepr-watcher"]) {
        const r = await kubectl("-n", "pepr-system", "rollout", "status", `deployment/${d}`, "--timeout=300s");
        expect({ deployment: d, code: r.code }).toEqual({ deployment: d, code: 0 });
      }
      // The manifest itself carries the namespace, the CRDs and the agent; the controller's
      // identity can install none of them (it holds no such rights).
      const controller = "--as=system:serviceaccount:pepr-system:pepr-metallb-pepr";
      for (const what of [
        ["create", "daemonsets.apps", "-n", ns],
        ["create", "rolebindings.rbac.authorization.k8s.io", "-n", ns],
        ["create", "customresourcedefinitions.apiextensions.k8s.io"],
      ]) {
        const r = await kubectl("auth", "can-i", ...what, controller);
        expect({ what, answer: r.stdout.trim() }).toEqual({ what, answer: "no" });
      }
      const rollout = await kubectl("-n", ns, "rollout", "status", "daemonset/metallb-agent", "--timeout=300s");
      expect(rollout).toMatchObject({ code: 0 });
      const pod = JSON.parse(
        await kubectlOk("-n", ns, "get", "pods", "-l", "app.kubernetes.io/name=metallb-agent", "-o", "json"),
      ).items[0];
      expect(pod.spec.nodeName).toBe(nodeName);
      expect(pod.spec.hostNetwork).toBe(true);
      expect(pod.spec.containers[0].securityContext).toEqual({
        runAsUser: 0,
        runAsNonRoot: false,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        privileged: false,
        capabilities: { drop: ["ALL"], add: ["NET_RAW"] },
        seccompProfile: { type: "RuntimeDefault" },
      });
      expect(pod.status.containerStatuses[0]).toMatchObject({ ready: true, restartCount: 0 });
    },
    20 * minute,
  );

  it(
    "a user's edit to the agent DaemonSet (a toleration) survives a watcher restart",
    async () => {
      const toleration = { key: "example.com/dedicated", operator: "Equal", value: "lb", effect: "NoSchedule" };
      await kubectlOk(
        "-n",
        ns,
        "patch",
        "daemonset/metallb-agent",
        "--type=json",
        "-p",
        JSON.stringify([{ op: "add", path: "/spec/template/spec/tolerations/-", value: toleration }]),
      );
      const r = await kubectl("-n", ns, "rollout", "status", "daemonset/metallb-agent", "--timeout=300s");
      expect(r).toMatchObject({ code: 0 });
      const generation = await kubectlOk(
        "-n",
        ns,
        "get",
        "daemonset/metallb-agent",
        "-o",
        "jsonpath={.metadata.generation}",
      );

      const watcherPods = async () =>
        (await kubectlOk("-n", "pepr-system", "get", "pods", "-l", "pepr.dev/controller=watcher", "-o", "name"))
          .split("\n")
          .filter(Boolean);
      const before = await watcherPods();
      await kubectlOk("-n", "pepr-system", "rollout", "restart", "deployment/pepr-metallb-pepr-watcher");
      const restarted = await kubectl(
        "-n",
        "pepr-system",
        "rollout",
        "status",
        "deployment/pepr-metallb-pepr-watcher",
        "--timeout=300s",
      );
      expect(restarted).toMatchObject({ code: 0 });
      const after = await until(
        "a new watcher pod",
        async () => {
          const pods = await watcherPods();
          return pods.length === 1 && !before.includes(pods[0]) ? pods : undefined;
        },
        2 * minute,
        1000,
      );
      // The new watcher has started its controllers (it would have re-applied the agent first).
      await until(
        "the new watcher's controllers to start",
        async () =>
          (await kubectl("-n", "pepr-system", "logs", after[0])).stdout.includes("metallb-pepr controller ready")
            ? true
            : undefined,
        3 * minute,
        1000,
      );
      const ds = JSON.parse(await kubectlOk("-n", ns, "get", "daemonset/metallb-agent", "-o", "json"));
      expect(ds.spec.template.spec.tolerations).toContainEqual(toleration);
      expect(String(ds.metadata.generation)).toBe(generation);
    },
    10 * minute,
  );

  it(
    "kubectl apply -f examples/ is accepted as it is",
    async () => {
      // Warnings are expected (objects that name others applied later in the same run); errors are not.
      const r = await kubectl("apply", "-f", join(moduleDir, "examples"));
      expect({ code: r.code, errors: r.stderr.split("\n").filter((l) => /^error/i.test(l)) }).toEqual({
        code: 0,
        errors: [],
      });
      const pools = await kubectlOk("-n", ns, "get", "ipaddresspools", "-o", "jsonpath={.items[*].metadata.name}");
      expect(pools.split(" ").sort()).toEqual(["dual-stack-pool", "ipv4-pool", "ipv6-pool", "team-a-pool"]);
    },
    5 * minute,
  );

  it(
    "curl http://VIP/ from the client reaches the pod through L2 (ARP)",
    async () => {
      await kubectlOk("apply", "-f", web());
      vip = await lbAddress("web-l2");
      expect(vip).toMatch(/^192\.0\.2\.(6[4-9]|7[0-9])$/);
      const pods = await kubectlOk("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.name}");
      const body = await curlFromClient(vip);
      if (deployStartedAt) figures.deployToFirstCurlSeconds = (Date.now() - deployStartedAt) / 1000;
      expect(body.trim()).toBe(`hello from ${pods.trim()}`);
      // The answer came by ARP from the node: the client learnt the VIP at the node's MAC.
      const neigh = await onClient(["ip", "neigh", "show", vip]);
      // (ip reads the node's namespace over netlink; /sys here would be the host's.)
      const nodeMac = /link\/ether ([0-9a-f:]{17})/.exec(
        (await onNode(["ip", "-o", "link", "show", "eth0"])).stdout,
      )?.[1];
      expect(nodeMac).toBeDefined();
      expect(neigh.stdout).toContain(nodeMac!);
    },
    10 * minute,
  );

  it(
    "curl http://[VIP]/ from the client reaches the pod through L2 over IPv6 (NDP)",
    async () => {
      const vip6 = await lbAddress("web-v6");
      expect(vip6).toMatch(/^2001:db8:1::1[0-9a-f]{2}$/);
      const pods = await kubectlOk("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.name}");
      const body = await curlFromClient(vip6);
      expect(body.trim()).toBe(`hello from ${pods.trim()}`);
      const neigh = await onClient(["ip", "-6", "neigh", "show", vip6]);
      const nodeMac = /link\/ether ([0-9a-f:]{17})/.exec(
        (await onNode(["ip", "-o", "link", "show", "eth0"])).stdout,
      )?.[1];
      expect(neigh.stdout).toContain(nodeMac!);
    },
    10 * minute,
  );

  it(
    "curl http://VIP/ from the client reaches the pod through BGP: a route in FRR, the client routed via the router",
    async () => {
      // examples/bgppeer.yaml's router-a peers with nodes labelled bgp=enabled; examples/service.yaml's
      // web takes its address from ipv4-pool, which examples/bgpadvertisement.yaml announces.
      await kubectlOk("label", "node", nodeName, "bgp=enabled", "--overwrite");
      bgpVip = await lbAddress("web");
      expect(bgpVip).toMatch(/^198\.51\.100\./);
      const paths = await routerPaths("ipv4", `${bgpVip}/32`);
      expect(paths.flatMap((p) => p.nexthops.map((n) => n.ip))).toContain("192.0.2.11");
      const pods = await kubectlOk("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.name}");
      const body = await curlFromClient(bgpVip);
      expect(body.trim()).toBe(`hello from ${pods.trim()}`);
      // The client has no route of its own to the pool: it went through the router.
      const route = await onClient(["ip", "route", "get", bgpVip]);
      expect(route.stdout).toContain("via 192.0.2.1");
    },
    10 * minute,
  );

  it(
    "curl http://[VIP]/ from the client reaches the pod through BGP over IPv6: an IPv6 session to the router, the /128 in FRR",
    async () => {
      // Not in examples/ (its IPv6 pool is on the link, for NDP): a pool off the link, a peer at
      // the router's IPv6 address (hack/cluster/cluster.sh configures its side) and a Service.
      const objects = [
        {
          apiVersion: "metallb.io/v1beta1",
          kind: "IPAddressPool",
          metadata: { name: "bgp-v6-pool", namespace: ns },
          spec: { addresses: ["2001:db8:200::/124"], autoAssign: false },
        },
        {
          apiVersion: "metallb.io/v1beta2",
          kind: "BGPPeer",
          metadata: { name: "router-a-v6", namespace: ns },
          spec: {
            myASN: 64500,
            peerASN: 64501,
            peerAddress: "2001:db8:1::1",
            nodeSelectors: [{ matchLabels: { bgp: "enabled" } }],
          },
        },
        {
          apiVersion: "metallb.io/v1beta1",
          kind: "BGPAdvertisement",
          metadata: { name: "ipv6-routes", namespace: ns },
          spec: { ipAddressPools: ["bgp-v6-pool"], peers: ["router-a-v6"] },
        },
        {
          ...lbService("web-bgp6", { "metallb.io/address-pool": "bgp-v6-pool" }),
          spec: { ...lbService("web-bgp6").spec, ipFamilies: ["IPv6"], ipFamilyPolicy: "SingleStack" },
        },
      ];
      for (const o of objects) {
        const r = await applyJson(o);
        expect({ object: o.metadata.name, code: r.code, stderr: r.code ? r.stderr : "" }).toEqual({
          object: o.metadata.name,
          code: 0,
          stderr: "",
        });
      }
      bgpVip6 = await lbAddress("web-bgp6");
      expect(bgpVip6).toMatch(/^2001:db8:200::/);
      const paths = await routerPaths("ipv6", `${bgpVip6}/128`);
      expect(paths.flatMap((p) => p.nexthops.map((n) => n.ip))).toContain("2001:db8:1::11");
      const pods = await kubectlOk("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.name}");
      const body = await curlFromClient(bgpVip6);
      expect(body.trim()).toBe(`hello from ${pods.trim()}`);
      const route = await onClient(["ip", "-6", "route", "get", bgpVip6]);
      expect(route.stdout).toContain("via 2001:db8:1::1");
    },
    10 * minute,
  );

  it(
    "admission's webhooks: Services fail open and see only LoadBalancer Services, metallb.io fails closed; a budget and anti-affinity keep a replica up",
    async () => {
      const config = JSON.parse(
        await kubectlOk("get", "validatingwebhookconfiguration", "pepr-metallb-pepr", "-o", "json"),
      ) as { webhooks: V1ValidatingWebhook[] };
      const byName = Object.fromEntries(config.webhooks.map((h) => [h.name, h]));
      expect(Object.keys(byName).sort()).toEqual(["pepr-metallb-pepr-services.pepr.dev", "pepr-metallb-pepr.pepr.dev"]);
      const services = byName["pepr-metallb-pepr-services.pepr.dev"];
      expect(services).toMatchObject({ failurePolicy: "Ignore", timeoutSeconds: 5 });
      expect(services.matchConditions).toEqual([
        {
          name: "loadbalancer-services-only",
          expression: "object != null && has(object.spec.type) && object.spec.type == 'LoadBalancer'",
        },
      ]);
      expect([...new Set(services.rules!.flatMap((r) => r.resources))]).toEqual(["services"]);
      const metallb = byName["pepr-metallb-pepr.pepr.dev"];
      expect(metallb.failurePolicy).toBe("Fail");
      expect(metallb.matchConditions).toBeUndefined();
      expect(new Set(metallb.rules!.flatMap((r) => r.apiGroups))).toEqual(new Set(["metallb.io"]));
      // A ClusterIP Service never reaches the webhook: the API server counts it as excluded by the matchCondition.
      const excluded = async () =>
        (await kubectlOk("get", "--raw", "/metrics"))
          .split("\n")
          .filter(
            (l) =>
              l.startsWith("apiserver_admission_match_condition_exclusions_total{") &&
              l.includes('name="pepr-metallb-pepr-services.pepr.dev"'),
          )
          .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
      const before = await excluded();
      await kubectlOk("create", "service", "clusterip", "up-cip", "--tcp=80:8080");
      expect(await excluded()).toBeGreaterThan(before);
      await kubectlOk("delete", "service", "up-cip");
      // The matchCondition holds for a LoadBalancer Service: admission sees it and refuses a malformed request.
      const malformed = await applyJson(lbService("up-malformed", { "metallb.io/loadBalancerIPs": "192.0.2.300" }));
      expect(malformed.code).not.toBe(0);
      expect(malformed.stderr).toContain('"192.0.2.300" is not an IP address');

      const pdb = JSON.parse(await kubectlOk("-n", "pepr-system", "get", "pdb", "pepr-metallb-pepr", "-o", "json"));
      expect(pdb.spec).toMatchObject({ maxUnavailable: 1, unhealthyPodEvictionPolicy: "AlwaysAllow" });
      // The budget counts exactly the two admission replicas.
      const counted = await until(
        "the admission PodDisruptionBudget counting both replicas",
        async () => {
          const st = JSON.parse(
            await kubectlOk("-n", "pepr-system", "get", "pdb", "pepr-metallb-pepr", "-o", "jsonpath={.status}"),
          );
          return st.expectedPods === 2 && st.currentHealthy === 2 ? st : undefined;
        },
        minute,
        500,
      );
      expect(counted.disruptionsAllowed).toBe(1);
      const affinity = JSON.parse(
        await kubectlOk(
          "-n",
          "pepr-system",
          "get",
          "deployment",
          "pepr-metallb-pepr",
          "-o",
          "jsonpath={.spec.template.spec.affinity}",
        ),
      );
      expect(
        affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey,
      ).toBe("kubernetes.io/hostname");
    },
    5 * minute,
  );

  it(
    "with the admission Deployment stopped: a ClusterIP Service is created at once, a LoadBalancer Service too (fail open) and the reconciler still serves or explains it; a bad IPAddressPool is still refused (fail closed)",
    async () => {
      const admission = ["-n", "pepr-system", "deployment/pepr-metallb-pepr"];
      const admissionPods = ["-n", "pepr-system", "get", "pods", "-l", "pepr.dev/controller=admission", "-o", "name"];
      const badPool = {
        apiVersion: "metallb.io/v1beta1",
        kind: "IPAddressPool",
        metadata: { name: "down-bad", namespace: ns },
        spec: { addresses: ["192.0.2.0/33"] },
      };
      try {
        await kubectlOk("scale", ...admission, "--replicas=0");
        await until(
          "no admission pod left",
          async () => ((await kubectlOk(...admissionPods)).trim() === "" ? true : undefined),
          3 * minute,
          500,
        );

        let t0 = Date.now();
        const clusterIP = await kubectl("create", "service", "clusterip", "down-cip", "--tcp=80:8080");
        figures.clusterIPCreateWithAdmissionDownSeconds = (Date.now() - t0) / 1000;
        expect({ code: clusterIP.code, stderr: clusterIP.stderr }).toEqual({ code: 0, stderr: "" });

        t0 = Date.now();
        const created = await applyJson(lbService("down-lb"));
        figures.loadBalancerCreateWithAdmissionDownSeconds = (Date.now() - t0) / 1000;
        expect(created).toMatchObject({ code: 0 });
        // Admission would refuse this address; the reconciler refuses it too and says why.
        const slipped = await applyJson(lbService("down-malformed", { "metallb.io/loadBalancerIPs": "192.0.2.300" }));
        expect(slipped).toMatchObject({ code: 0 });

        const ip = await lbAddress("down-lb");
        expect(ip).not.toBe("");
        const warning = await until(
          "a Warning Event on down-malformed",
          async () => {
            const out = await kubectlOk(
              "get",
              "events",
              "--field-selector",
              "involvedObject.kind=Service,involvedObject.name=down-malformed,type=Warning",
              "-o",
              'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}',
            );
            return out.trim() || undefined;
          },
          3 * minute,
          500,
        );
        expect(warning).toMatch(/LoadBalancerFailed: .*192\.0\.2\.300/);

        // The configuration webhook fails closed: nothing unchecked gets in.
        const refused = await applyJson(badPool);
        expect(refused.code).not.toBe(0);
        expect(refused.stderr).toContain('failed calling webhook "pepr-metallb-pepr.pepr.dev"');
        expect((await kubectl("-n", ns, "get", "ipaddresspool", "down-bad")).code).not.toBe(0);
      } finally {
        await kubectl("scale", ...admission, "--replicas=2");
        await kubectl("rollout", "status", ...admission, "--timeout=180s");
        await kubectl("delete", "service", "down-cip", "down-lb", "down-malformed", "--ignore-not-found");
      }
      // Back up, the same pool is refused with the reason.
      const refusedAgain = await until(
        "admission answering again",
        async () => {
          const r = await applyJson(badPool);
          return r.code !== 0 && !r.stderr.includes("failed calling webhook") ? r : undefined;
        },
        2 * minute,
        1000,
      );
      expect(refusedAgain.stderr).toContain('invalid CIDR "192.0.2.0/33"');
    },
    10 * minute,
  );

  it(
    "uninstall, in the documented order, leaves nothing of ours",
    async () => {
      // docs/install.md "Uninstall", step by step:
      // 1. The LoadBalancer Services (here the test's and examples/service.yaml's).
      await kubectlOk("delete", "-f", web(), "--wait=true");
      await kubectlOk("delete", "-f", join(moduleDir, "examples", "service.yaml"), "--wait=true");
      await kubectlOk("delete", "service", "web-bgp6", "--ignore-not-found", "--wait=true");
      // 2. Everything the manifest installed: the module, the agent, its RBAC and Lease policy,
      //    the configuration namespace, our CRDs and Pepr's PeprStore CRD.
      await kubectlOk("delete", "-f", manifest(), "--ignore-not-found", "--wait=true", "--timeout=300s");

      expect(await leftovers()).toEqual({ namespaces: [], crds: [], clusterRoles: [], webhooks: [], agents: [] });
      // Nothing answers for the address any more.
      expect(vip).not.toBe("");
      const arp = await onClient(["arping", "-c", "2", "-w", "3", "-I", "eth0", vip]);
      expect(arp.code).not.toBe(0);
      // And the router has no route to the BGP address any more.
      const r = await vtysh("show bgp ipv4 unicast json");
      expect(Object.keys(JSON.parse(r.stdout || "{}").routes ?? {})).not.toContain(`${bgpVip}/32`);
      const r6 = await vtysh("show bgp ipv6 unicast json");
      expect(Object.keys(JSON.parse(r6.stdout || "{}").routes ?? {})).not.toContain(`${bgpVip6}/128`);
    },
    10 * minute,
  );

  it(
    "npx pepr deploy, with `metallb-pepr manifests` and the --live webhook finish, installs the same system; its uninstall leaves nothing",
    async () => {
      // docs/install.md "Build and deploy", the pepr deploy path.
      const t0 = Date.now();
      const deploy = await onNode(["npx", "pepr", "deploy", "--yes"], { cwd: moduleDir, timeoutMs: 10 * minute });
      expect({ code: deploy.code, stderr: deploy.code ? deploy.stderr : "" }).toEqual({ code: 0, stderr: "" });
      const printed = await onNode(["node", "bin/metallb-pepr.js", "manifests"], { cwd: moduleDir });
      expect(printed.code).toBe(0);
      const installFile = join(clusterDir, "metallb-pepr-manifests.yaml");
      writeFileSync(installFile, printed.stdout);
      await kubectlOk("apply", "--server-side", "-f", installFile);
      const finish = await onNode(["bash", "hack/finish-manifests.sh", "--live"], { cwd: moduleDir });
      expect({ code: finish.code, stderr: finish.code ? finish.stderr : "" }).toEqual({ code: 0, stderr: "" });
      const hooks = JSON.parse(
        await kubectlOk("get", "validatingwebhookconfiguration", "pepr-metallb-pepr", "-o", "json"),
      ) as { webhooks: V1ValidatingWebhook[] };
      expect(hooks.webhooks.map((h) => `${h.name} ${h.failurePolicy}`).sort()).toEqual([
        "pepr-metallb-pepr-services.pepr.dev Ignore",
        "pepr-metallb-pepr.pepr.dev Fail",
      ]);
      const rollout = await kubectl("-n", ns, "rollout", "status", "daemonset/metallb-agent", "--timeout=300s");
      expect(rollout).toMatchObject({ code: 0 });

      // An address on the LAN again, answered through L2.
      await until(
        "examples' pools and L2 advertisements to be admitted",
        async () => {
          const pools = await kubectl("apply", "-f", join(moduleDir, "examples", "ipaddresspool.yaml"));
          const l2 = await kubectl("apply", "-f", join(moduleDir, "examples", "l2advertisement.yaml"));
          return pools.code === 0 && l2.code === 0 ? true : undefined;
        },
        2 * minute,
        2000,
      );
      await kubectlOk("apply", "-f", web());
      const body = await curlFromClient(await lbAddress("web-l2"));
      // Everything a user runs on this path, `npx pepr deploy`'s own build included.
      figures.peprDeployToFirstCurlSeconds = (Date.now() - t0) / 1000;
      const pods = await kubectlOk("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.name}");
      expect(body.trim()).toBe(`hello from ${pods.trim()}`);

      // Its uninstall (docs/install.md): the Services, what `metallb-pepr manifests` printed, Pepr's objects.
      await kubectlOk("delete", "-f", web(), "--wait=true");
      await kubectlOk("delete", "-f", installFile, "--ignore-not-found", "--wait=true", "--timeout=300s");
      await kubectlOk("delete", "namespace", "pepr-system", "--ignore-not-found", "--wait=true", "--timeout=300s");
      await kubectlOk("delete", "clusterrole,clusterrolebinding", "pepr-metallb-pepr", "--ignore-not-found");
      await kubectlOk(
        "delete",
        "validatingwebhookconfiguration,mutatingwebhookconfiguration",
        "pepr-metallb-pepr",
        "--ignore-not-found",
      );
      await kubectlOk("delete", "crd", "peprstores.pepr.dev", "--ignore-not-found", "--wait=true");
      expect(await leftovers()).toEqual({ namespaces: [], crds: [], clusterRoles: [], webhooks: [], agents: [] });
    },
    15 * minute,
  );
});
