#!/usr/bin/env bash
# Benchmarks: each prints a table and JSON (also written to bench/results/).
#   npm run bench                      all of them
#   npm run bench -- allocator         the pure allocation engine
#   npm run bench -- allocator-e2e [sizes...]   end to end on a real kube-apiserver
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export METALLB_PEPR_ROOT="$PWD"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
bundle() { npx esbuild "$1" --bundle --platform=node --target=node20 --log-level=warning --outfile="$out/$2.js"; }
which="${1:-all}"; shift || true
if [[ $which == all || $which == allocator ]]; then
  bundle capabilities/shared/allocator/bench.ts allocator && node --expose-gc "$out/allocator.js"
fi
if [[ $which == all || $which == allocator-e2e ]]; then
  bash hack/build-control-plane.sh >/dev/null
  bundle hack/bench/allocator-e2e.ts allocator-e2e && node "$out/allocator-e2e.js" "$@"
fi
