/**
 * This node's ConfigurationState, `speaker-<node>` (MetalLB's name, labels and condition
 * type configReconcilerValid): what the agent found wrong in the configuration it acts
 * on, which the controller cannot see. Today that is the BGP password Secrets: the
 * agent reads them, the controller holds no right to. Written when the set of problems
 * changes, retried with back-off when the write fails.
 */
import { Backoff } from "../../shared/backoff";
import { GROUP, KINDS } from "../../../crds/types/kinds";
import type { AgentKube } from "./kube";

const CONDITION = "configReconcilerValid";

export class SpeakerState {
  /** Problem text by source (e.g. a BGPSession name); none means Valid. */
  private readonly problems = new Map<string, string>();
  private written?: string;
  private timer?: NodeJS.Timeout;
  private readonly backoff = new Backoff({ initialMs: 1000, maxMs: 60_000 });
  private stopped = false;
  /** Writes run one after another, so an older state never lands after a newer one. */
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly kube: AgentKube,
    private readonly node: string,
    private readonly namespace: string,
    private readonly log: (msg: string, extra?: Record<string, unknown>) => void,
  ) {}

  get name(): string {
    return `speaker-${this.node}`;
  }

  /** Records (or, with undefined, clears) the problem `source` has. */
  set(source: string, problem: string | undefined): void {
    if (problem === undefined ? !this.problems.delete(source) : this.problems.get(source) === problem) return;
    if (problem !== undefined) this.problems.set(source, problem);
    this.schedule(100);
  }

  /** Clears the problems of the sources under `prefix` that are not in `keep` (gone since). */
  retain(prefix: string, keep: ReadonlySet<string>): void {
    for (const source of [...this.problems.keys()])
      if (source.startsWith(prefix) && !keep.has(source)) this.set(source, undefined);
  }

  /** Writes the current state once now (the object exists from the agent's start on, as MetalLB's). */
  start(): void {
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flushing = this.flushing.then(() => this.flush());
    }, ms);
  }

  private async flush(): Promise<void> {
    const errors = [...this.problems.values()].sort();
    const fingerprint = JSON.stringify(errors);
    if (fingerprint === this.written) return;
    const base = `/apis/${GROUP}/${KINDS.ConfigurationState.version}/namespaces/${this.namespace}/${KINDS.ConfigurationState.plural}`;
    try {
      await this.kube
        .send("POST", base, {
          apiVersion: `${GROUP}/${KINDS.ConfigurationState.version}`,
          kind: "ConfigurationState",
          metadata: {
            name: this.name,
            namespace: this.namespace,
            labels: { "metallb.io/component-type": "speaker", "metallb.io/node-name": this.node },
          },
        })
        .catch((err: { status?: number }) => {
          if (err.status !== 409) throw err; // it exists: only its status changes
        });
      const valid = errors.length === 0;
      await this.kube.send(
        "PATCH",
        `${base}/${this.name}/status`,
        {
          status: {
            result: valid ? "Valid" : "Invalid",
            errorSummary: errors.join("\n"),
            conditions: [
              {
                type: CONDITION,
                status: valid ? "True" : "False",
                reason: valid ? "Reconciled" : "ConfigurationError",
                message: errors.join("\n").slice(0, 32_000),
                lastTransitionTime: new Date().toISOString(),
              },
            ],
          },
        },
        "application/merge-patch+json",
      );
      this.written = fingerprint;
      this.backoff.reset();
    } catch (err) {
      const delay = this.backoff.next();
      this.log(`ConfigurationState ${this.name}: write failed, retrying in ${delay} ms`, { err: String(err) });
      this.schedule(delay);
    }
  }
}
