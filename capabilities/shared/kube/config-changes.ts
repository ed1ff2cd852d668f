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

export function configChanged(): void {
  listeners.forEach((l) => l.pending?.());
  clearTimeout(timer);
  timer = setTimeout(() => listeners.forEach((l) => l.changed()), settleMs);
}
