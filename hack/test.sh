#!/usr/bin/env bash
# The whole test suite, complete on a fresh machine: system tools, the cached
# kube-apiserver/etcd build, the native addon, then Jest (unit + integration + lab).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash hack/install-deps.sh
bash hack/build-control-plane.sh >/dev/null
bash hack/build-native.sh
exec npx jest "$@"
