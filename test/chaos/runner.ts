/**
 * Runs chaos rounds against the system: carries out each round's actions and fault,
 * waits until the system settles, then checks the invariants over every Service.
 *
 * Settled means: the watcher runs, no fault window is open, every state-only
 * invariant (1, 2, 5) holds on the suite's live view, and no Service changed for
 * `quietMs`; or the round's deadline passed (then whatever is still wrong is
 * reported). The check itself reads every Service with a fresh list.
 */
import { ApiError, type KubeClient } from "./kube-client";
import { type Held, type Invariant, type SeenEvent, type Violation, checkRound, settledProblems } from "./invariants";
import {
  PATHS,
  advUnknownAlias,
  advUsingAlias,
  communityManifest,
  overlapManifest,
  peerBase,
  peerMissingBfd,
  poolManifest,
  serviceManifest,
} from "./manifests";
import { type ConfigModel, type ServiceView, applyEdit, initialConfig, viewOf } from "./model";
import { Observer, type ObjectMeta } from "./observer";
import { type Action, type RoundPlan, describeAction, describeFault, stepsOf } from "./plan";
import {
  ADV_UNKNOWN_ALIAS,
  COMMUNITY,
  INITIAL_TEAM,
  NAMESPACES,
  OVERLAP_POOL,
  PEER_MISSING_BFD,
  POOLS,
  SERVICE_LABEL,
} from "./scenario";
import type { ChaosSystem } from "./system";

export interface RunnerOptions {
  /** No Service change for this long (with the state invariants holding) counts as settled. */
  quietMs: number;
  /** Longest wait for a round to settle; rounds with a restart get `restartDeadlineMs`. */
  deadlineMs: number;
  restartDeadlineMs: number;
  /** SIGTERM'd API server: time to drain before SIGKILL. */
  apiServerGraceMs: number;
  log: (line: string) => void;
}

export interface RoundFailure {
  invariant: Invariant | "crash";
  services: string[];
  message: string;
}

export interface RoundResult {
  round: number;
  ms: number;
  settleMs: number;
  timedOut: boolean;
  failures: RoundFailure[];
  /** Every Service as the check read it, kept only for a failing round (chaos-report.json). */
  services?: string[];
}

type ServiceObject = ObjectMeta & Parameters<typeof viewOf>[0];
interface EventObject extends ObjectMeta {
  involvedObject: { kind?: string; namespace?: string; name?: string };
  reason?: string;
  type?: string;
  message?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const heldOf = (v: ServiceView): Held => ({ ips: v.ips, pool: v.allocatedFrom });
const sameHeld = (a: Held | undefined, b: Held): boolean =>
  a !== undefined && a.pool === b.pool && a.ips.length === b.ips.length && a.ips.every((ip, i) => ip === b.ips[i]);

/** Transient API trouble right after an API server restart is retried; real errors are not. */
async function retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const status = (err as ApiError).status;
      const transient = status === undefined || status === 429 || status >= 500;
      if (!transient || attempt >= 20) throw new Error(`${what}: ${(err as Error).message}`);
      await sleep(250);
    }
  }
}

export class ChaosRunner {
  private config: ConfigModel;
  private seq = POOLS.length;
  private services!: Observer<ServiceObject>;
  private events!: Observer<EventObject>;
  private lastChangeAt = Date.now();
  /** Per Service, the states seen since recording began (the current round). */
  private timeline = new Map<string, Held[]>();
  private lastHeld = new Map<string, Held>();
  /** Per Service, the Events seen created or updated, with when. */
  private seenEvents = new Map<string, Array<SeenEvent & { at: number }>>();
  /** The newest Event seen on each Service, quoted in failures. */
  private readonly lastEvent = new Map<string, string>();
  /** State problems (invariants 1, 2, 5) the last check found. */
  private reported = new Set<string>();
  /** Each Service's state after the previous round's check. */
  private start = new Map<string, Held>();

  constructor(
    private readonly sys: ChaosSystem,
    private readonly opts: RunnerOptions,
  ) {
    this.config = initialConfig(POOLS, INITIAL_TEAM);
  }

  private get client(): KubeClient {
    return this.sys.client;
  }

