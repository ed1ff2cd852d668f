/**
 * What the controller tells users about the configuration it runs on, after each
 * resolution by the configuration store:
 * - the ConfigurationState "controller" (`kubectl get configurationstates`), one
 *   condition for the pools and one for the L2/BGP objects, a line per error;
 * - a `Valid` condition in each configuration object's own status, False with the
 *   reason while it is disabled (`kubectl get bgpadvertisement x -o yaml`);
 * - a Warning Event on each disabled object, once per change of its errors, and a Normal
 *   Event (and a log line) when it is in force again.
 * The decisions are pure (controllerConditions, validityUpdates); ConfigReporter writes.
 */
import type { Condition } from "../../../crds/types";
import { GROUP, KINDS } from "../../../crds/types/kinds";
import type { ConfigKind } from "../config";
import { LIST_OF, objectId, type DisabledObject } from "../config/resolve";
import type { ConfigSnapshot } from "./config-store";
import { reportConfigurationState, type StateCondition } from "./configuration-state";
import { recordEvent } from "./events";
import { kubeHttp } from "./http";

const CONSEQUENCE: Record<DisabledObject["fallback"], (d: DisabledObject) => string> = {
  none: (d) => `${d.kind} ${JSON.stringify(d.name)} is disabled until fixed; everything else keeps working`,
  lastGood: (d) => `${d.kind} ${JSON.stringify(d.name)} keeps its last valid version until fixed`,
  frozen: (d) =>
    `IPAddressPool ${JSON.stringify(d.name)} hands out no new addresses until fixed; Services keep the addresses they hold`,
};

/** One line per error of a disabled object, saying what happens meanwhile. */
export function describeDisabled(d: DisabledObject): string[] {
  return d.errors.map((e) => `${e.message} (${CONSEQUENCE[d.fallback](d)})`);
}

/** Every disabled object once: pools as the allocator resolves them, the rest as the full model does. */
export function disabledObjects(snapshot: ConfigSnapshot): DisabledObject[] {
  return [...snapshot.pools.disabled, ...snapshot.resolution.disabled.filter((d) => d.kind !== "IPAddressPool")];
}

/** The controller's ConfigurationState conditions for a snapshot. */
export function controllerConditions(snapshot: ConfigSnapshot): StateCondition[] {
  const disabled = disabledObjects(snapshot);
  return [
    {
      type: "poolReconcilerValid",
      errors: disabled.filter((d) => d.kind === "IPAddressPool").flatMap(describeDisabled),
    },
    {
      type: "configReconcilerValid",
      errors: disabled.filter((d) => d.kind !== "IPAddressPool").flatMap(describeDisabled),
    },
  ];
}

interface StatusHolder {
  metadata?: { name?: string; uid?: string; generation?: number };
  status?: { conditions?: Condition[] };
}

export interface ValidityUpdate {
  kind: ConfigKind;
  name: string;
  condition: Condition;
}

/**
 * The `Valid` conditions to write: one per object whose status does not already say
 * what is true now. lastTransitionTime moves only when the status flips.
 */
export function validityUpdates(snapshot: ConfigSnapshot, now: string): ValidityUpdate[] {
  const disabled = new Map(disabledObjects(snapshot).map((d) => [objectId(d.kind, d.name), d]));
  const out: ValidityUpdate[] = [];
  for (const kind of Object.keys(LIST_OF) as ConfigKind[]) {
    for (const obj of (snapshot.input[LIST_OF[kind]] ?? []) as StatusHolder[]) {
      const name = obj.metadata?.name ?? "";
      if (name === "") continue;
      const d = disabled.get(objectId(kind, name));
      const want = d
        ? {
            status: "False" as const,
            reason: "InvalidConfiguration",
            message: describeDisabled(d).join("\n").slice(0, 32000),
          }
        : { status: "True" as const, reason: "InForce", message: "" };
      const have = obj.status?.conditions?.find((c) => c.type === "Valid");
      // observedGeneration tells a restarted controller which spec was judged (resolve.ts).
      const observedGeneration = obj.metadata?.generation;
      if (
        have &&
        have.status === want.status &&
        have.reason === want.reason &&
        have.message === want.message &&
        have.observedGeneration === observedGeneration
      )
        continue;
      const since = have && have.status === want.status ? have.lastTransitionTime : now;
      out.push({ kind, name, condition: { type: "Valid", ...want, observedGeneration, lastTransitionTime: since } });
    }
  }
  return out;
}

