#!/usr/bin/env bash
# A real, local Kubernetes control plane (etcd + kube-apiserver) on loopback.
#
#   hack/control-plane.sh up    [DIR]   start; writes DIR/kubeconfig, prints its path
#   hack/control-plane.sh down  [DIR]   stop what `up` started in DIR (by pid file)
#   hack/control-plane.sh status [DIR]
#
# DIR defaults to ./.lab/control-plane. Ports: API_PORT (default 6443) and
# ETCD_PORT (default 2379; the peer port is ETCD_PORT+1). No controller-manager
# runs: tests create Nodes and EndpointSlices themselves.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cmd="${1:-}"
dir="$(mkdir -p "${2:-$PWD/.lab/control-plane}" && cd "${2:-$PWD/.lab/control-plane}" && pwd)"
API_PORT="${API_PORT:-6443}"
ETCD_PORT="${ETCD_PORT:-2379}"

die() { echo "control-plane: $*" >&2; exit 1; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

stop_pid() {
  local file="$1" pid
  [[ -f "$file" ]] || return 0
  pid="$(cat "$file")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

make_certs() {
  local pki="$dir/pki"
  [[ -f "$pki/ca.crt" ]] && return 0
  command -v openssl >/dev/null || die "openssl is required to generate the control plane's certificates"
  mkdir -p "$pki"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=metallb-pepr-local-ca" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" >/dev/null 2>&1
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
    -keyout "$pki/apiserver.key" -out "$pki/apiserver.csr" >/dev/null 2>&1
  printf 'subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc,IP:127.0.0.1,IP:10.0.0.1\n' > "$pki/san.ext"
  openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 30 -extfile "$pki/san.ext" -out "$pki/apiserver.crt" >/dev/null 2>&1
  openssl genrsa -out "$pki/sa.key" 2048 >/dev/null 2>&1
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" >/dev/null 2>&1
  # A static admin token: simpler than client certificates, and enough for a local plane.
  local token; token="$(openssl rand -hex 24)"
  printf '%s,admin,admin,"system:masters"\n' "$token" > "$pki/tokens.csv"
  echo "$token" > "$pki/admin.token"
}

write_kubeconfig() {
  local ca token
  ca="$(base64 -w0 < "$dir/pki/ca.crt")"
  token="$(cat "$dir/pki/admin.token")"
  cat > "$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $ca
users:
- name: admin
  user:
    token: $token
contexts:
- name: local
  context: {cluster: local, user: admin}
current-context: local
EOF
}

up() {
  if [[ -f "$dir/apiserver.pid" ]] && kill -0 "$(cat "$dir/apiserver.pid")" 2>/dev/null; then
    echo "$dir/kubeconfig"; return 0
  fi
  port_in_use "$API_PORT" && die "port $API_PORT is already in use; set API_PORT to a free port"
  port_in_use "$ETCD_PORT" && die "port $ETCD_PORT is already in use; set ETCD_PORT to a free port"
  port_in_use "$((ETCD_PORT + 1))" && die "port $((ETCD_PORT + 1)) (etcd peer) is already in use; set ETCD_PORT"
  local bin
  bin="$("$here/build-control-plane.sh")" || die "could not build kube-apiserver/etcd (see above)"
  make_certs
  rm -rf "$dir/etcd-data"
  "$bin/etcd" --name local --data-dir "$dir/etcd-data" --unsafe-no-fsync \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
    --initial-cluster "local=http://127.0.0.1:$((ETCD_PORT + 1))" >"$dir/etcd.log" 2>&1 &
  echo $! > "$dir/etcd.pid"
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$ETCD_PORT/health" >/dev/null 2>&1 && break
    kill -0 "$(cat "$dir/etcd.pid")" 2>/dev/null || die "etcd exited; see $dir/etcd.log"
    sleep 0.1
  done
  "$bin/kube-apiserver" --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
    --tls-cert-file "$dir/pki/apiserver.crt" --tls-private-key-file "$dir/pki/apiserver.key" \
    --client-ca-file "$dir/pki/ca.crt" --token-auth-file "$dir/pki/tokens.csv" \
    --service-account-issuer "https://127.0.0.1:$API_PORT" \
    --service-account-key-file "$dir/pki/sa.pub" --service-account-signing-key-file "$dir/pki/sa.key" \
    --service-cluster-ip-range "10.0.0.0/16,fd00:10::/108" \
    --authorization-mode Node,RBAC --allow-privileged=true \
    --disable-admission-plugins ServiceAccount --enable-priority-and-fairness=false \
    --event-ttl 1h >"$dir/apiserver.log" 2>&1 &
  echo $! > "$dir/apiserver.pid"
  write_kubeconfig
  local token; token="$(cat "$dir/pki/admin.token")"
  for _ in $(seq 1 600); do
    if curl -fsS --cacert "$dir/pki/ca.crt" -H "Authorization: Bearer $token" \
      "https://127.0.0.1:$API_PORT/readyz" >/dev/null 2>&1; then
      echo "$dir/kubeconfig"; return 0
    fi
    kill -0 "$(cat "$dir/apiserver.pid")" 2>/dev/null || die "kube-apiserver exited; see $dir/apiserver.log"
    sleep 0.1
  done
  die "kube-apiserver did not become ready in 60s; see $dir/apiserver.log"
}

case "$cmd" in
  up) up ;;
  down) stop_pid "$dir/apiserver.pid"; stop_pid "$dir/etcd.pid"; rm -rf "$dir/etcd-data" ;;
  status)
    if [[ -f "$dir/apiserver.pid" ]] && kill -0 "$(cat "$dir/apiserver.pid")" 2>/dev/null; then
      echo "running: KUBECONFIG=$dir/kubeconfig"
    else echo "stopped"; exit 1; fi ;;
  *) die "usage: control-plane.sh up|down|status [DIR]" ;;
esac
