#!/usr/bin/env bash
# Builds kube-apiserver, kubectl and etcd from their Go modules (pinned in
# hack/controlplane/go.mod) and caches them under a fixed directory keyed by
# version, so a warm machine reuses them and a fresh one builds them once.
#
#   hack/build-control-plane.sh          build if missing, print the bin dir
#   CONTROL_PLANE_CACHE=/dir ...         cache root (default /var/cache/metallb-pepr)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
K8S_VERSION="v1.34.2"
ETCD_VERSION="v3.6.4"
cache_root="${CONTROL_PLANE_CACHE:-/var/cache/metallb-pepr}"
bin_dir="$cache_root/k8s-$K8S_VERSION-etcd-$ETCD_VERSION"

die() { echo "build-control-plane: $*" >&2; exit 1; }

if [[ -x "$bin_dir/kube-apiserver" && -x "$bin_dir/etcd" && -x "$bin_dir/kubectl" ]]; then
  echo "$bin_dir"
  exit 0
fi

# Two test runs starting at once on a cold machine wait for one build instead of doing two.
mkdir -p "$cache_root" || die "cannot create cache directory $cache_root (set CONTROL_PLANE_CACHE)"
exec 9>"$cache_root/.control-plane.lock"
flock 9
if [[ -x "$bin_dir/kube-apiserver" && -x "$bin_dir/etcd" && -x "$bin_dir/kubectl" ]]; then
  echo "$bin_dir"
  exit 0
fi

command -v go >/dev/null 2>&1 || die "Go is not installed; install Go >= 1.24 (https://go.dev/dl) and retry"
mkdir -p "$bin_dir" || die "cannot create cache directory $bin_dir (set CONTROL_PLANE_CACHE)"

minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION \
 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor \
 -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"

tmp="$(mktemp -d "$bin_dir/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
cd "$here/controlplane"
start=$(date +%s)
echo "build-control-plane: building kube-apiserver/kubectl $K8S_VERSION and etcd $ETCD_VERSION (cold build takes minutes)" >&2
export CGO_ENABLED=0
go build -trimpath -o "$tmp/kube-apiserver" -ldflags "$ldflags" k8s.io/kubernetes/cmd/kube-apiserver \
  || die "go build of kube-apiserver failed (see above)"
go build -trimpath -o "$tmp/kubectl" -ldflags "$ldflags" k8s.io/kubernetes/cmd/kubectl \
  || die "go build of kubectl failed (see above)"
go build -trimpath -o "$tmp/etcd" -ldflags "-s -w" go.etcd.io/etcd/server/v3 \
  || die "go build of etcd failed (see above)"
mv "$tmp/kube-apiserver" "$tmp/kubectl" "$tmp/etcd" "$bin_dir/"
echo "build-control-plane: built in $(( $(date +%s) - start ))s into $bin_dir" >&2
echo "$bin_dir"
