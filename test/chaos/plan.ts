/**
 * The seeded plan of a chaos run: for each round, the user's actions (Service
 * bursts, configuration edits) and one fault. Pure and deterministic: the same
 * seed and round count give the same plan. The rounds that SIGKILL the watcher
 * and restart the API server are drawn up front, so their counts are exact.
 */
import { formatAddr, type Family } from "./ip";
import { Rng } from "./rng";
import {
  DANGLING,
  NAMESPACE_NAMES,
  POOLS,
  INITIAL_TEAM,
  firstOf,
  poolLayout,
  type Dangling,
  type Team,
} from "./scenario";

export type Stack = "v4" | "v6" | "require-dual" | "prefer-dual";

export interface ServiceSpec {
  name: string;
  namespace: string;
  stack: Stack;
  /** metallb.io/loadBalancerIPs (one address, single-stack Services only). */
  requestIP?: string;
  /** metallb.io/address-pool */
  pool?: string;
  /** metallb.io/allow-shared-ip */
  shareKey?: string;
  port: number;
  /** A loadBalancerClass that is not ours. */
  foreign?: boolean;
}

export type Action =
  | { kind: "create-services"; services: ServiceSpec[] }
  | { kind: "delete-services"; keys: string[] }
  /** New request annotations on a live Service (undefined removes them). */
  | { kind: "set-request"; key: string; requestIP?: string; pool?: string }
  | { kind: "resize-pool"; pool: string; size: number }
  | { kind: "delete-pool"; pool: string }
  | { kind: "create-pool"; pool: string; size: number }
  | { kind: "select-team"; team: Team }
  | { kind: "overlap"; present: boolean }
  | { kind: "dangling"; what: Dangling; broken: boolean };

export type Fault =
  | { kind: "none" }
  /** SIGKILL before API step `atStep` (plus delayMs); restart at once or after the round's steps. */
  | { kind: "kill-watcher"; atStep: number; delayMs: number; restart: "at-once" | "after-steps" }
  | { kind: "restart-apiserver"; atStep: number; signal: "SIGTERM" | "SIGKILL" }
  /** From step `atStep`, the proxy answers `status` for `ms` (optionally cutting the watcher's streams first). */
  | { kind: "proxy-errors"; atStep: number; status: 429 | 500; ms: number; cut: boolean }
  | { kind: "proxy-cut"; atStep: number };

export interface RoundPlan {
  round: number;
  actions: Action[];
  fault: Fault;
}

export interface Quotas {
  kills: number;
  apiRestarts: number;
}

/** Fault quotas for a run: at least 30 watcher kills and 5 API server restarts in 200 rounds. */
export function quotas(rounds: number): Quotas {
  return { kills: Math.ceil(rounds * 0.155), apiRestarts: Math.ceil(rounds * 0.03) };
}

/** API requests an action makes: the unit fault positions count in. */
export function stepsOf(a: Action): number {
  if (a.kind === "create-services") return a.services.length;
  if (a.kind === "delete-services") return a.keys.length;
  return 1;
}

const keyOf = (s: ServiceSpec): string => `${s.namespace}/${s.name}`;

/** What the planner remembers between rounds so that every action makes sense. */
interface PlannerState {
  counter: number;
  live: Map<string, ServiceSpec>;
  sizes: Map<string, number>;
  exists: Map<string, boolean>;
  team: Team;
  overlap: boolean;
  broken: Map<Dangling, boolean>;
}

/** Live Services kept around this many: enough to fill the pools, few enough to list fast. */
const TARGET_LIVE = 28;

