/**
 * The announcer's controller side as it runs in the watcher (or `pepr dev`):
 * L2 owner election and BGP session planning, each in its own module.
 */
import { startL2Election } from "./l2/controller";
import { startSessionPlanner } from "./bgp/controller";

export async function startAnnouncer(): Promise<void> {
  await startL2Election();
  await startSessionPlanner();
}
