#!/usr/bin/env bash
# Builds the node and controller binaries of the real-cluster lab (kubelet,
# kube-proxy, kube-controller-manager, kube-scheduler) from their Go modules
# (pinned in hack/cluster/nodebins/go.mod, same Kubernetes version as
# hack/build-control-plane.sh) and caches them beside the control plane's, keyed
# by version: a warm machine reuses them, a fresh one builds them once.
#
#   hack/cluster/build-node.sh            build if missing, print the bin dir
#   CONTROL_PLANE_CACHE=/dir ...          cache root (default /var/cache/metallb-pepr)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# One version for the whole cluster: read it from the control plane's script.
K8S_VERSION="$(sed -n 's/^K8S_VERSION="\(.*\)"$/\1/p' "$here/../build-control-plane.sh")"
cache_root="${CONTROL_PLANE_CACHE:-/var/cache/metallb-pepr}"
bin_dir="$cache_root/k8s-$K8S_VERSION-node"
bins=(kubelet kube-proxy kube-controller-manager kube-scheduler)

die() { echo "build-node: $*" >&2; exit 1; }
[[ -n "$K8S_VERSION" ]] || die "cannot read K8S_VERSION from hack/build-control-plane.sh"
grep -q "k8s.io/kubernetes $K8S_VERSION" "$here/nodebins/go.mod" \
  || die "hack/cluster/nodebins/go.mod does not pin k8s.io/kubernetes $K8S_VERSION (update both together)"

have=1
for b in "${bins[@]}"; do [[ -x "$bin_dir/$b" ]] || have=0; done
if ((have)); then echo "$bin_dir"; exit 0; fi

command -v go >/dev/null 2>&1 || die "Go is not installed; install Go >= 1.24 (https://go.dev/dl) and retry"
mkdir -p "$bin_dir" || die "cannot create cache directory $bin_dir (set CONTROL_PLANE_CACHE)"

minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION \
 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor \
 -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"

tmp="$(mktemp -d "$bin_dir/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
cd "$here/nodebins"
start=$(date +%s)
echo "build-node: building ${bins[*]} $K8S_VERSION (cold build takes minutes)" >&2
export CGO_ENABLED=0
for b in "${bins[@]}"; do
  go build -trimpath -o "$tmp/$b" -ldflags "$ldflags" "k8s.io/kubernetes/cmd/$b" || die "go build of $b failed (see above)"
done
for b in "${bins[@]}"; do mv "$tmp/$b" "$bin_dir/"; done
echo "build-node: built in $(( $(date +%s) - start ))s into $bin_dir" >&2
echo "$bin_dir"
