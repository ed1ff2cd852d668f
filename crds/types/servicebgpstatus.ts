import type { MetallbObject } from "./common";

/** node/serviceName/serviceNamespace are immutable once set (CEL). */
export interface ServiceBGPStatusStatus {
  node?: string;
  serviceName?: string;
  serviceNamespace?: string;
  /** BGPPeer names the node is configured to announce the Service to. */
  peers?: string[];
}

export type ServiceBGPStatusSpec = Record<string, never>;

export type ServiceBGPStatus = MetallbObject<ServiceBGPStatusSpec, ServiceBGPStatusStatus>;
