import type { MetallbObject } from "./common";

export interface InterfaceInfo {
  name?: string;
}

/** node/serviceName/serviceNamespace are immutable once set (CEL). */
export interface ServiceL2StatusStatus {
  node?: string;
  serviceName?: string;
  serviceNamespace?: string;
  /** Empty means every suitable interface. */
  interfaces?: InterfaceInfo[];
}

export type ServiceL2StatusSpec = Record<string, never>;

export type ServiceL2Status = MetallbObject<ServiceL2StatusSpec, ServiceL2StatusStatus>;
