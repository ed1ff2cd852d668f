#!/usr/bin/env bash
# Builds the helm CLI from its Go module (no helm package in Debian or npm) and caches it
# under a directory keyed by version, so the chart test runs the real `helm template`.
#
#   hack/build-helm.sh        build if missing, print the binary's path
#   CONTROL_PLANE_CACHE=/dir  cache root (default /var/cache/metallb-pepr)
set -euo pipefail
HELM_VERSION="v4.3.2"
cache_root="${CONTROL_PLANE_CACHE:-/var/cache/metallb-pepr}"
bin="$cache_root/helm-$HELM_VERSION/helm"
[[ -x "$bin" ]] && { echo "$bin"; exit 0; }
mkdir -p "$(dirname "$bin")"
# Two test runs starting at once wait for one build.
exec 9>"$cache_root/.helm.lock"
flock 9
[[ -x "$bin" ]] && { echo "$bin"; exit 0; }
command -v go >/dev/null 2>&1 || { echo "build-helm: Go is not installed" >&2; exit 1; }
tmp="$(mktemp -d "$(dirname "$bin")/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
GOBIN="$tmp" CGO_ENABLED=0 go install -ldflags="-s -w" "helm.sh/helm/v4/cmd/helm@$HELM_VERSION" >&2
mv "$tmp/helm" "$bin"
echo "$bin"
