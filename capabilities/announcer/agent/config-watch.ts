/**
 * The metallb.io configuration as the agent sees it: the same configuration store the
 * controller runs (shared/kube/config-store.ts: one list+watch per kind, one
 * resolution per change, a bad object disables only itself), on the agent's client.
 * A change to a BGPAdvertisement or Community reaches the routes within one watch event.
 *
 * Namespaces are not watched: they only resolve IPAddressPool namespaceSelectors, which
 * matter to allocation (the controller), not to what a node announces.
 */
import type { ParseResult } from "../../shared/config";
import { ConfigStore } from "../../shared/kube/config-store";
import type { AgentKube } from "./kube";

export class ConfigWatch {
  private readonly store: ConfigStore;
  private lastReport = "";

  constructor(
    kube: AgentKube,
    namespace: string,
    onChange: () => void,
    private readonly log: (msg: string) => void,
  ) {
    this.store = new ConfigStore(kube, namespace, { log });
    this.store.subscribe({ changed: () => onChange() });
  }

  /** Every kind has been listed at least once. */
  get synced(): boolean {
    return this.store.current() !== undefined;
  }

  /**
   * The configuration in force; undefined until synced. Always usable: objects that are
   * invalid are left out of it (the controller reports them in ConfigurationState and
   * Events; the agent logs them once per change).
   */
  current(): ParseResult | undefined {
    const snapshot = this.store.current();
    if (!snapshot) return undefined;
    const { config, disabled, warnings } = snapshot.resolution;
    const report = disabled.flatMap((d) => d.errors.map((e) => e.message)).join("; ");
    if (report !== this.lastReport && report !== "")
      this.log(`configuration objects disabled (the rest is in force): ${report}`);
    this.lastReport = report;
    return { ok: true, config, warnings };
  }

  start(): void {
    this.store.start();
  }

  stop(): void {
    this.store.stop();
  }
}
