/**
 * Decides what becomes of each Event a controller emits, so that a reconcile loop that
 * says the same thing a thousand times costs the API server a handful of writes and
 * the operator one line with a count. Pure: the clock and the name suffix are injected,
 * and the writes it asks for are carried out by event-recorder.ts.
 *
 * - One Event object per (object, type, reason, component, message): a repeat within
 *   `windowMs` of the last one raises its `count` and `lastTimestamp` (a PATCH), a repeat
 *   after a longer silence starts a new Event.
 * - Different messages for the same (object, type, reason, component): once more than
 *   `maxMessages` distinct ones were seen without a pause of `windowMs`, every further one
 *   goes to a single Event whose message is "(combined from similar events): <newest>".
 * - A token bucket per object (`burst`, one more token every `refillMs`) bounds the writes.
 *   A new Event beyond it is dropped. A repeat of an Event already written is never lost
 *   from its count: its write waits for the next token (`takeDue`), and carries the count
 *   and newest message as they are by then.
 * - Every table is an LRU of at most `maxKeys` entries: memory stays bounded whatever
 *   the cluster throws at it.
 *
 * Only `count`, `firstTimestamp` and `lastTimestamp` are written, never `series`: the
 * readers of core/v1 Events (`kubectl get events`, `kubectl describe`) show `count` over
 * first..last, while `series` belongs to the events.k8s.io/v1 scheme (with `eventTime`,
 * `action` and `reportingController`), where the API server validates it together with
 * those fields. Writing both would double the bookkeeping for no reader.
 */
import { randomBytes } from "node:crypto";
import { Lru } from "../lru";

export type EventType = "Normal" | "Warning";

/** The object an Event is about. */
export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  name: string;
  /** Absent for cluster-scoped objects (their Events go to "default"). */
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}

export interface EventInput {
  object: InvolvedObject;
  type: EventType;
  reason: string;
  message: string;
  component: string;
}

export interface AggregatorOptions {
  /** A repeat later than this after the last one starts a new Event. */
  windowMs: number;
  /** Distinct messages per (object, type, reason, component) before they are combined. */
  maxMessages: number;
  /** Writes an object may have at once... */
  burst: number;
  /** ...and one more every refillMs. */
  refillMs: number;
  /** Bound on each table (Events remembered, message groups, objects rate-limited). */
  maxKeys: number;
  /** `reportingInstance` on every Event (the pod or node name). */
  instance: string;
}

export const DEFAULT_AGGREGATOR_OPTIONS: AggregatorOptions = {
  windowMs: 10 * 60_000,
  maxMessages: 10,
  burst: 25,
  refillMs: 5 * 60_000,
  maxKeys: 4096,
  instance: "",
};

export const COMBINED_PREFIX = "(combined from similar events): ";

/** One Event object as we last meant it to be. */
export interface EventRecord {
  readonly objectKey: string;
  readonly input: EventInput;
  /** metadata.name of the Event object (a new one after the API lost it). */
  name: string;
  readonly namespace: string;
  message: string;
  count: number;
  firstMs: number;
  lastMs: number;
  /** The Event exists on the API server, as far as we know. */
  written: boolean;
  /** Changed since the body of the last write was taken. */
  dirty: boolean;
  queued: boolean;
  inFlight: boolean;
  /** Waiting for its object's next token. */
  deferred: boolean;
}

export interface EventWrite {
  /** POST a new Event, or merge-patch the existing one. */
  kind: "create" | "patch";
  namespace: string;
  name: string;
  body: Record<string, unknown>;
}

/** How a write ended: `missing` is a PATCH answered 404 (the Event expired or was deleted). */
export type WriteOutcome = "ok" | "missing" | "failed";

interface Group {
  lastMs: number;
  messages: Set<string>;
  combined: boolean;
}

interface Bucket {
  tokens: number;
  atMs: number;
}

const SEP = "\u0000";

/** The uid when known: a Service deleted and re-created under the same name is another object. */
export const objectKey = (o: InvolvedObject): string =>
  o.uid ?? `${o.apiVersion}${SEP}${o.kind}${SEP}${o.namespace ?? ""}${SEP}${o.name}`;

export class EventAggregator {
  readonly opts: AggregatorOptions;
  /** New Events dropped by the rate limit. */
  rateLimited = 0;
  private readonly deferred = new Set<EventRecord>();
  private readonly records: Lru<string, EventRecord>;
  private readonly groups: Lru<string, Group>;
  private readonly buckets: Lru<string, Bucket>;

  constructor(
    opts: Partial<AggregatorOptions> = {},
    private readonly now: () => number = Date.now,
    private readonly suffix: () => string = () => randomBytes(8).toString("hex"),
  ) {
    this.opts = { ...DEFAULT_AGGREGATOR_OPTIONS, ...opts };
    // A forgotten record must not linger in `deferred`, or that set would be the unbounded one.
    this.records = new Lru(this.opts.maxKeys, (_, r) => this.deferred.delete(r));
    this.groups = new Lru(this.opts.maxKeys);
    this.buckets = new Lru(this.opts.maxKeys);
  }

  /** Events remembered (for tests and the memory bound). */
  get size(): number {
    return this.records.size;
  }