function newService(rng: Rng, st: PlannerState): ServiceSpec {
  const name = `s${++st.counter}`;
  const namespace = rng.pick(NAMESPACE_NAMES);
  const stack = rng.weighted<Stack>([
    ["v4", 4],
    ["v6", 2],
    ["require-dual", 2],
    ["prefer-dual", 2],
  ]);
  const spec: ServiceSpec = { name, namespace, stack, port: rng.pick([80, 443, 8080]) };
  const flavour = rng.weighted([
    ["plain", 5],
    ["request", 2],
    ["pool", 2],
    ["share", 2],
    ["foreign", 1],
  ] as const);
  if (flavour === "foreign") spec.foreign = true;
  if (flavour === "pool")
    spec.pool = rng.weighted([
      ["pool-b", 4],
      ["pool-a", 1],
      ["pool-ns", 1],
    ] as const);
  if (flavour === "share") {
    spec.shareKey = rng.pick(["share-1", "share-2"]);
    if (stack === "require-dual" || stack === "prefer-dual") spec.stack = "v4";
  }
  if (flavour === "request" || (flavour === "share" && rng.chance(0.3))) {
    if (spec.stack === "require-dual" || spec.stack === "prefer-dual") spec.stack = rng.pick(["v4", "v6"] as const);
    const family: Family = spec.stack === "v6" ? 6 : 4;
    const wanted = requestAddress(rng, st, family);
    spec.requestIP = wanted.ip;
    if (rng.chance(0.3)) spec.pool = wanted.pool;
  }
  return spec;
}

/** An address to ask for and its pool: mostly inside the pool's current range, sometimes just past it. */
function requestAddress(rng: Rng, st: PlannerState, family: Family): { ip: string; pool: string } {
  const layout = poolLayout(
    rng.weighted([
      ["pool-a", 3],
      ["pool-b", 1],
      ["pool-ns", 1],
    ] as const),
  );
  const size = st.sizes.get(layout.name)!;
  const offset = rng.chance(0.85) ? rng.int(0, size - 1) : size + rng.int(0, 2);
  const first = firstOf(layout, family);
  return { ip: formatAddr({ family, value: first.value + BigInt(offset) }), pool: layout.name };
}

function createBurst(rng: Rng, st: PlannerState, min: number, max: number): Action {
  const services = Array.from({ length: rng.int(min, max) }, () => newService(rng, st));
  for (const s of services) st.live.set(keyOf(s), s);
  return { kind: "create-services", services };
}

function deleteBurst(rng: Rng, st: PlannerState, min: number, max: number): Action | undefined {
  const keys = rng.shuffle([...st.live.keys()]).slice(0, rng.int(min, max));
  if (keys.length === 0) return undefined;
  for (const k of keys) st.live.delete(k);
  return { kind: "delete-services", keys };
}

function setRequest(rng: Rng, st: PlannerState): Action | undefined {
  const candidates = [...st.live.values()].filter((s) => !s.foreign && (s.stack === "v4" || s.stack === "v6"));
  if (candidates.length === 0) return undefined;
  const s = rng.pick(candidates);
  const family: Family = s.stack === "v6" ? 6 : 4;
  const next: { requestIP?: string; pool?: string } = rng.weighted([
    [{}, 1],
    [{ requestIP: requestAddress(rng, st, family).ip }, 2],
    [{ pool: rng.pick(["pool-a", "pool-b", "pool-ns"]) }, 1],
  ] as const);
  s.requestIP = next.requestIP;
  s.pool = next.pool;
  return { kind: "set-request", key: keyOf(s), ...next };
}

/** One configuration edit, drawn among those possible in the current state. */
function configEdit(rng: Rng, st: PlannerState, touched: { poolA: boolean; overlap: boolean }): Action {
  const existing = POOLS.filter((p) => st.exists.get(p.name));
  // The overlapping pool must stay the newer of the two (it is the object to blame): pool-a is
  // neither deleted nor recreated while it exists, nor in the round it is created.
  const deletable = existing.filter((p) => !(p.name === "pool-a" && (st.overlap || touched.overlap)));
  const creatable = POOLS.filter(
    (p) => !st.exists.get(p.name) && !(p.name === "pool-a" && (st.overlap || touched.overlap)),
  );
  const overlapPossible = st.exists.get("pool-a") === true && !touched.poolA;
  const choices: Array<readonly [() => Action, number]> = [
    [() => dangling(rng, st), 2],
    [() => selectTeam(st), 1],
  ];
  if (existing.length) choices.push([() => resize(rng, st, rng.pick(existing).name), 4]);
  if (deletable.length) choices.push([() => deletePool(rng.pick(deletable).name, st, touched), 1.5]);
  if (creatable.length) choices.push([() => createPool(rng.pick(creatable).name, st, touched), 1.5]);
  if (overlapPossible) choices.push([() => toggleOverlap(st, touched), 1]);
  return rng.weighted(choices)();
}

