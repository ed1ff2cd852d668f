/**
 * `metallb-pepr manifests`: the install-time objects (install-manifests.ts) as YAML, for
 * installs that do not apply the manifest `npm run build` writes: after `npx pepr deploy`,
 * or to feed a GitOps repository or a kustomization.
 */
import { stringify } from "yaml";
import { readSettings } from "../settings";
import { agentOptions } from "./agent-manifests";
import { installManifests } from "./install-manifests";

export const MANIFESTS_USAGE = `usage: metallb-pepr manifests [--agent-image IMAGE] [--no-lease-policy]
  Prints the namespace, the metallb.io CRDs, the controller's Role in the configuration
  namespace, the node agent and its Lease policy as YAML, for kubectl apply --server-side -f -.
  IMAGE defaults to $METALLB_AGENT_IMAGE or the agent image of this version; the namespace
  is $METALLB_NAMESPACE or metallb-system. --no-lease-policy leaves out the
  ValidatingAdmissionPolicy (clusters older than Kubernetes 1.30).`;

export class UsageError extends Error {}

export function renderInstallManifests(argv: readonly string[], env: NodeJS.ProcessEnv): string {
  const o = { ...agentOptions(readSettings(env), env), leasePolicy: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--agent-image") {
      const image = argv[++i];
      if (!image) throw new UsageError(`--agent-image needs a value\n${MANIFESTS_USAGE}`);
      o.image = image;
    } else if (a === "--no-lease-policy") o.leasePolicy = false;
    else throw new UsageError(`unknown argument ${a}\n${MANIFESTS_USAGE}`);
  }
  return installManifests(o)
    .map((obj) => stringify(obj, { lineWidth: 0, aliasDuplicateObjects: false }))
    .join("---\n");
}
