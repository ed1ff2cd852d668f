import { releaseDevLock, stopControlPlane, stopModule } from "../harness/local-cluster";
import { testCluster } from "./global-setup";

export default async function globalTeardown(): Promise<void> {
  if (!process.env.KEEP_TEST_CLUSTER) {
    await stopModule(testCluster.stateDir);
    await stopControlPlane(testCluster.stateDir);
  } // else left running for debugging a failed run
  releaseDevLock();
}