  /** Namespaces, the initial configuration, and the suite's own watches. */
  async setup(): Promise<void> {
    for (const [name, labels] of Object.entries(NAMESPACES))
      await this.client
        .create("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name, labels } })
        .catch(ignore(409));
    for (const p of POOLS) await this.client.create(PATHS.pools, poolManifest(p.name, p.initialSize, INITIAL_TEAM));
    await this.client.create(PATHS.communities, communityManifest());
    await this.client.create(PATHS.bgpAdvertisements, advUsingAlias());
    await this.client.create(PATHS.bgpPeers, peerBase());
    this.services = new Observer<ServiceObject>(
      this.client,
      `/api/v1/services?labelSelector=${SERVICE_LABEL}%3D1`,
      (key, now) => {
        this.lastChangeAt = Date.now();
        if (!now) return;
        const held = heldOf(viewOf(now));
        if (sameHeld(this.lastHeld.get(key), held)) return;
        this.lastHeld.set(key, held);
        this.timeline.set(key, [...(this.timeline.get(key) ?? []), held]);
      },
    );
    this.events = new Observer<EventObject>(
      this.client,
      "/api/v1/events?fieldSelector=involvedObject.kind%3DService",
      (_key, now) => {
        if (!now?.involvedObject?.name) return;
        const key = `${now.involvedObject.namespace}/${now.involvedObject.name}`;
        const list = this.seenEvents.get(key) ?? [];
        list.push({ reason: now.reason ?? "", type: now.type ?? "", message: now.message ?? "", at: Date.now() });
        this.seenEvents.set(key, list);
        this.lastEvent.set(key, `${now.reason}: ${now.message}`);
      },
    );
    await Promise.all([this.services.start(), this.events.start()]);
  }

  async close(): Promise<void> {
    await Promise.all([this.services?.stop(), this.events?.stop()]);
  }

  /** One API step of an action (a Service burst is one step per Service). */
  private steps(a: Action): Array<() => Promise<void>> {
    const c = this.client;
    const edit = (fn: () => Promise<unknown>) => [async () => void (await retrying(describeAction(a), fn))];
    switch (a.kind) {
      case "create-services":
        return a.services.map((s) => async () => {
          await retrying(`create ${s.namespace}/${s.name}`, () =>
            c.create(PATHS.services(s.namespace), serviceManifest(s)).catch(ignore(409)),
          );
        });
      case "delete-services":
        return a.keys.map((key) => async () => {
          const [ns, name] = key.split("/");
          await retrying(`delete ${key}`, () => c.remove(`${PATHS.services(ns)}/${name}`));
        });
      case "set-request":
        return edit(() => {
          const [ns, name] = a.key.split("/");
          this.requestChanged.add(a.key);
          return c.mergePatch(`${PATHS.services(ns)}/${name}`, {
            metadata: {
              annotations: {
                "metallb.io/loadBalancerIPs": a.requestIP ?? null,
                "metallb.io/address-pool": a.pool ?? null,
              },
            },
          });
        });
      case "resize-pool":
        return edit(async () => {
          const pool = POOLS.find((p) => p.name === a.pool)!;
          const body = poolManifest(pool.name, a.size, this.config.team) as { spec: { addresses: string[] } };
          await c.mergePatch(`${PATHS.pools}/${a.pool}`, { spec: { addresses: body.spec.addresses } });
          this.edit(a);
        });
      case "delete-pool":
        return edit(async () => {
          await c.remove(`${PATHS.pools}/${a.pool}`);
          this.edit(a);
        });
      case "create-pool":
        return edit(async () => {
          await c.create(PATHS.pools, poolManifest(a.pool, a.size, this.config.team)).catch(ignore(409));
          this.edit(a);
        });
      case "select-team":
        return edit(async () => {
          const selecting = POOLS.filter((p) => p.selectsTeam && this.config.pools.some((m) => m.name === p.name));
          for (const p of selecting)
            await c.mergePatch(`${PATHS.pools}/${p.name}`, {
              spec: { serviceAllocation: { priority: 10, namespaceSelectors: [{ matchLabels: { team: a.team } }] } },
            });
          this.edit(a);
        });
      case "overlap":
        return edit(async () => {
          if (a.present) await c.create(PATHS.pools, overlapManifest()).catch(ignore(409));
          else await c.remove(`${PATHS.pools}/${OVERLAP_POOL.name}`);
          this.edit(a);
        });
      case "dangling":
        return edit(async () => {
          if (a.what === "adv-unknown-alias")
            await (a.broken
              ? c.create(PATHS.bgpAdvertisements, advUnknownAlias()).catch(ignore(409))
              : c.remove(`${PATHS.bgpAdvertisements}/${ADV_UNKNOWN_ALIAS}`));
          else if (a.what === "peer-missing-bfd")
            await (a.broken
              ? c.create(PATHS.bgpPeers, peerMissingBfd()).catch(ignore(409))
              : c.remove(`${PATHS.bgpPeers}/${PEER_MISSING_BFD}`));
          else
            await (a.broken
              ? c.remove(`${PATHS.communities}/${COMMUNITY.name}`)
              : c.create(PATHS.communities, communityManifest()).catch(ignore(409)));
        });
    }
  }

  private configs: ConfigModel[] = [];
  /** The configuration states of the two rounds before this one. */
  private earlierConfigs: ConfigModel[][] = [];
  private requestChanged = new Set<string>();

  private edit(a: Parameters<typeof applyEdit>[1]): void {
    this.config = applyEdit(this.config, a, ++this.seq);
    this.configs.push(this.config);
  }

  /** Waits for the initial configuration to be served before round 1. */
  async settleInitial(): Promise<void> {
    await this.settle(this.opts.deadlineMs);
    await this.snapshotStart();
  }

  async runRound(plan: RoundPlan): Promise<RoundResult> {
    const began = Date.now();
    this.configs = [this.config];
    this.requestChanged = new Set();
    const failures: RoundFailure[] = [];
    const steps = plan.actions.flatMap((a) => this.steps(a));
    const f = plan.fault;
    let killed: Promise<void> | undefined;
    let faultEnds = 0;
    // The fault goes in before step `faultAt` (before nothing, for a round without steps).
    const faultAt = "atStep" in f ? Math.min(f.atStep, Math.max(0, steps.length - 1)) : -1;
    for (let i = 0; i < Math.max(steps.length, 1); i++) {
      if (i === faultAt) {
        if (f.kind === "kill-watcher") {
          killed = sleep(f.delayMs).then(() => this.sys.watcher.kill());
          if (f.restart === "at-once") {
            await killed;
            await this.restartWatcher(failures, false);
            killed = undefined;
          }
        } else if (f.kind === "restart-apiserver") {
          const r = await this.sys.restartApiServer(f.signal, this.opts.apiServerGraceMs);
          this.opts.log(`  kube-apiserver back after ${r.downMs} ms`);
        } else if (f.kind === "proxy-errors") {
          if (f.cut) this.sys.proxy.cutStreams();
          this.sys.proxy.failFor(f.status, f.ms);
          faultEnds = Date.now() + f.ms;
        } else if (f.kind === "proxy-cut") this.sys.proxy.cutStreams();
      }
      if (i < steps.length) await steps[i]();
    }
    if (killed) {
      await killed;
      await this.restartWatcher(failures, false);
    }
    while (Date.now() < faultEnds) await sleep(50);
    // The quiet period counts from the last action at the earliest: a configuration edit
    // changes no Service at once, but the watcher may still act on it.
    this.lastChangeAt = Math.max(this.lastChangeAt, Date.now());
    const restarted = f.kind === "kill-watcher" || f.kind === "restart-apiserver";
    const settleStarted = Date.now();
    const timedOut = !(await this.settle(restarted ? this.opts.restartDeadlineMs : this.opts.deadlineMs, failures));
    const settleMs = Date.now() - settleStarted;
    failures.push(...(await this.check(began)));
    const services = failures.length ? this.lastFinal.map(describeView) : undefined;
    return { round: plan.round, ms: Date.now() - began, settleMs, timedOut, failures, services };
  }

  private async restartWatcher(failures: RoundFailure[], crashed: boolean): Promise<void> {
    if (crashed)
      failures.push({
        invariant: "crash",
        services: [],
        message: `the watcher exited on its own; see ${this.sys.watcher.logPath}`,
      });
    const ms = await this.sys.watcher.start();
    this.opts.log(`  watcher restarted, ready in ${ms} ms`);
  }

  /** True when settled, false when the deadline passed first. */
  private async settle(deadlineMs: number, failures: RoundFailure[] = []): Promise<boolean> {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      if (!this.sys.watcher.running) await this.restartWatcher(failures, true);
      const views = [...this.services.objects.values()].map(viewOf);
      const quiet = Date.now() - this.lastChangeAt >= this.opts.quietMs;
      // Problems the last check already reported, and nothing has changed since, are not waited for again.
      const fresh = settledProblems(views, this.config).filter((p) => !this.reported.has(p.message));
      if (quiet && !this.sys.proxy.failing && fresh.length === 0) return true;
      if (Date.now() > deadline) return false;
      await sleep(100);
    }
  }

