#!/usr/bin/env bash
# Installs the system tools the test suite and the lab need (Debian packages)
# when they are missing. Idempotent and quiet on a machine that has them.
set -euo pipefail
packages=(
  iproute2 curl openssl           # namespaces/veth, health checks, certificates
  iputils-arping iputils-ping ndisc6 tcpdump   # L2 clients and captures
  frr bird2 gobgpd                # real BGP peers
  python3 make g++                # node-gyp for the native addon
  containerd runc containernetworking-plugins iptables conntrack   # the real-cluster node (hack/cluster/)
  busybox-static                  # the real-cluster test pod's httpd image
  prometheus                      # promtool: the alert rules' unit tests
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
    exit 1
  fi
  # Another install may hold the dpkg lock (two test runs at once): wait for it.
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