function dangling(rng: Rng, st: PlannerState): Action {
  const what = rng.pick(DANGLING);
  const broken = !st.broken.get(what);
  st.broken.set(what, broken);
  return { kind: "dangling", what, broken };
}

function selectTeam(st: PlannerState): Action {
  st.team = st.team === "blue" ? "green" : "blue";
  return { kind: "select-team", team: st.team };
}

function resize(rng: Rng, st: PlannerState, pool: string): Action {
  const layout = poolLayout(pool);
  let size = rng.int(layout.minSize, layout.maxSize);
  if (size === st.sizes.get(pool)) size = size === layout.maxSize ? layout.minSize : size + 1;
  st.sizes.set(pool, size);
  return { kind: "resize-pool", pool, size };
}

function deletePool(pool: string, st: PlannerState, touched: { poolA: boolean }): Action {
  st.exists.set(pool, false);
  if (pool === "pool-a") touched.poolA = true;
  return { kind: "delete-pool", pool };
}

function createPool(pool: string, st: PlannerState, touched: { poolA: boolean }): Action {
  st.exists.set(pool, true);
  if (pool === "pool-a") touched.poolA = true;
  return { kind: "create-pool", pool, size: st.sizes.get(pool)! };
}

function toggleOverlap(st: PlannerState, touched: { overlap: boolean }): Action {
  st.overlap = !st.overlap;
  touched.overlap = true;
  return { kind: "overlap", present: st.overlap };
}

function roundActions(rng: Rng, st: PlannerState, needsBurst: boolean): Action[] {
  const actions: Action[] = [];
  const touched = { poolA: false, overlap: false };
  // A burst in every round that kills the watcher; most others have one too.
  if (needsBurst || rng.chance(0.8)) actions.push(createBurst(rng, st, needsBurst ? 3 : 1, 6));
  const deleteCount = st.live.size > TARGET_LIVE ? rng.int(3, 6) : rng.int(0, 3);
  if (deleteCount) {
    const d = deleteBurst(rng, st, Math.min(deleteCount, 1), deleteCount);
    if (d) actions.push(d);
  }
  const editCount = rng.weighted([
    [0, 3],
    [1, 4],
    [2, 2],
  ] as const);
  for (let i = 0; i < editCount; i++) actions.push(configEdit(rng, st, touched));
  if (rng.chance(0.25)) {
    const r = setRequest(rng, st);
    if (r) actions.push(r);
  }
  // Service actions and configuration edits interleave at random, each kind in the order it
  // was drawn (a Service is created before its request is edited; a pool resized before it is deleted).
  const services = actions.filter(isServiceAction);
  const edits = actions.filter((a) => !isServiceAction(a));
  const merged: Action[] = [];
  while (services.length || edits.length) {
    const fromServices =
      edits.length === 0 || (services.length > 0 && rng.chance(services.length / (services.length + edits.length)));
    merged.push((fromServices ? services : edits).shift()!);
  }
  return merged;
}

const isServiceAction = (a: Action): boolean =>
  a.kind === "create-services" || a.kind === "delete-services" || a.kind === "set-request";

/** A position inside the round's steps; for kills, strictly inside a Service burst. */
function faultStep(rng: Rng, actions: Action[], insideBurst: boolean): number {
  const total = actions.reduce((n, a) => n + stepsOf(a), 0);
  if (!insideBurst) return rng.int(0, Math.max(0, total - 1));
  let at = 0;
  const inside: number[] = [];
  for (const a of actions) {
    const n = stepsOf(a);
    if (a.kind === "create-services" || a.kind === "delete-services") for (let i = 1; i < n; i++) inside.push(at + i);
    at += n;
  }
  return inside.length ? rng.pick(inside) : rng.int(0, Math.max(0, total - 1));
}

