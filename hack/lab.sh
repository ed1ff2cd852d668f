#!/usr/bin/env bash
# `npm run lab`: the whole system on this machine, with real networking (root only).
# A control plane, the module (pepr dev), three node namespaces running real agents,
# two FRR routers and a client on one bridge, examples/ applied, and a status table.
# Stays in the foreground; Ctrl-C or `npm run lab -- down` (another shell) tears it down.
#   npm run lab            start (API_PORT / ETCD_PORT override 6443 / 2379)
#   npm run lab -- down    stop a running lab, or clean up after one that crashed
#   npm run lab -- --cluster [down]   the real one-node cluster instead (hack/cluster/try.sh)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export METALLB_PEPR_ROOT="$PWD"
cmd="${1:-up}"
# The real-node cluster instead of agents in namespaces (hack/cluster/try.sh).
if [[ $cmd == --cluster ]]; then shift; exec bash hack/cluster/try.sh "$@"; fi
case "$cmd" in up|down) ;; *) echo "usage: npm run lab [-- up|down|--cluster [down]]" >&2; exit 2 ;; esac

if [[ $(uname -s) != Linux ]]; then
  echo "lab: needs Linux (network namespaces, veth, bridges)" >&2; exit 1
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "lab: needs root (network namespaces, raw sockets, FRR). Run it as root, e.g.: sudo npm run lab${1:+ -- $1}" >&2
  echo "     For the control plane and module alone, without networking: npm start" >&2
  exit 1
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
bundle() {
  # --keep-names: kubernetes-fluent-client maps kinds by class name. esbuild stays
  # external (the harness bundles the agent with it; it ships a native binary).
  npx esbuild hack/lab.ts --bundle --platform=node --target=node20 --keep-names \
    --external:esbuild --log-level=warning --outfile="$out/lab.js"
}

if [[ $cmd == down ]]; then
  bundle
  NODE_PATH="$PWD/node_modules" exec node "$out/lab.js" down
fi

probe="mlb-probe-$$"
if ! err="$(ip netns add "$probe" 2>&1)"; then
  echo "lab: network namespaces are unavailable here ('ip netns add' failed: $err)." >&2
  echo "     The lab needs a Linux host or VM where root may create network namespaces" >&2
  echo "     (not an unprivileged container). Without networking, use: npm start" >&2
  exit 1
fi
ip netns del "$probe"

echo "lab: checking system packages (hack/install-deps.sh)"
bash hack/install-deps.sh
echo "lab: building the control plane (cached after the first build, ~4 min cold)"
bash hack/build-control-plane.sh >/dev/null
if [[ ! -f build/Release/rawnet.node ]]; then
  echo "lab: building the native addon"
  bash hack/build-native.sh >/dev/null
fi
echo "lab: building the agent"
bash hack/build-agent.sh >/dev/null
bundle
# Not exec: the EXIT trap removes the bundle afterwards.
NODE_PATH="$PWD/node_modules" node "$out/lab.js" up
