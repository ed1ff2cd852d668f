/**
 * The API calls behind BGP planning: BGPSession objects (spec only, by
 * server-side apply; status is the agent's) and ServiceBGPStatus objects.
 * Thin: no decisions here.
 */
import { KubeHttpError, kubeHttp } from "../../shared/kube/http";
import type { DesiredSession, ExistingSession } from "./sessions";
import { newStatusObject, statusBody, type DesiredStatus, type ExistingStatus } from "./service-statuses";
import type { SessionReport } from "./pending";

const FIELD_MANAGER = "metallb-pepr-bgp";
const base = (ns: string) => `/apis/metallb.io/v1beta1/namespaces/${encodeURIComponent(ns)}`;

export type SessionObject = ExistingSession & { status?: { state?: string; advertisedPrefixes?: number } };

const ignoreNotFound = (err: unknown): void => {
  if (!(err instanceof KubeHttpError && err.status === 404)) throw err;
};

export class BGPKubeWriter {
  constructor(private readonly namespace: string) {}

  async listSessions(): Promise<SessionObject[]> {
    const list = await kubeHttp().send<{ items: SessionObject[] }>("GET", `${base(this.namespace)}/bgpsessions`);
    return list.items ?? [];
  }

  /** Create or update the spec, labels and owned annotations in one call; fields we stop sending are removed. */
  async applySession(d: DesiredSession): Promise<void> {
    const body = {
      apiVersion: "metallb.io/v1beta1",
      kind: "BGPSession",
      metadata: { name: d.name, namespace: this.namespace, labels: d.labels, annotations: d.annotations },
      spec: d.spec,
    };
    const path = `${base(this.namespace)}/bgpsessions/${encodeURIComponent(d.name)}?fieldManager=${FIELD_MANAGER}&force=true`;
    await kubeHttp().send("PATCH", path, body, "application/apply-patch+yaml");
  }

  async deleteSession(name: string): Promise<void> {
    await kubeHttp()
      .send("DELETE", `${base(this.namespace)}/bgpsessions/${encodeURIComponent(name)}`)
      .catch(ignoreNotFound);
  }

  async listStatuses(): Promise<ExistingStatus[]> {
    const list = await kubeHttp().send<{ items: ExistingStatus[] }>(
      "GET",
      `${base(this.namespace)}/servicebgpstatuses`,
    );
    return list.items ?? [];
  }

  async createStatus(want: DesiredStatus): Promise<void> {
    const created = await kubeHttp().send<{ metadata: { name: string } }>(
      "POST",
      `${base(this.namespace)}/servicebgpstatuses`,
      newStatusObject(want, this.namespace),
    );
    await this.patchStatus(created.metadata.name, want);
  }

  async patchStatus(name: string, want: DesiredStatus): Promise<void> {
    await kubeHttp().mergePatch(
      `${base(this.namespace)}/servicebgpstatuses/${encodeURIComponent(name)}/status`,
      statusBody(want),
    );
  }

  async deleteStatus(name: string): Promise<void> {
    await kubeHttp()
      .send("DELETE", `${base(this.namespace)}/servicebgpstatuses/${encodeURIComponent(name)}`)
      .catch(ignoreNotFound);
  }
}

/** The fields of a listed session the pending-prefix metric reads. */
export const sessionReport = (s: SessionObject): SessionReport => ({
  node: s.spec?.node,
  peer: s.spec?.peer,
  peerAddress: s.spec?.peerAddress,
  interface: s.spec?.interface,
  peerPort: s.spec?.peerPort,
  state: s.status?.state,
  advertisedPrefixes: s.status?.advertisedPrefixes,
});
