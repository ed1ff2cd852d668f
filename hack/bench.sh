#!/usr/bin/env bash
# Bundled with --keep-names: kubernetes-fluent-client maps kinds by class name.
# Benchmarks: each prints a table and JSON (also written to bench/results/).
#   npm run bench                      all of them
#   npm run bench -- allocator         the pure allocation engine
#   npm run bench -- allocator-e2e [sizes...]   end to end on a real kube-apiserver
#   npm run bench -- bgp-e2e           Service create to route in FRR, 1k/10k prefixes from agent start
#   npm run bench -- l2-membership [sizes...]  L2 heartbeat cost per node at 3, 10, 50 peers
#   npm run bench -- bfd [rounds]      BFD detection time both ways against FRR bfdd at 300 ms x 3
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export METALLB_PEPR_ROOT="$PWD"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
bundle() { npx esbuild "$1" --bundle --platform=node --target=node20 --keep-names --log-level=warning --outfile="$out/$2.js"; }
which="${1:-all}"; shift || true
if [[ $which == all || $which == allocator ]]; then
  bundle capabilities/shared/allocator/bench.ts allocator && node --expose-gc "$out/allocator.js"
fi
if [[ $which == all || $which == allocator-e2e ]]; then
  bash hack/build-control-plane.sh >/dev/null
  bundle hack/bench/allocator-e2e.ts allocator-e2e && node "$out/allocator-e2e.js" "$@"
fi
if [[ $which == all || $which == bgp ]]; then
  # Root only: network namespaces, FRR (hack/install-deps.sh) and the rawnet addon.
  if [[ $(id -u) -eq 0 && -x /usr/lib/frr/bgpd ]]; then
    npx esbuild hack/bench/bgp.ts --bundle --platform=node --target=node20 --log-level=warning --external:esbuild --outfile="$out/bgp.js" && NODE_PATH="$PWD/node_modules" node "$out/bgp.js"
  else
    echo "bgp: skipped (needs root and FRR: run hack/install-deps.sh as root)"
  fi
fi
if [[ $which == all || $which == bgp-e2e ]]; then
  bash hack/build-control-plane.sh >/dev/null
  if [[ $(id -u) -eq 0 && -x /usr/lib/frr/bgpd ]]; then
    npx esbuild hack/bench/bgp-e2e.ts --bundle --platform=node --target=node20 --keep-names --log-level=warning \
      --external:esbuild --outfile="$out/bgp-e2e.js"
    NODE_PATH="$PWD/node_modules" node "$out/bgp-e2e.js"
  else
    echo "bgp-e2e: skipped (needs root and FRR: run hack/install-deps.sh as root)"
  fi
fi
if [[ $which == all || $which == l2-failover ]]; then
  bash hack/build-control-plane.sh >/dev/null
  # esbuild (used to bundle the agent) stays external: it ships a native binary.
  npx esbuild hack/bench/l2-failover.ts --bundle --platform=node --target=node20 --log-level=warning \
    --external:esbuild --outfile="$out/l2-failover.js"
  NODE_PATH="$PWD/node_modules" node "$out/l2-failover.js" "$@"
fi
if [[ $which == all || $which == l2-membership ]]; then
  # Heartbeat cost per node at 3, 10 and 50 peers (root: network namespaces; no API server).
  npx esbuild hack/bench/l2-membership.ts --bundle --platform=node --target=node20 --log-level=warning \
    --external:esbuild --outfile="$out/l2-membership.js"
  NODE_PATH="$PWD/node_modules" node "$out/l2-membership.js" "$@"
fi
if [[ $which == all || $which == bfd ]]; then
  # Root only: network namespaces, FRR's bfdd and zebra (hack/install-deps.sh) and the rawnet addon.
  if [[ $(id -u) -eq 0 && -x /usr/lib/frr/bfdd ]]; then
    npx esbuild hack/bench/bfd.ts --bundle --platform=node --target=node20 --log-level=warning \
      --external:esbuild --outfile="$out/bfd.js"
    NODE_PATH="$PWD/node_modules" node "$out/bfd.js" "$@"
  else
    echo "bfd: skipped (needs root and FRR: run hack/install-deps.sh as root)"
  fi
fi
