/**
 * A lab suite that needs root, network namespaces and some daemons: `describe` when every
 * requirement is met, else a skipped suite whose one skipped test says which one is not,
 * so a run without root reports why it tested less.
 */
import { existsSync } from "node:fs";
import { labSkipReason } from "./netlab";
import { BGPD, addonBuilt } from "./frr";

/** Skip reasons for common requirements (undefined when met). */
export const needs = {
  lab: (): string | undefined => labSkipReason(),
  frr: (): string | undefined =>
    existsSync(BGPD) ? undefined : "needs FRR (/usr/lib/frr/bgpd): run hack/install-deps.sh as root",
  addon: (): string | undefined => (addonBuilt() ? undefined : "needs the rawnet addon: run hack/build-native.sh"),
};

/** `describe`, or a skipped stand-in titled `title` naming the first unmet requirement. */
export function labDescribe(title: string, ...requirements: Array<() => string | undefined>): jest.Describe {
  for (const requirement of requirements) {
    const reason = requirement();
    if (reason === undefined) continue;
    describe(title, () => {
      it.skip(`skipped: ${reason}`, () => undefined);
    });
    return describe.skip;
  }
  return describe;
}