  private async listViews(): Promise<ServiceView[]> {
    const list = await retrying("list Services", () =>
      this.client.get<{ items: ServiceObject[] }>(`/api/v1/services?labelSelector=${SERVICE_LABEL}%3D1`),
    );
    return list.items.map(viewOf);
  }

  private lastFinal: ServiceView[] = [];

  private async check(began: number): Promise<RoundFailure[]> {
    const final = await this.listViews();
    this.lastFinal = final;
    const observe = () => ({
      final,
      start: this.start,
      timeline: this.timeline,
      configs: this.configs,
      earlierConfigs: this.earlierConfigs.flat(),
      requestChanged: this.requestChanged,
      events: new Map([...this.seenEvents].map(([k, list]) => [k, list.filter((e) => e.at >= began)])),
    });
    let violations: Violation[] = checkRound(observe());
    // An Event is written in the background, after the status: give a missing one a moment.
    for (let i = 0; i < 20 && violations.some((v) => v.message.includes("no Event")); i++) {
      await sleep(150);
      violations = checkRound(observe());
    }
    this.reported = new Set(settledProblems(final, this.config).map((p) => p.message));
    this.startNextRound(final);
    this.earlierConfigs = [...this.earlierConfigs, this.configs].slice(-2);
    // What the controller itself last said about each Service involved.
    return violations.map((v) => {
      const said = v.services.flatMap((k) =>
        this.lastEvent.has(k) ? [`${k}: ${this.lastEvent.get(k)!.slice(0, 200)}`] : [],
      );
      return said.length ? { ...v, message: `${v.message} [last Event ${said.join("; ")}]` } : v;
    });
  }

