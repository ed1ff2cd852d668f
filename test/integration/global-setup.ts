import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { acquireDevLock, repoRoot, startControlPlane, startModule } from "../harness/local-cluster";

/** Ports away from `npm start`'s defaults, so tests can run beside a local session. */
export const testCluster = { stateDir: join(repoRoot, ".lab", "test-cluster"), apiPort: 16443, etcdPort: 12379 };

export default async function globalSetup(): Promise<void> {
  await acquireDevLock(); // held until global teardown: runs on one machine take turns
  mkdirSync(testCluster.stateDir, { recursive: true });
  const cluster = await startControlPlane(testCluster);
  process.env.KUBECONFIG = cluster.kubeconfig;
  process.env.KUBECTL = cluster.kubectl;
  writeFileSync(join(testCluster.stateDir, "env.json"), JSON.stringify(cluster));
  await startModule(cluster);
}
