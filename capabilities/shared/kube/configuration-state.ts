/**
 * ConfigurationState objects: configuration errors visible with
 * `kubectl get configurationstates`, not only in logs (MetalLB's shape).
 */
import { K8s } from "kubernetes-fluent-client";
import { ConfigurationState } from "../../../crds/register";
import { settings } from "../settings";
import { recordConfigResult } from "./config-metrics";

let lastReported = new Map<string, string>();

/** Writes Valid (no errors) or Invalid with the messages; skips writes that change nothing. */
export async function reportConfigurationState(name: string, conditionType: string, errors: string[]): Promise<void> {
  recordConfigResult(name, errors.length === 0);
  const fingerprint = JSON.stringify(errors);
  if (lastReported.get(name) === fingerprint) return;
  const now = new Date().toISOString();
  const valid = errors.length === 0;
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
        result: valid ? "Valid" : "Invalid",
        errorSummary: errors.join("\n"),
        conditions: [
          {
            type: conditionType,
            status: valid ? "True" : "False",
            reason: valid ? "Reconciled" : "ConfigurationError",
            message: valid ? "" : errors.join("\n").slice(0, 32000),
            lastTransitionTime: now,
          },
        ],
      },
    });
    lastReported = new Map(lastReported).set(name, fingerprint);
  } catch {
    // Reporting must not stop reconciling; the next configuration event retries.
  }
}
