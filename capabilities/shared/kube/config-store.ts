/**
 * The one configuration store: one list+watch per metallb.io kind in the configuration
 * namespace, one resolution per change (resolveConfig: a bad object disables only
 * itself), published to every consumer. The controller (allocator, L2 election, BGP
 * planning) and the node agent each run one; nothing else reads or parses the
 * configuration on its own.
 *
 * Choices:
 * - Nothing is published until every kind has been listed once: a consumer never
 *   decides on a partial configuration (no pools yet would release every address).
 * - Watch events reach consumers at once as `pending` (the allocator holds decisions
 *   that the change could invalidate, such as handing out an address from a pool being
 *   deleted); the resolution follows once a burst (`kubectl apply -f dir/`) settles.
 * - Status-only updates are not changes: the allocator writes IPAddressPool status as
 *   it allocates, and treating that as a change would hold allocation each time.
 * - Each object's last accepted version is kept (in memory), so a bad edit falls back to
 *   it instead of withdrawing what worked; the pools the allocator runs on are resolved
 *   on their own, so no L2 or BGP object can affect allocation.
 */
import { GROUP, KINDS } from "../../../crds/types/kinds";
import type { ConfigInput, ConfigKind, NamedLabels } from "../config";
import { resolveConfig, resolvePools, LIST_OF, type LastGood, type Resolution } from "../config/resolve";
import { isConfigChange } from "./config-changes";
import { Informer, type CacheEvent, type KubeObject, type ListWatchClient } from "./informer";

export interface ConfigSnapshot {
  /** Counts publications, from 1. */
  readonly version: number;
  /** The raw objects (as listed), for consumers that need metadata such as generations. */
  readonly input: ConfigInput;
  /** The whole model: L2 election, BGP planning, the agent. */
  readonly resolution: Resolution;
  /** The pools alone: allocation. */
  readonly pools: Resolution;
}

export interface ConfigStoreListener {
  /** A change was seen; its resolution follows once the burst settles. */
  pending?(): void;
  changed(snapshot: ConfigSnapshot): void;
}

export interface ConfigStoreOptions {
  log?: (msg: string) => void;
  /** How long a burst of changes may keep arriving before it is resolved. */
  settleMs?: number;
  /** Node names and labels, when the caller knows them: selector overlaps are then judged against real nodes. */
  nodes?: () => NamedLabels[];
  /** Pools Services hold addresses from: of two conflicting pools, the one in use stays (resolve.ts). */
  poolsInUse?: () => readonly string[];
}

const KIND_NAMES = Object.keys(LIST_OF) as ConfigKind[];

export class ConfigStore {
  private readonly informers: Array<readonly [ConfigKind, Informer<KubeObject>]>;
  private readonly listeners: ConfigStoreListener[] = [];
  private snapshot?: ConfigSnapshot;
  private lastGood: LastGood = new Map();
  private lastGoodPools: LastGood = new Map();
  private timer?: NodeJS.Timeout;
  private readonly synced: Promise<ConfigSnapshot>;
  private markSynced: (s: ConfigSnapshot) => void = () => {};

  constructor(
    client: ListWatchClient,
    private readonly namespace: string,
    private readonly opts: ConfigStoreOptions = {},
  ) {
    const seen = new Map<string, string>();
    const onCacheChange = (event?: CacheEvent<KubeObject>): void => {
      if (event && !isConfigChange(seen, event.object, event.type === "DELETED")) return;
      this.changedSoon();
    };
    this.informers = KIND_NAMES.map((kind) => {
      const info = KINDS[kind];
      const path = `/apis/${GROUP}/${info.version}/namespaces/${namespace}/${info.plural}`;
      return [kind, new Informer<KubeObject>(client, path, onCacheChange, opts.log)] as const;
    });
    this.synced = new Promise((resolve) => (this.markSynced = resolve));
  }

  subscribe(listener: ConfigStoreListener): void {
    this.listeners.push(listener);
  }

  start(): void {
    for (const [, informer] of this.informers) informer.start();
  }

  stop(): void {
    clearTimeout(this.timer);
    for (const [, informer] of this.informers) informer.stop();
  }

  /** Resolves with the first snapshot, once every kind has been listed. */
  whenSynced(): Promise<ConfigSnapshot> {
    return this.synced;
  }

  /** The newest snapshot; undefined until every kind has been listed. */
  current(): ConfigSnapshot | undefined {
    return this.snapshot;
  }

  /** Something the resolution reads besides the objects changed (node labels): resolve again soon. */
  refresh(): void {
    if (this.snapshot) this.changedSoon();
  }

  private get listed(): boolean {
    return this.informers.every(([, informer]) => informer.syncedAt > 0);
  }

  private changedSoon(): void {
    if (!this.listed) return;
    if (this.snapshot) for (const l of this.listeners) l.pending?.();
    clearTimeout(this.timer);
    // The first snapshot is published at once: start-up waits for it.
    if (!this.snapshot) return this.publish();
    this.timer = setTimeout(() => this.publish(), this.opts.settleMs ?? 100);
  }

  private publish(): void {
    const input: ConfigInput = { namespace: this.namespace };
    for (const [kind, informer] of this.informers)
      (input as unknown as Record<string, unknown[]>)[LIST_OF[kind]] = [...informer.items.values()];
    const poolsInUse = this.opts.poolsInUse?.();
    if (poolsInUse) input.poolsInUse = poolsInUse;
    const nodes = this.opts.nodes?.();
    const resolution = resolveConfig(nodes ? { ...input, nodes } : input, this.lastGood);
    const pools = resolvePools(input, this.lastGoodPools);
    this.lastGood = resolution.accepted;
    this.lastGoodPools = pools.accepted;
    const first = !this.snapshot;
    this.snapshot = { version: (this.snapshot?.version ?? 0) + 1, input, resolution, pools };
    if (first) this.markSynced(this.snapshot);
    for (const l of this.listeners) l.changed(this.snapshot);
  }
}
