/**
 * Shapes shared by the metallb.io kinds. Pure: no Kubernetes client, so the node
 * agent and the configuration parser can import them without pulling in pepr.
 */

/**
 * KFC types timestamps as Date while the wire (and therefore every object we
 * actually receive) carries RFC 3339 strings; accepting both lets objects read
 * through KFC be passed straight to code typed against these interfaces.
 */
export type Timestamp = string | Date;

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** The part of metav1.ObjectMeta this project reads or writes. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: Timestamp;
  deletionTimestamp?: Timestamp;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
}

export type LabelSelectorOperator = "In" | "NotIn" | "Exists" | "DoesNotExist";

export interface LabelSelectorRequirement {
  key: string;
  operator: LabelSelectorOperator;
  /** Required (non-empty) for In/NotIn, empty for Exists/DoesNotExist. */
  values?: string[];
}

/**
 * metav1.LabelSelector. The terms are ANDed; an empty selector matches
 * everything. BGPPeer v1beta1's legacy node selector has the same shape.
 */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export type ConditionStatus = "True" | "False" | "Unknown";

/** metav1.Condition. */
export interface Condition {
  type: string;
  status: ConditionStatus;
  observedGeneration?: number;
  lastTransitionTime: Timestamp;
  reason: string;
  message: string;
}

/** core/v1 SecretReference (name and namespace only). */
export interface SecretReference {
  name?: string;
  namespace?: string;
}

/**
 * Fields every metallb.io object has. apiVersion and kind are optional because
 * list items and partial objects built in code may leave them out.
 */
export interface MetallbObject<Spec, Status> {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: Spec;
  status?: Status;
}

/**
 * The status of the configuration kinds (MetalLB leaves it empty): one `Valid` condition,
 * False while the object is invalid and disabled, written by the controller.
 */
export interface ValidityStatus {
  conditions?: Condition[];
}
