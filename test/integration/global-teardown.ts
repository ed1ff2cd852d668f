import { stopControlPlane, stopModule } from "../harness/local-cluster";
import { testCluster } from "./global-setup";

export default async function globalTeardown(): Promise<void> {
  if (process.env.KEEP_TEST_CLUSTER) return; // for debugging a failed run
  await stopModule(testCluster.stateDir);
  await stopControlPlane(testCluster.stateDir);
}