  /**
   * Accounts one emitted Event. Returns the record when a write should be queued now;
   * undefined when a write already pending will carry it, it waits for a token, or it
   * was dropped.
   */
  observe(input: EventInput): EventRecord | undefined {
    const now = this.now();
    const obj = objectKey(input.object);
    const groupKey = [obj, input.type, input.reason, input.component].join(SEP);
    let group = this.groups.get(groupKey);
    if (!group || now - group.lastMs >= this.opts.windowMs) {
      group = { lastMs: now, messages: new Set(), combined: false };
      this.groups.set(groupKey, group);
    }
    group.lastMs = now;
    let key: string;
    let message: string;
    if (!group.combined && (group.messages.has(input.message) || group.messages.size < this.opts.maxMessages)) {
      group.messages.add(input.message);
      key = `${groupKey}${SEP}${input.message}`;
      message = input.message;
    } else {
      // From here on the group speaks through one Event with the newest message.
      group.combined = true;
      group.messages.clear();
      key = `${groupKey}\u0001combined`;
      message = `${COMBINED_PREFIX}${input.message}`;
    }

    const known = this.records.get(key);
    if (!known || now - known.lastMs >= this.opts.windowMs) {
      if (!this.take(obj, now)) {
        this.rateLimited++;
        return undefined;
      }
      const record: EventRecord = {
        objectKey: obj,
        input,
        name: this.eventName(input.object.name),
        namespace: input.object.namespace ?? "default",
        message,
        count: 1,
        firstMs: now,
        lastMs: now,
        written: false,
        dirty: true,
        queued: true,
        inFlight: false,
        deferred: false,
      };
      if (known) this.deferred.delete(known);
      this.records.set(key, record);
      return record;
    }
    known.count++;
    known.lastMs = now;
    known.message = message;
    known.dirty = true;
    return this.schedule(known, now);
  }

  /** Starts a write of `record`: its body as of now. */
  begin(record: EventRecord): EventWrite {
    record.queued = false;
    record.inFlight = true;
    record.dirty = false;
    const firstTimestamp = new Date(record.firstMs).toISOString();
    const lastTimestamp = new Date(record.lastMs).toISOString();
    if (record.written) {
      return {
        kind: "patch",
        namespace: record.namespace,
        name: record.name,
        body: { count: record.count, lastTimestamp, message: record.message },
      };
    }
    const { object, type, reason, component } = record.input;
    return {
      kind: "create",
      namespace: record.namespace,
      name: record.name,
      body: {
        apiVersion: "v1",
        kind: "Event",
        metadata: { name: record.name, namespace: record.namespace },
        involvedObject: {
          apiVersion: object.apiVersion,
          kind: object.kind,
          name: object.name,
          namespace: object.namespace,
          uid: object.uid,
          resourceVersion: object.resourceVersion,
        },
        type,
        reason,
        message: record.message,
        source: { component },
        reportingComponent: component,
        reportingInstance: this.opts.instance || component,
        firstTimestamp,
        lastTimestamp,
        count: record.count,
      },
    };
  }

  /**
   * A write of `record` ended. Returns the record when another write should be queued:
   * the Event changed meanwhile (and a token allows), or it vanished and is created again.
   * A failed write is not retried here: the next repeat carries its count.
   */
  finish(record: EventRecord, outcome: WriteOutcome): EventRecord | undefined {
    record.inFlight = false;
    if (outcome === "failed") {
      record.dirty = true;
      return undefined;
    }
    if (outcome === "missing") {
      // Expired (the API server's Event TTL) or deleted: a new object under a new name,
      // with the count so far. The same write, so no new token.
      record.written = false;
      record.name = this.eventName(record.input.object.name);
      record.queued = true;
      return record;
    }
    record.written = true;
    return record.dirty ? this.schedule(record, this.now()) : undefined;
  }

  /**
   * A failed write's retry is due: the record to queue again, unless another write
   * (queued, in flight or deferred) will carry it anyway or a later write got it out.
   */
  retry(record: EventRecord): EventRecord | undefined {
    if (record.queued || record.inFlight || record.deferred || !record.dirty) return undefined;
    record.queued = true;
    return record;
  }

  /** A queued write was dropped (the queue was full): the next repeat writes it. */
  unqueued(record: EventRecord): void {
    record.queued = false;
    record.dirty = true;
  }

  /** When the earliest deferred write gets its token; undefined if none waits. */
  nextDueMs(): number | undefined {
    let due: number | undefined;
    for (const r of this.deferred) {
      const b = this.buckets.get(r.objectKey);
      // A millisecond late, so rounding never leaves the bucket a hair short of its token.
      const at = b ? Math.ceil(b.atMs + Math.max(0, 1 - b.tokens) * this.opts.refillMs) + 1 : this.now();
      due = due === undefined ? at : Math.min(due, at);
    }
    return due;
  }

  /** The deferred writes whose object has a token again (each takes it). */
  takeDue(): EventRecord[] {
    const now = this.now();
    const due: EventRecord[] = [];
    for (const r of this.deferred) {
      if (!this.take(r.objectKey, now)) continue;
      this.deferred.delete(r);
      r.deferred = false;
      r.queued = true;
      due.push(r);
    }
    return due;
  }

  private schedule(record: EventRecord, now: number): EventRecord | undefined {
    if (record.queued || record.inFlight || record.deferred) return undefined; // that write will carry it
    if (!this.take(record.objectKey, now)) {
      record.deferred = true;
      this.deferred.add(record);
      return undefined;
    }
    record.queued = true;
    return record;
  }

  /** One token from the object's bucket, if it has one. */
  private take(obj: string, now: number): boolean {
    const b = this.buckets.get(obj) ?? { tokens: this.opts.burst, atMs: now };
    b.tokens = Math.min(this.opts.burst, b.tokens + (now - b.atMs) / this.opts.refillMs);
    b.atMs = now;
    this.buckets.set(obj, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  private eventName(objectName: string): string {
    return `${objectName}.${this.suffix()}`;
  }
}
