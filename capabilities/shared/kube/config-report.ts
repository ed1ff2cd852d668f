/**
 * What the controller tells users about the configuration it runs on: the
 * ConfigurationState "controller" (`kubectl get configurationstates`), one condition for
 * the pools and one for the L2/BGP objects, and a Warning Event on each disabled object
 * (`kubectl describe bgpadvertisement ...`), once per change of its errors.
 */
import { GROUP, KINDS } from "../../../crds/types/kinds";
import { LIST_OF, type DisabledObject } from "../config/resolve";
import type { ConfigSnapshot } from "./config-store";
import { reportConfigurationState, type StateCondition } from "./configuration-state";
import { recordEvent } from "./events";

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

/** The controller's ConfigurationState conditions for a snapshot. */
export function controllerConditions(snapshot: ConfigSnapshot): StateCondition[] {
  const pools = snapshot.pools.disabled.flatMap(describeDisabled);
  const others = snapshot.resolution.disabled.filter((d) => d.kind !== "IPAddressPool").flatMap(describeDisabled);
  return [
    { type: "poolReconcilerValid", errors: pools },
    { type: "configReconcilerValid", errors: others },
  ];
}

const uidOf = (snapshot: ConfigSnapshot, d: DisabledObject): string | undefined =>
  ((snapshot.input[LIST_OF[d.kind]] ?? []) as Array<{ metadata?: { name?: string; uid?: string } }>).find(
    (o) => o.metadata?.name === d.name,
  )?.metadata?.uid;

/** Writes the ConfigurationState and an Event per newly disabled object (or per new errors). */
export class ConfigReporter {
  private eventsSent = new Map<string, string>();

  constructor(
    private readonly namespace: string,
    private readonly log: (msg: string, extra?: Record<string, unknown>) => void,
  ) {}

  async report(snapshot: ConfigSnapshot): Promise<void> {
    const byId = new Map<string, DisabledObject>();
    for (const d of [...snapshot.pools.disabled, ...snapshot.resolution.disabled]) byId.set(`${d.kind}/${d.name}`, d);
    const sent = new Map<string, string>();
    for (const [id, d] of byId) {
      const lines = describeDisabled(d);
      const text = lines.join("\n");
      sent.set(id, text);
      if (this.eventsSent.get(id) === text) continue;
      this.log("configuration object disabled", { object: id, errors: lines });
      if (d.name !== "")
        void recordEvent(
          {
            apiVersion: `${GROUP}/${KINDS[d.kind].version}`,
            kind: d.kind,
            metadata: { name: d.name, namespace: this.namespace, uid: uidOf(snapshot, d) },
          },
          "Warning",
          "InvalidConfiguration",
          text,
          "metallb-controller",
        );
    }
    this.eventsSent = sent;
    await reportConfigurationState("controller", controllerConditions(snapshot));
  }
}
