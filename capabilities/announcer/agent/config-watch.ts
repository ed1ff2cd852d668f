/**
 * The metallb.io configuration as the agent sees it: one list+watch per kind in the
 * configuration namespace, parsed with the same parser the controller uses. A change to a
 * BGPAdvertisement or Community reaches the routes within one watch event, not a poll.
 *
 * Namespaces are not watched: they only resolve IPAddressPool namespaceSelectors, which
 * matter to allocation (the controller), not to what a node announces.
 */
import { GROUP, KINDS, type KindInfo } from "../../../crds/types/kinds";
import { parseConfig, type ConfigInput, type ParseResult } from "../../shared/config";
import { isConfigChange } from "../../shared/kube/config-changes";
import { Informer, type CacheEvent, type KubeObject } from "../../shared/kube/informer";
import type { AgentKube } from "./kube";

type ConfigField = Exclude<keyof ConfigInput, "namespace" | "nodes" | "namespaces" | "secrets">;

const WATCHED: ReadonlyArray<readonly [ConfigField, KindInfo]> = [
  ["pools", KINDS.IPAddressPool],
  ["l2Advertisements", KINDS.L2Advertisement],
  ["bgpAdvertisements", KINDS.BGPAdvertisement],
  ["bgpPeers", KINDS.BGPPeer],
  ["bfdProfiles", KINDS.BFDProfile],
  ["communities", KINDS.Community],
];

export class ConfigWatch {
  private readonly informers: Array<readonly [ConfigField, Informer<KubeObject>]>;
  private parsed?: ParseResult;

  constructor(
    kube: AgentKube,
    private readonly namespace: string,
    private readonly onChange: () => void,
    log: (msg: string) => void,
  ) {
    // The controller writes IPAddressPool status as it allocates: a status-only update
    // (same generation and labels) changes nothing here, and must not re-plan every route.
    const seen = new Map<string, string>();
    const changed = (event?: CacheEvent<KubeObject>): void => {
      if (event && !isConfigChange(seen, event.object, event.type === "DELETED")) return;
      this.parsed = undefined;
      if (this.synced) this.onChange();
    };
    this.informers = WATCHED.map(
      ([field, k]) => [field, new Informer<KubeObject>(kube, `/apis/${GROUP}/${k.version}/namespaces/${namespace}/${k.plural}`, changed, log)] as const,
    );
  }

  /** Every kind has been listed at least once. */
  get synced(): boolean {
    return this.informers.every(([, inf]) => inf.syncedAt > 0);
  }

  /** The parsed configuration (cached until the next change); undefined until synced. */
  current(): ParseResult | undefined {
    if (!this.synced) return undefined;
    if (!this.parsed) {
      const input: ConfigInput = { namespace: this.namespace };
      for (const [field, inf] of this.informers) (input as unknown as Record<string, unknown[]>)[field] = [...inf.items.values()];
      this.parsed = parseConfig(input);
    }
    return this.parsed;
  }

  start(): void {
    for (const [, inf] of this.informers) inf.start();
  }

  stop(): void {
    for (const [, inf] of this.informers) inf.stop();
  }
}
