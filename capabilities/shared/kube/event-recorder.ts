/**
 * Carries out the writes event-aggregator.ts asks for, off the caller's path: `record()`
 * returns at once, a bounded queue holds the writes (the oldest dropped when full) and a
 * few run at a time, so a burst of Events neither blocks a reconcile nor opens a socket
 * per Event next to the status writes that matter more. A write the API server could not
 * take (no answer, 429, 5xx) is tried again with jittered back-off for about half a
 * minute: an Event that says why an address moved must outlive an API server restart.
 * As soon as any write lands (an Event, or a status write its caller reports through
 * `apiTookWrite`), the writes waiting out their back-off go at once: the API
 * server is taking writes again, and the Event that says why an address moved should not
 * trail the move by the rest of a back-off step. Other failures are forgotten until the
 * Event happens again.
 */
import { Backoff } from "../backoff";
import { EventAggregator, type EventInput, type EventRecord, type WriteOutcome } from "./event-aggregator";

/** The slice of an API client the recorder needs (KubeHttp, or a fake in tests). */
export interface EventApi {
  send<T>(method: string, path: string, body?: unknown, contentType?: string, timeoutMs?: number): Promise<T>;
}

export interface RecorderOptions {
  /** Writes waiting at most; beyond it the oldest is dropped. */
  maxQueued: number;
  /** Writes in flight at most. */
  concurrency: number;
}

export const DEFAULT_RECORDER_OPTIONS: RecorderOptions = { maxQueued: 1024, concurrency: 4 };
/** A hung API server must not hold the few write slots forever. */
const WRITE_TIMEOUT_MS = 10_000;

const statusOf = (err: unknown): number | undefined => (err as { status?: number })?.status;
/** Tries of one write before it is left to the Event's next repeat. */
const MAX_ATTEMPTS = 8;
/** No answer (a connection refused or reset, a timeout), too many requests, or a server error. */
function retryable(err: unknown): boolean {
  const status = statusOf(err);
  if (status !== undefined) return status === 429 || status >= 500;
  const code = (err as { code?: unknown })?.code;
  return (typeof code === "string" && code.startsWith("E")) || /no answer within/.test(String(err));
}

export class EventRecorder {
  /** Writes dropped because the queue was full. */
  overflowed = 0;
  private readonly opts: RecorderOptions;
  private readonly queue: EventRecord[] = [];
  private active = 0;
  private timer?: NodeJS.Timeout;
  private timerAt = Infinity;
  private idleWaiters: Array<() => void> = [];
  /** Failed writes waiting for their retry, each with its timer. */
  private readonly waiting = new Map<EventRecord, NodeJS.Timeout>();
  /** How often each failed write was tried, and its back-off. */
  private readonly attempts = new WeakMap<EventRecord, { n: number; backoff: Backoff }>();

  /** `api` is called per write, so a client that cannot be built fails that write only. */
  constructor(
    private readonly api: () => EventApi,
    readonly aggregator: EventAggregator = new EventAggregator(),
    opts: Partial<RecorderOptions> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.opts = { ...DEFAULT_RECORDER_OPTIONS, ...opts };
  }

  /** Never throws and never waits: the Event is written (or not) in the background. */
  record(input: EventInput): void {
    const record = this.aggregator.observe(input);
    if (record) this.enqueue(record);
    this.armTimer();
  }

  /** Resolves once nothing is queued or in flight (deferred writes aside). */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.active === 0 && this.waiting.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * The API server just took a write (one of ours, or a caller's status write): the writes
   * waiting out their back-off go now.
   */
  apiTookWrite(): void {
    for (const record of [...this.waiting.keys()]) this.retryNow(record);
  }

  private enqueue(record: EventRecord): void {
    if (this.queue.length >= this.opts.maxQueued) {
      this.aggregator.unqueued(this.queue.shift()!);
      this.overflowed++;
    }
    this.queue.push(record);
    this.pump();
  }

  private pump(): void {
    while (this.active < this.opts.concurrency && this.queue.length > 0) {
      this.active++;
      void this.write(this.queue.shift()!);
    }
    if (this.queue.length === 0 && this.active === 0 && this.waiting.size === 0)
      for (const w of this.idleWaiters.splice(0)) w();
  }

  private async write(record: EventRecord): Promise<void> {
    const w = this.aggregator.begin(record);
    const base = `/api/v1/namespaces/${encodeURIComponent(w.namespace)}/events`;
    let outcome: WriteOutcome;
    let retry = false;
    try {
      if (w.kind === "create") await this.api().send("POST", base, w.body, undefined, WRITE_TIMEOUT_MS);
      else {
        const path = `${base}/${encodeURIComponent(w.name)}`;
        await this.api().send("PATCH", path, w.body, "application/merge-patch+json", WRITE_TIMEOUT_MS);
      }
      outcome = "ok";
    } catch (err) {
      const status = statusOf(err);
      if (w.kind === "patch" && status === 404) outcome = "missing";
      else if (w.kind === "create" && status === 409)
        outcome = "ok"; // an earlier try got through after all
      else {
        outcome = "failed";
        retry = retryable(err);
      }
    }
    this.active--;
    const again = this.aggregator.finish(record, outcome);
    if (outcome === "failed" && retry) this.retryLater(record);
    else this.attempts.delete(record);
    if (again) this.enqueue(again);
    else this.pump();
    if (outcome === "ok") this.apiTookWrite();
    this.armTimer();
  }

  private retryLater(record: EventRecord): void {
    let a = this.attempts.get(record);
    if (!a) this.attempts.set(record, (a = { n: 0, backoff: new Backoff({ initialMs: 500, maxMs: 10_000 }) }));
    if (++a.n >= MAX_ATTEMPTS) {
      this.attempts.delete(record);
      return;
    }
    const timer = setTimeout(() => this.retryNow(record), a.backoff.next());
    timer.unref();
    this.waiting.set(record, timer);
  }

  private retryNow(record: EventRecord): void {
    clearTimeout(this.waiting.get(record));
    this.waiting.delete(record);
    const again = this.aggregator.retry(record);
    if (again) this.enqueue(again);
    else this.pump();
  }

  /** One timer, for the earliest deferred write; unref'd so it never holds the process. */
  private armTimer(): void {
    const due = this.aggregator.nextDueMs();
    if (due === undefined || due >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = due;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Infinity;
        for (const r of this.aggregator.takeDue()) this.enqueue(r);
        this.armTimer();
      },
      Math.max(0, due - this.now()),
    );
    this.timer.unref();
  }
}
