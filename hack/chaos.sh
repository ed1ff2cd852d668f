#!/usr/bin/env bash
# The chaos suite alone (test/chaos/): seeded rounds of faults against its own control
# plane (API 36443, etcd 32379, .lab/chaos-cluster) and the module's watcher process.
#
#   npm run chaos                          200 rounds, a fresh seed (printed)
#   CHAOS_SEED=123 npm run chaos           repeat a run
#   CHAOS_ROUNDS=2000 npm run chaos        the long local run
#   CHAOS_REF=HEAD npm run chaos           test that commit's module, not the work tree's
#
# The bundle: PEPR_BUILD_DIR if set, else `npx pepr build -o .lab/chaos-build` of the work
# tree (by the suite), or with CHAOS_REF a build of that commit exported outside the tree
# (a shared work tree may hold someone's half-done edit). Extra arguments go to Jest.
# Logs and the report: .lab/chaos-cluster/chaos.log, chaos-report.json.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash hack/build-control-plane.sh >/dev/null
mkdir -p .lab
if [[ -n "${CHAOS_REF:-}" && -z "${PEPR_BUILD_DIR:-}" ]]; then
  sha="$(git rev-parse --short "$CHAOS_REF")"
  src="${TMPDIR:-/tmp}/metallb-pepr-chaos-src/$sha"
  if [[ ! -f "$src/build/pepr-metallb-pepr.js" ]]; then
    rm -rf "$src" && mkdir -p "$src"
    git archive "$sha" | tar -x -C "$src"
    ln -s "$PWD/node_modules" "$src/node_modules"
    echo "chaos: building the module of $CHAOS_REF ($sha) in $src" >&2
    (cd "$src" && npx pepr build -o build >build.log 2>&1) || { cat "$src/build.log" >&2; exit 1; }
  fi
  export PEPR_BUILD_DIR="$src/build"
fi
exec npx jest "$@" --selectProjects chaos
