/**
 * ConfigurationState objects: configuration errors visible with
 * `kubectl get configurationstates`, not only in logs (MetalLB's shape).
 */
import { K8s } from "kubernetes-fluent-client";
import { ConfigurationState } from "../../../crds/register";
import { settings } from "../settings";
import { recordConfigResult } from "./config-metrics";

let lastReported = new Map<string, string>();

export interface StateCondition {
  /** CamelCase, as MetalLB's: poolReconcilerValid, configReconcilerValid. */
  type: string;
  /** User-facing messages; none means the condition holds. */
  errors: string[];
}

/** Writes Valid (no errors) or Invalid with the messages, one condition per type; skips writes that change nothing. */
export async function reportConfigurationState(name: string, conditions: StateCondition[]): Promise<void> {
  const all = conditions.flatMap((c) => c.errors);
  recordConfigResult(name, all.length === 0);
  const fingerprint = JSON.stringify(conditions);
  if (lastReported.get(name) === fingerprint) return;
  const now = new Date().toISOString();
  try {
    await K8s(ConfigurationState).Apply(
      {
        metadata: {
          name,
          namespace: settings.namespace,
          labels: { "metallb.io/component-type": name.startsWith("speaker") ? "speaker" : "controller" },
        },
      },
      { force: true },
    );
    await K8s(ConfigurationState).PatchStatus({
      metadata: { name, namespace: settings.namespace },
      status: {
        result: all.length === 0 ? "Valid" : "Invalid",
        errorSummary: all.join("\n"),
        conditions: conditions.map((c) => ({
          type: c.type,
          status: c.errors.length === 0 ? "True" : "False",
          reason: c.errors.length === 0 ? "Reconciled" : "ConfigurationError",
          message: c.errors.join("\n").slice(0, 32000),
          lastTransitionTime: now,
        })),
      },
    });
    lastReported = new Map(lastReported).set(name, fingerprint);
  } catch {
    // Reporting must not stop reconciling; the next configuration change retries.
  }
}
