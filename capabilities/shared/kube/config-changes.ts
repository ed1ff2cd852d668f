/**
 * Which watch events change the metallb.io configuration: the configuration store
 * (controller and agent) resolves again only for those.
 */
import { PARSED_ANNOTATIONS } from "../config/shape";

/** Labels as one comparable string, whatever their order. */
const labelsFingerprint = (labels: Record<string, string>): string => JSON.stringify(Object.entries(labels).sort());

export interface ConfigObjectLike {
  metadata?: {
    uid?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
}

/**
 * Does this watch event change the configuration? Not when only the status moved: the
 * allocator writes IPAddressPool status after allocations, and treating that as a
 * configuration change would hold every allocation for a re-read each time. With the
 * status subresource, spec edits bump metadata.generation; labels and annotations do not,
 * but pools are selected by label (ipAddressPoolSelectors) and a few annotations are
 * configuration (PARSED_ANNOTATIONS), so they count too. `seen` (uid -> what was last
 * seen) is updated.
 */
export function isConfigChange(seen: Map<string, string>, obj: ConfigObjectLike, deleted: boolean): boolean {
  const uid = obj.metadata?.uid;
  const generation = obj.metadata?.generation;
  if (!uid || generation === undefined) return true;
  if (deleted) {
    seen.delete(uid);
    return true;
  }
  const annotations = PARSED_ANNOTATIONS.map((k) => obj.metadata?.annotations?.[k] ?? null);
  const fingerprint = `${generation}|${labelsFingerprint(obj.metadata?.labels ?? {})}|${JSON.stringify(annotations)}`;
  if (seen.get(uid) === fingerprint) return false;
  seen.set(uid, fingerprint);
  return true;
}
