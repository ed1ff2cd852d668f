import type { MetallbObject } from "./common";

export interface InterfaceInfo {
  name?: string;
}

/** serviceName/serviceNamespace are immutable once set (CEL); node moves in place (issue 12). */
export interface ServiceL2StatusStatus {
  node?: string;
  serviceName?: string;
  serviceNamespace?: string;
  /** Empty means every suitable interface. */
  interfaces?: InterfaceInfo[];
  /** The ranked nodes that take over after `node`. */
  standbys?: string[];
}

export type ServiceL2StatusSpec = Record<string, never>;

export type ServiceL2Status = MetallbObject<ServiceL2StatusSpec, ServiceL2StatusStatus>;
