#!/usr/bin/env bash
# The chaos suite alone (test/chaos/): seeded rounds of faults against its own control
# plane (API 26443, etcd 22379, .lab/chaos-cluster) and the module's watcher process.
#
#   npm run chaos                          200 rounds, a fresh seed (printed)
#   CHAOS_SEED=123 npm run chaos           repeat a run
#   CHAOS_ROUNDS=2000 npm run chaos        the long local run
#
# It builds the bundle (npx pepr build -o .lab/chaos-build) unless PEPR_BUILD_DIR names one.
# Extra arguments go to Jest. Logs and the report: .lab/chaos-cluster/chaos.log, chaos-report.json.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash hack/build-control-plane.sh >/dev/null
mkdir -p .lab
exec npx jest "$@" --selectProjects chaos
