/**
 * No admission answer without a reason a person can act on.
 *
 * When a Validate callback throws, Pepr 1.1.4 denies with code 500 and the message
 * "Action failed with error: " + JSON.stringify(error), which is "{}" for every Error.
 * Our callbacks catch what they expect; this is the net under them. Each binding's
 * callback is wrapped so a throw becomes:
 * - for a Service (its webhook fails open anyway): an admission with a warning, since the
 *   reconciler checks the Service again and reports through Events;
 * - for a metallb.io object (fail-closed): a denial naming the object and the cause,
 *   saying that nothing changed and what to do.
 */
import type { Capability, PeprValidateRequest } from "pepr";

type ValidateCallback = (req: PeprValidateRequest<never>, logger?: unknown) => Promise<unknown>;
interface GuardedBinding {
  kind: { group: string; kind: string };
  validateCallback?: ValidateCallback;
}

/** A readable cause for anything thrown: Errors, API errors ({status, body/message}), strings. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === "string") return err;
  if (err && typeof err === "object") {
    const e = err as { message?: unknown; status?: unknown; statusText?: unknown; data?: { message?: unknown } };
    const text = [e.status, e.statusText, e.data?.message ?? e.message].filter((x) => x !== undefined && x !== "");
    if (text.length) return text.map(String).join(" ");
    const json = JSON.stringify(err);
    if (json && json !== "{}") return json;
  }
  return `unknown error (${String(err)})`;
}

const failsOpen = (kind: GuardedBinding["kind"]) => kind.group === "" && kind.kind === "Service";

/** The callback, answering instead of throwing. Exported for tests. */
export function guardValidate(kind: GuardedBinding["kind"], callback: ValidateCallback): ValidateCallback {
  const guarded: ValidateCallback = async (req, logger) => {
    try {
      return await callback(req, logger);
    } catch (err) {
      const r = req as unknown as PeprValidateRequest<{ metadata?: { name?: string; namespace?: string } }>;
      const meta = r.Request?.operation === "DELETE" ? r.OldResource?.metadata : r.Raw?.metadata;
      const name = meta?.namespace ? `${meta.namespace}/${meta.name ?? ""}` : (meta?.name ?? "");
      const why = describeError(err);
      if (failsOpen(kind)) {
        return r.Approve([
          `metallb-pepr could not check ${kind.kind} "${name}" (${why}); admitted unchecked: ` +
            "if its address request cannot be met, the Service gets an Event saying why",
        ]);
      }
      return r.Deny(
        `${kind.kind} "${name}": metallb-pepr could not check this change (${why}); nothing was changed. ` +
          "Retry in a moment; if it persists, see the logs of the pepr-metallb-pepr pods in pepr-system",
        500,
      );
    }
  };
  // Pepr logs a binding by its callback's name.
  Object.defineProperty(guarded, "name", { value: callback.name });
  return guarded;
}

/** Wraps every Validate binding of the capabilities in place (before PeprModule sees them). */
export function guardAdmission(capabilities: Capability[]): void {
  for (const cap of capabilities) {
    const bindings = cap.bindings as unknown as GuardedBinding[];
    bindings.forEach((b, i) => {
      if (b.validateCallback) bindings[i] = { ...b, validateCallback: guardValidate(b.kind, b.validateCallback) };
    });
  }
}
