/**
 * Process-wide settings from the environment, read once. The same names are used
 * by the controller (pepr.env / Helm watcher.env) and the node agent (DaemonSet env).
 */
export interface Settings {
  /** Where configuration objects live; MetalLB users' YAML uses metallb-system. */
  namespace: string;
  /** Only Services with this spec.loadBalancerClass; undefined = only Services with none. */
  loadBalancerClass?: string;
  /** Honour node.kubernetes.io/exclude-from-external-load-balancers unless told not to. */
  ignoreExcludeLBLabel: boolean;
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  return {
    namespace: env.METALLB_NAMESPACE || "metallb-system",
    loadBalancerClass: env.METALLB_LOADBALANCER_CLASS || undefined,
    ignoreExcludeLBLabel: env.METALLB_IGNORE_EXCLUDE_LB === "true",
  };
}

export const settings: Settings = readSettings();