export function planRun(seed: number, rounds: number): RoundPlan[] {
  const rng = new Rng(seed);
  const q = quotas(rounds);
  const order = rng.shuffle(Array.from({ length: rounds }, (_, i) => i + 1));
  const kills = new Set(order.slice(0, q.kills));
  const apiRestarts = new Set(order.slice(q.kills, q.kills + q.apiRestarts));
  const st: PlannerState = {
    counter: 0,
    live: new Map(),
    sizes: new Map(POOLS.map((p) => [p.name, p.initialSize])),
    exists: new Map(POOLS.map((p) => [p.name, true])),
    team: INITIAL_TEAM,
    overlap: false,
    broken: new Map(DANGLING.map((d) => [d, false])),
  };
  const plan: RoundPlan[] = [];
  for (let round = 1; round <= rounds; round++) {
    const kill = kills.has(round);
    const actions = roundActions(rng, st, kill);
    let fault: Fault = { kind: "none" };
    if (kill)
      fault = {
        kind: "kill-watcher",
        atStep: faultStep(rng, actions, true),
        delayMs: rng.int(0, 150),
        restart: rng.chance(0.5) ? "at-once" : "after-steps",
      };
    else if (apiRestarts.has(round))
      fault = {
        kind: "restart-apiserver",
        atStep: faultStep(rng, actions, false),
        signal: rng.chance(0.5) ? "SIGTERM" : "SIGKILL",
      };
    else if (rng.chance(0.15)) {
      const atStep = faultStep(rng, actions, false);
      fault = rng.chance(0.75)
        ? {
            kind: "proxy-errors",
            atStep,
            status: rng.chance(0.5) ? 429 : 500,
            ms: rng.int(1000, 3000),
            cut: rng.chance(0.5),
          }
        : { kind: "proxy-cut", atStep };
    }
    plan.push({ round, actions, fault });
  }
  return plan;
}

export function describeAction(a: Action): string {
  const svc = (s: ServiceSpec): string =>
    [
      `${s.namespace}/${s.name}:${s.stack}`,
      s.requestIP && `ip=${s.requestIP}`,
      s.pool && `pool=${s.pool}`,
      s.shareKey && `share=${s.shareKey}`,
      s.foreign && "foreign",
      `port=${s.port}`,
    ]
      .filter(Boolean)
      .join(",");
  switch (a.kind) {
    case "create-services":
      return `create[${a.services.map(svc).join(" ")}]`;
    case "delete-services":
      return `delete[${a.keys.join(" ")}]`;
    case "set-request":
      return `set-request ${a.key} ip=${a.requestIP ?? "-"} pool=${a.pool ?? "-"}`;
    case "resize-pool":
      return `resize ${a.pool} to ${a.size}`;
    case "delete-pool":
      return `delete-pool ${a.pool}`;
    case "create-pool":
      return `create-pool ${a.pool} size ${a.size}`;
    case "select-team":
      return `pool-ns selects team=${a.team}`;
    case "overlap":
      return a.present ? "create overlapping pool" : "delete overlapping pool";
    case "dangling":
      return `${a.broken ? "break" : "repair"} ${a.what}`;
  }
}

export function describeFault(f: Fault): string {
  switch (f.kind) {
    case "none":
      return "no fault";
    case "kill-watcher":
      return `SIGKILL watcher before step ${f.atStep} (+${f.delayMs} ms), restart ${f.restart}`;
    case "restart-apiserver":
      return `restart kube-apiserver (${f.signal}) before step ${f.atStep}`;
    case "proxy-errors":
      return `proxy answers ${f.status} for ${f.ms} ms from step ${f.atStep}${f.cut ? ", streams cut" : ""}`;
    case "proxy-cut":
      return `proxy cuts the watcher's streams before step ${f.atStep}`;
  }
}
