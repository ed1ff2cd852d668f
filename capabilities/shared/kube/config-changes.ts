/**
 * One signal for "the metallb.io configuration changed", raised by whichever
 * capability's Watch saw the event and consumed by the reconcilers, so neither
 * capability reaches into the other. Bursts (kubectl apply -f dir/) coalesce;
 * consumers hear at once that a change is pending, so they can hold decisions
 * that the change might invalidate (an address from a pool being deleted).
 */
export interface ConfigListener {
  /** A change was seen; the re-read follows once the burst settles. */
  pending?: () => void;
  changed: () => void;
}

const listeners: ConfigListener[] = [];
let timer: NodeJS.Timeout | undefined;
const settleMs = 200;

export function onConfigChanged(listener: ConfigListener): void {
  listeners.push(listener);
}

/** Labels as one comparable string, whatever their order. */
const labelsFingerprint = (labels: Record<string, string>): string => JSON.stringify(Object.entries(labels).sort());

export interface ConfigObjectLike {
  metadata?: { uid?: string; generation?: number; labels?: Record<string, string> };
}

/**
 * Does this watch event change the configuration? Not when only the status moved: the
 * allocator writes IPAddressPool status after allocations, and treating that as a
 * configuration change would hold every allocation for a re-read each time. With the
 * status subresource, spec edits bump metadata.generation; labels do not, but pools are
 * selected by label (ipAddressPoolSelectors), so they count too. `seen` (uid -> what was
 * last seen) is updated.
 */
export function isConfigChange(seen: Map<string, string>, obj: ConfigObjectLike, deleted: boolean): boolean {
  const uid = obj.metadata?.uid;
  const generation = obj.metadata?.generation;
  if (!uid || generation === undefined) return true;
  if (deleted) {
    seen.delete(uid);
    return true;
  }
  const fingerprint = `${generation}|${labelsFingerprint(obj.metadata?.labels ?? {})}`;
  if (seen.get(uid) === fingerprint) return false;
  seen.set(uid, fingerprint);
  return true;
}

const seenConfig = new Map<string, string>();

/** A Watch callback for every configuration kind: (object, phase) as Pepr passes them. */
export function configChanged(obj?: ConfigObjectLike, phase?: string): void {
  if (obj && !isConfigChange(seenConfig, obj, phase === "DELETED")) return;
  listeners.forEach((l) => l.pending?.());
  clearTimeout(timer);
  timer = setTimeout(() => listeners.forEach((l) => l.changed()), settleMs);
}
