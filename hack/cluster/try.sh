#!/usr/bin/env bash
# `npm run lab -- --cluster`: the real-node cluster (cluster.sh), with the module installed the
# way a user does it and examples/ applied, then a status table of what a client on the LAN
# reaches. The same steps as the README's "Real cluster" section and test/cluster/.
#   npm run lab -- --cluster         up, install, apply, print the table (the cluster stays up)
#   npm run lab -- --cluster down    stop it and remove its state
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cluster="$here/cluster.sh"
if [[ "${1:-up}" == down ]]; then exec "$cluster" down; fi
[[ $(id -u) -eq 0 ]] || { echo "lab --cluster: needs root (network namespaces, containerd, kubelet)" >&2; exit 1; }

kc() { "$cluster" exec -- "$@"; }
step() { printf '%s\n' "lab --cluster: $*" >&2; }

step "starting the node (builds what is missing: about 13 min the first time)"
"$cluster" up >/dev/null
step "npm run build, then kubectl apply --server-side of the manifest"
(cd "$repo" && kc npm run build >/dev/null)
kc kubectl apply --server-side -f "$repo/dist/pepr-module-metallb-pepr.yaml" >/dev/null
for d in pepr-metallb-pepr pepr-metallb-pepr-watcher; do
  kc kubectl -n pepr-system rollout status "deployment/$d" --timeout=300s >/dev/null
done
kc kubectl -n metallb-system rollout status daemonset/metallb-agent --timeout=300s >/dev/null
step "examples/, hack/cluster/web.yaml, and the node labelled bgp=enabled (router-a peers with it)"
# Admission's Service can refuse connections for a moment after the rollout (kube-proxy has not
# programmed the new endpoints yet); the metallb.io webhook fails closed, so apply again.
for attempt in $(seq 1 30); do
  if err="$(kc kubectl apply -f "$repo/examples/" 2>&1 >/dev/null)"; then break; fi
  ((attempt < 30)) || { printf '%s\n' "$err" >&2; exit 1; }
  sleep 2
done
kc kubectl apply -f "$here/web.yaml" >/dev/null
kc kubectl label node "${NODE_NAME:-mlbrc-node1}" bgp=enabled --overwrite >/dev/null
kc kubectl rollout status deployment/web --timeout=180s >/dev/null

# One row per LoadBalancer Service address: how it is announced, and whether the client's curl
# reaches a pod through it (retried for up to 60 s while the address is being announced).
printf '\n%-10s %-24s %-6s %s\n' SERVICE ADDRESS VIA "CURL FROM THE CLIENT"
deadline=$((SECONDS + 60))
rows="$(kc kubectl get svc -A -o jsonpath='{range .items[?(@.spec.type=="LoadBalancer")]}{.metadata.name}{" "}{.status.loadBalancer.ingress[*].ip}{"\n"}{end}')"
while read -r name ips; do
  [[ -n "$name" ]] || continue
  for ip in $ips; do
    url="http://$ip/"; [[ $ip == *:* ]] && url="http://[$ip]/"
    via=L2; ip netns exec mlbrc-client ip route get "$ip" 2>/dev/null | grep -q " via " && via=BGP
    answer="no answer"
    while :; do
      if out="$(ip netns exec mlbrc-client curl -sS -g --max-time 2 "$url" 2>/dev/null)"; then answer="$out"; break; fi
      ((SECONDS < deadline)) || break
      sleep 1
    done
    printf '%-10s %-24s %-6s %s\n' "$name" "$ip" "$via" "$answer"
  done
done <<<"$rows"
echo
kc kubectl get bgpsessions -n metallb-system 2>/dev/null || true
cat <<MSG

  The cluster stays up. On the node:  hack/cluster/cluster.sh exec -- kubectl get svc -A
  The router's routes:                hack/cluster/cluster.sh vtysh -- -c 'show bgp ipv4 unicast'
  Stop it:                            npm run lab -- --cluster down
MSG
