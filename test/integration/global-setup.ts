import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { acquireDevLock, repoRoot, startControlPlane, startModule } from "../harness/local-cluster";

const run = promisify(execFile);

/** Ports away from `npm start`'s defaults, so tests can run beside a local session. */
export const testCluster = { stateDir: join(repoRoot, ".lab", "test-cluster"), apiPort: 16443, etcdPort: 12379 };

export default async function globalSetup(): Promise<void> {
  await acquireDevLock(); // held until global teardown: runs on one machine take turns
  mkdirSync(testCluster.stateDir, { recursive: true });
  // Build the deployable output before pepr dev starts watching: pepr 1.1.4's build
  // rewrites every .ts file (its format check writes even in validate mode), which
  // would make a running pepr dev reload from half-written files.
  const buildDir = join(repoRoot, ".lab", "pepr-build");
  // `npm run build -o DIR`: pepr build, then the finish step (install objects, webhook split).
  await run("bash", [join(repoRoot, "hack", "finish-manifests.sh"), "--build", "-o", buildDir], {
    cwd: repoRoot,
    maxBuffer: 1 << 26,
  }).catch((e) => {
    throw new Error(`npm run build failed: ${e.stderr || e.message}`);
  });
  process.env.PEPR_BUILD_DIR = buildDir;
  const cluster = await startControlPlane(testCluster);
  process.env.KUBECONFIG = cluster.kubeconfig;
  process.env.KUBECTL = cluster.kubectl;
  writeFileSync(join(testCluster.stateDir, "env.json"), JSON.stringify(cluster));
  await startModule(cluster);
}
