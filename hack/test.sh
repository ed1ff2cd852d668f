#!/usr/bin/env bash
# The whole test suite, complete on a fresh machine: system tools, the cached
# kube-apiserver/etcd and helm builds, the native addon, then Jest (unit + integration + lab).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash hack/install-deps.sh
bash hack/build-control-plane.sh >/dev/null
bash hack/build-helm.sh >/dev/null
bash hack/build-native.sh
mkdir -p .lab
status=0
npx jest --json --outputFile=.lab/jest-results.json "$@" || status=$?
# One plain closing line with the counts, after Jest's own summary.
node -e 'const r = require("./.lab/jest-results.json");
  console.log(`Tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);' || true
exit "$status"