  private startNextRound(final: ServiceView[]): void {
    this.start = new Map(final.map((v) => [v.key, heldOf(v)]));
    this.timeline = new Map();
    this.lastHeld = new Map(final.map((v) => [v.key, heldOf(v)]));
    // Events older than a few rounds can no longer matter.
    const horizon = Date.now() - 120_000;
    for (const [k, list] of this.seenEvents) {
      const recent = list.filter((e) => e.at >= horizon);
      if (recent.length) this.seenEvents.set(k, recent);
      else this.seenEvents.delete(k);
    }
  }

  private async snapshotStart(): Promise<void> {
    this.startNextRound(await this.listViews());
  }

  /** Lines that describe a round's plan, for the log. */
  static describe(plan: RoundPlan, total: number): string[] {
    const steps = plan.actions.reduce((n, a) => n + stepsOf(a), 0);
    return [
      `round ${plan.round}/${total}: ${describeFault(plan.fault)}; ${steps} steps`,
      ...plan.actions.map((a) => `  - ${describeAction(a)}`),
    ];
  }
}

const ignore =
  (status: number) =>
  (err: unknown): undefined => {
    if ((err as ApiError).status !== status) throw err;
    return undefined;
  };

/** One line per Service for the report: what it asks for and what it shows. */
const describeView = (v: ServiceView): string =>
  [
    v.key,
    `${v.policy}/${v.families.map((f) => `v${f}`).join("")}`,
    v.foreign && "foreign",
    v.pool && `pool=${v.pool}`,
    v.requested && "requested",
    v.shareKey && `key=${v.shareKey}`,
    v.ports.join(","),
    `-> ${v.ips.join(",") || "none"}`,
    v.allocatedFrom && `from ${v.allocatedFrom}`,
  ]
    .filter(Boolean)
    .join(" ");
