import { endpointsByService, toPlanService } from "../../shared/bgp";
import { ownedByNode } from "./l2/desired";
import { projectEndpointSlice, projectService } from "./projections";

const service = {
  apiVersion: "v1",
  kind: "Service",
  metadata: {
    name: "web",
    namespace: "shop",
    resourceVersion: "42",
    labels: { app: "web", tier: "front" },
    annotations: {
      "metallb.io/address-pool": "public",
      "metallb.io/bgp-communities": "64500:7",
      "kubectl.kubernetes.io/last-applied-configuration": "{...}",
    },
    managedFields: [{ manager: "kubectl", operation: "Apply", fieldsV1: { "f:spec": {} } }],
    uid: "u-1",
  },
  spec: {
    type: "LoadBalancer",
    externalTrafficPolicy: "Local",
    selector: { app: "web" },
    ports: [{ port: 80, targetPort: 8080, protocol: "TCP" }],
    clusterIP: "10.0.0.5",
    ipFamilies: ["IPv4", "IPv6"],
  },
  status: {
    loadBalancer: { ingress: [{ ip: "192.0.2.10", ipMode: "VIP" }, { ip: "2001:db8::10" }, { hostname: "x.example" }] },
  },
};

const slice = {
  apiVersion: "discovery.k8s.io/v1",
  kind: "EndpointSlice",
  metadata: {
    name: "web-abc",
    namespace: "shop",
    resourceVersion: "7",
    labels: { "kubernetes.io/service-name": "web", "endpointslice.kubernetes.io/managed-by": "x" },
  },
  addressType: "IPv4",
  ports: [{ port: 8080 }],
  endpoints: [
    {
      addresses: ["10.244.1.5"],
      nodeName: "n1",
      conditions: { ready: true, serving: true, terminating: false },
      targetRef: { kind: "Pod", name: "web-1" },
    },
    { addresses: ["10.244.2.5"], nodeName: "n2", conditions: { ready: false, serving: true, terminating: true } },
    { addresses: ["10.244.3.5"], nodeName: "n3", conditions: { ready: false, serving: false } },
  ],
};

describe("agent cache projections", () => {
  it("a projected Service plans exactly like the full object, and keeps nothing else", () => {
    const p = projectService(service);
    expect(toPlanService(p)).toEqual(toPlanService(service));
    expect(toPlanService(p)?.communities).toBe("64500:7");
    const status = [{ status: { node: "n1", serviceName: "web", serviceNamespace: "shop" } }];
    expect(ownedByNode("n1", status, new Map([["shop/web", p]]))).toEqual(
      ownedByNode("n1", status, new Map([["shop/web", service]])),
    );
    expect(JSON.stringify(p)).not.toMatch(/managedFields|last-applied|address-pool|selector|clusterIP|uid|hostname/);
  });

  it("a projected EndpointSlice yields the same serving nodes, and keeps nothing else", () => {
    const p = projectEndpointSlice(slice);
    expect(endpointsByService([p])).toEqual(endpointsByService([slice]));
    expect(JSON.stringify(p)).not.toMatch(/addresses|targetRef|managed-by|ports/);
  });

  it("an EndpointSlice without the service-name label stays unowned", () => {
    const p = projectEndpointSlice({ ...slice, metadata: { name: "orphan", namespace: "shop" } });
    expect(endpointsByService([p]).size).toBe(0);
  });
});
