import { CRD_NAMES } from "../../../crds/manifests";
import { CONTROLLER_SERVICE_ACCOUNT, controllerRole } from "./controller-rbac";
import { installManifests } from "./install-manifests";

const ids = (leasePolicy: boolean) =>
  installManifests({ namespace: "lb-config", image: "agent:1", leasePolicy }).map(
    (o) => `${o.kind}/${o.metadata?.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata?.name}`,
  );

describe("installManifests", () => {
  it("puts the namespace and every CRD (ours and Pepr's store) before what lives in or refers to them", () => {
    const all = ids(true);
    expect(all[0]).toBe("Namespace/lb-config");
    const crds = all.filter((id) => id.startsWith("CustomResourceDefinition/"));
    expect(crds.map((id) => id.slice(id.indexOf("/") + 1)).sort()).toEqual(
      [...CRD_NAMES, "peprstores.pepr.dev"].sort(),
    );
    const lastCrd = Math.max(...crds.map((id) => all.indexOf(id)));
    expect(all.slice(1, lastCrd + 1).every((id) => id.startsWith("CustomResourceDefinition/"))).toBe(true);
    expect(all.indexOf("Role/lb-config/metallb-agent")).toBeLessThan(all.indexOf("DaemonSet/lb-config/metallb-agent"));
  });

  it("has the Lease policy only when asked", () => {
    expect(ids(true)).toContain("ValidatingAdmissionPolicy/metallb-agent-leases");
    expect(ids(false).some((id) => id.startsWith("ValidatingAdmissionPolicy"))).toBe(false);
  });

  it("binds the controller's namespaced Role to Pepr's ServiceAccount, in the configuration namespace only", () => {
    const objs = installManifests({ namespace: "lb-config", image: "agent:1", leasePolicy: false });
    const binding = objs.find(
      (o) => o.kind === "RoleBinding" && o.metadata?.name === "metallb-controller",
    ) as unknown as {
      metadata: { namespace: string };
      subjects: unknown[];
    };
    expect(binding.metadata.namespace).toBe("lb-config");
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", ...CONTROLLER_SERVICE_ACCOUNT }]);
    expect(CONTROLLER_SERVICE_ACCOUNT).toEqual({ name: "pepr-metallb-pepr", namespace: "pepr-system" });
    // Secrets: create only (the L2 key is written once and never read back).
    const secretRules = controllerRole("lb-config").rules.filter((r) => r.resources.includes("secrets"));
    expect(secretRules.map((r) => r.verbs)).toEqual([["create"]]);
  });
});
