#!/usr/bin/env bash
# Runs the module against a local real control plane: kube-apiserver + etcd on
# 127.0.0.1:${API_PORT:-6443}, and `pepr dev` serving the webhooks and reconcilers.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
state="$PWD/.lab/control-plane"
kubeconfig="$(bash hack/control-plane.sh up "$state")"
bin="$(bash hack/build-control-plane.sh)"
cat <<MSG

  Local control plane is up. In another shell:
    export KUBECONFIG=$kubeconfig
    alias kubectl=$bin/kubectl      # or any kubectl >= 1.32
    kubectl apply -f examples/
    kubectl get ipaddresspools,bgpsessions -n metallb-system

  Ctrl-C stops the module and the control plane.

MSG
# pepr dev ignores SIGINT (its handler only logs), so Ctrl-C here stops it by its
# own process group, then the control plane.
# pepr dev runs the module at LOG_LEVEL=debug unless told otherwise: pages of JSON for
# every Lease renewal. At info, hack/dev-log.js keeps one line per module record, warning
# and error, and drops Pepr's per-request records and esbuild's size table.
# LOG_LEVEL=debug npm start shows everything, unfiltered.
level="${LOG_LEVEL:-info}"
if [[ $level == info ]]; then
  KUBECONFIG="$kubeconfig" LOG_LEVEL="$level" setsid npx pepr dev --host localhost --yes \
    > >(node hack/dev-log.js) 2>&1 &
else
  KUBECONFIG="$kubeconfig" LOG_LEVEL="$level" setsid npx pepr dev --host localhost --yes &
fi
dev=$!
stop() {
  kill -TERM -- "-$dev" 2>/dev/null || true
  wait "$dev" 2>/dev/null || true
  bash hack/control-plane.sh down "$state"
}
trap stop EXIT
trap 'exit 130' INT TERM
wait "$dev"