const uidOf = (snapshot: ConfigSnapshot, d: Pick<DisabledObject, "kind" | "name">): string | undefined =>
  ((snapshot.input[LIST_OF[d.kind]] ?? []) as StatusHolder[]).find((o) => o.metadata?.name === d.name)?.metadata?.uid;

/**
 * Objects that were disabled and are in force again (fixed, or what they referred to has
 * arrived, as when `kubectl apply -f dir/` sends an advertisement before its Community):
 * the warning a user saw deserves its answer. Objects deleted meanwhile are not reported.
 */
export function restoredObjects(
  wasDisabled: Iterable<string>,
  snapshot: ConfigSnapshot,
): Array<{ kind: ConfigKind; name: string }> {
  const now = new Set(disabledObjects(snapshot).map((d) => objectId(d.kind, d.name)));
  const out: Array<{ kind: ConfigKind; name: string }> = [];
  for (const id of wasDisabled) {
    if (now.has(id)) continue;
    const slash = id.indexOf("/");
    const kind = id.slice(0, slash) as ConfigKind;
    const name = id.slice(slash + 1);
    const exists = ((snapshot.input[LIST_OF[kind]] ?? []) as StatusHolder[]).some((o) => o.metadata?.name === name);
    if (name !== "" && exists) out.push({ kind, name });
  }
  return out;
}

/** Writes the ConfigurationState, each object's Valid condition and an Event per newly disabled object. */
export class ConfigReporter {
  private eventsSent = new Map<string, string>();

  constructor(
    private readonly namespace: string,
    private readonly log: (msg: string, extra?: Record<string, unknown>) => void,
    private readonly info: (msg: string, extra?: Record<string, unknown>) => void = log,
  ) {}

  async report(snapshot: ConfigSnapshot): Promise<void> {
    const sent = new Map<string, string>();
    for (const d of disabledObjects(snapshot)) {
      const id = objectId(d.kind, d.name);
      const lines = describeDisabled(d);
      const text = lines.join("\n");
      sent.set(id, text);
      if (this.eventsSent.get(id) === text) continue;
      this.log("configuration object disabled", { object: id, errors: lines });
      if (d.name !== "") this.eventOn(snapshot, d, "Warning", "InvalidConfiguration", text);
    }
    for (const r of restoredObjects(this.eventsSent.keys(), snapshot)) {
      this.info("configuration object back in force", { object: objectId(r.kind, r.name) });
      const message = `${r.kind} ${JSON.stringify(r.name)} is valid and in force again`;
      this.eventOn(snapshot, r, "Normal", "ConfigurationInForce", message);
    }
    this.eventsSent = sent;
    await Promise.all([
      reportConfigurationState("controller", controllerConditions(snapshot)),
      ...validityUpdates(snapshot, new Date().toISOString()).map((u) => this.writeValidity(u)),
    ]);
  }

  /** An Event on a configuration object, from the controller. */
  private eventOn(
    snapshot: ConfigSnapshot,
    o: Pick<DisabledObject, "kind" | "name">,
    type: "Normal" | "Warning",
    reason: string,
    message: string,
  ): void {
    const involved = {
      apiVersion: `${GROUP}/${KINDS[o.kind].version}`,
      kind: o.kind,
      metadata: { name: o.name, namespace: this.namespace, uid: uidOf(snapshot, o) },
    };
    void recordEvent(involved, type, reason, message, "metallb-controller");
  }

  private async writeValidity({ kind, name, condition }: ValidityUpdate): Promise<void> {
    const info = KINDS[kind];
    try {
      await kubeHttp().mergePatch(
        `/apis/${GROUP}/${info.version}/namespaces/${this.namespace}/${info.plural}/${name}/status`,
        {
          status: { conditions: [condition] },
        },
      );
    } catch (err) {
      // Gone meanwhile, or the API server is away: the next resolution writes it again,
      // since the cached status still differs.
      this.log("writing an object's Valid condition failed", { object: objectId(kind, name), err: String(err) });
    }
  }
}
