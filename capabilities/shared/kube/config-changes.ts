/**
 * One signal for "the metallb.io configuration changed", raised by whichever
 * capability's Watch saw the event and consumed by the reconcilers, so neither
 * capability reaches into the other. Bursts (kubectl apply -f dir/) coalesce.
 */
type Listener = () => void;

const listeners: Listener[] = [];
let timer: NodeJS.Timeout | undefined;
const settleMs = 200;

export function onConfigChanged(listener: Listener): void {
  listeners.push(listener);
}

export function configChanged(): void {
  clearTimeout(timer);
  timer = setTimeout(() => listeners.forEach((l) => l()), settleMs);
}
