#!/usr/bin/env bash
# A real one-node Kubernetes cluster on this machine, as root, for the real-cluster
# suite (test/cluster/) and for a person to try the module the way a user installs it.
#
#   hack/cluster/cluster.sh up      [DIR]  start (building what is missing); prints the kubeconfig path
#   hack/cluster/cluster.sh down    [DIR]  stop everything `up` started in DIR and remove its state
#   hack/cluster/cluster.sh status  [DIR]
#   hack/cluster/cluster.sh exec    [DIR] -- CMD...   run CMD in the node's network namespace
#                                                    with KUBECONFIG set (kubectl, npx pepr deploy, ...)
#   hack/cluster/cluster.sh vtysh   [DIR] -- ARGS...  FRR's vtysh on the router (-c 'show bgp summary')
#
# DIR defaults to ./.lab/cluster. Everything the node needs lives there: etcd data,
# certificates, containerd's root/state/socket, the kubelet's root dir, CNI state, logs.
#
# Topology. The whole node (etcd, kube-apiserver, controller-manager, scheduler,
# containerd, kubelet, kube-proxy) runs in its own network namespace $NS_NODE, entered
# with `nsenter --net` (not `ip netns exec`, which would also give each daemon a mount
# namespace of its own, and the kubelet's volume mounts must be the ones containerd sees).
# Nothing binds in the host's network namespace, so the ports below never meet another
# suite's. A second namespace $NS_CLIENT is the LAN client:
#
#   client 192.0.2.2 --+
#   router 192.0.2.1 --+-- bridge br0 (netns mlbrc-lan) --+-- 192.0.2.11 node (eth0), pods 198.18.64.0/24 on cni0
#
# The router (netns mlbrc-router) runs FRR (zebra + bgpd, AS 64501) and is the default gateway
# of the client and the node; it peers with the node as examples/bgppeer.yaml's router-a says
# (label the node bgp=enabled), so examples' ipv4-pool (198.51.100.0/26, BGP) is reachable
# from the client through it.
#
# These are the addresses examples/ describes (nodes .11-.13, client .2, router .1), so
# `kubectl apply -f examples/` works as it is: examples' dual-stack-pool (192.0.2.64/28)
# is announced over L2 on eth0 by public-l2.
#
# Dual stack: the link also carries 2001:db8:1::/64 (node ::11, client ::2, router ::1), pods get
# 2001:db8:64::/64 and Services 2001:db8:5::/112 besides their IPv4 addresses, so examples'
# ipv6-pool (2001:db8:1::100/120) is announced over L2 (NDP) by ipv6-l2.
#
# Ports inside the node namespace: apiserver 26443, etcd 22379/22380.
# Services: 198.19.128.0/20 (kubernetes = 198.19.128.1). Cgroups (v1, cgroupfs driver):
# everything the kubelet creates is under /$CGROUP_ROOT in each hierarchy.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cmd="${1:-}"
shift || true
dir_arg="$repo/.lab/cluster"
if [[ $# -gt 0 && "$1" != "--" ]]; then dir_arg="$1"; shift; fi
[[ "${1:-}" == "--" ]] && shift
mkdir -p "$dir_arg"
dir="$(cd "$dir_arg" && pwd)"

NS_NODE="${NS_NODE:-mlbrc-node1}"
NS_CLIENT="${NS_CLIENT:-mlbrc-client}"
NS_ROUTER="${NS_ROUTER:-mlbrc-router}"
NS_LAN="${NS_LAN:-mlbrc-lan}"
NODE_NAME="${NODE_NAME:-mlbrc-node1}"
NODE_IP=192.0.2.11
CLIENT_IP=192.0.2.2
ROUTER_IP=192.0.2.1
NODE_IP6=2001:db8:1::11
CLIENT_IP6=2001:db8:1::2
ROUTER_IP6=2001:db8:1::1
POD_CIDR6=2001:db8:64::/64
CLUSTER_CIDR6=2001:db8:64::/56
SERVICE_CIDR6=2001:db8:5::/112
API_PORT=26443
ETCD_PORT=22379
POD_CIDR=198.18.64.0/24
CLUSTER_CIDR=198.18.64.0/18
SERVICE_CIDR=198.19.128.0/20
KUBERNETES_SVC_IP=198.19.128.1
CGROUP_ROOT="${CGROUP_ROOT:-mlbrc}"
CNI_BIN="${CNI_BIN:-/usr/lib/cni}"

die() { echo "cluster: $*" >&2; exit 1; }
log() { echo "cluster: $*" >&2; }
innode() { nsenter --net="/run/netns/$NS_NODE" -- "$@"; }

pidfile_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

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

# start NAME CMD...: a daemon in the node's network namespace, logging to DIR/log/NAME.log.
start() {
  local name="$1"; shift
  mkdir -p "$dir/log" "$dir/run"
  nsenter --net="/run/netns/$NS_NODE" -- "$@" >"$dir/log/$name.log" 2>&1 &
  echo $! >"$dir/run/$name.pid"
}

wait_for() {
  local what="$1" tries="$2" pidf="$3"; shift 3
  for _ in $(seq 1 "$tries"); do
    "$@" >/dev/null 2>&1 && return 0
    [[ -z "$pidf" ]] || pidfile_alive "$dir/run/$pidf.pid" || die "$pidf exited; see $dir/log/$pidf.log"
    sleep 0.2
  done
  die "$what not ready in time; see $dir/log/"
}

check_tools() {
  local missing=()
  for t in containerd runc nsenter iptables openssl curl ip vtysh; do command -v "$t" >/dev/null || missing+=("$t"); done
  [[ -x /usr/lib/frr/zebra && -x /usr/lib/frr/bgpd ]] || missing+=("FRR (zebra, bgpd)")
  [[ -x "$CNI_BIN/bridge" && -x "$CNI_BIN/host-local" && -x "$CNI_BIN/loopback" ]] || missing+=("CNI plugins in $CNI_BIN")
  ((${#missing[@]} == 0)) || die "missing: ${missing[*]} (run hack/install-deps.sh)"
  [[ $(id -u) -eq 0 ]] || die "must run as root (network namespaces, containerd, kubelet)"
}

network_up() {
  ip netns list | grep -qw "^$NS_NODE" && return 0
  # One LAN (a bridge in its own namespace) joining the node, the client and the router.
  ip netns add "$NS_LAN"
  ip -n "$NS_LAN" link add br0 type bridge
  ip -n "$NS_LAN" link set br0 up
  local ns port
  for ns in "$NS_NODE" "$NS_CLIENT" "$NS_ROUTER"; do
    ip netns add "$ns"
    port="p-${ns#mlbrc-}"
    ip link add "$port" netns "$NS_LAN" type veth peer name eth0 netns "$ns"
    ip -n "$NS_LAN" link set "$port" master br0 up
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 up
  done
  ip -n "$NS_NODE" addr add "$NODE_IP/24" dev eth0
  ip -n "$NS_CLIENT" addr add "$CLIENT_IP/24" dev eth0
  ip -n "$NS_ROUTER" addr add "$ROUTER_IP/24" dev eth0
  ip -n "$NS_NODE" addr add "$NODE_IP6/64" dev eth0 nodad
  ip -n "$NS_CLIENT" addr add "$CLIENT_IP6/64" dev eth0 nodad
  ip -n "$NS_ROUTER" addr add "$ROUTER_IP6/64" dev eth0 nodad
  # Everything off the link goes through the router, which learns the BGP routes.
  ip -n "$NS_NODE" route add default via "$ROUTER_IP" dev eth0
  ip -n "$NS_CLIENT" route add default via "$ROUTER_IP" dev eth0
  ip -n "$NS_NODE" -6 route add default via "$ROUTER_IP6" dev eth0
  ip -n "$NS_CLIENT" -6 route add default via "$ROUTER_IP6" dev eth0
  innode sysctl -qw net.ipv4.ip_forward=1
  innode sysctl -qw net.ipv6.conf.all.forwarding=1
  ip netns exec "$NS_ROUTER" sysctl -qw net.ipv4.ip_forward=1
  ip netns exec "$NS_ROUTER" sysctl -qw net.ipv6.conf.all.forwarding=1
}

# FRR on the router (zebra, so BGP routes reach its kernel table, and bgpd), peering with the
# node as examples/bgppeer.yaml's router-a describes: AS 64501, the node in AS 64500, TCP MD5;
# and over IPv6 (the node's 2001:db8:1::11, IPv6 unicast) for the real-cluster suite's BGP IPv6 test.
router_up() {
  local d="$dir/router"
  pidfile_alive "$d/bgpd.pid" && return 0
  mkdir -p "$d"
  chmod 777 "$d" # zebra runs as Debian's frr user
  printf 'hostname mlbrc-router\nlog file %s/zebra.log\n' "$d" >"$d/zebra.conf"
  cat >"$d/bgpd.conf" <<EOF
hostname mlbrc-router
log file $d/bgpd.log
router bgp 64501
 bgp router-id $ROUTER_IP
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor $NODE_IP remote-as 64500
 neighbor $NODE_IP password change-me
 neighbor $NODE_IP timers connect 1
 neighbor $NODE_IP6 remote-as 64500
 neighbor $NODE_IP6 timers connect 1
 address-family ipv6 unicast
  neighbor $NODE_IP6 activate
 exit-address-family
!
EOF
  local common=(--vty_socket "$d" -A 127.0.0.1 -z "$d/zserv.api")
  ip netns exec "$NS_ROUTER" /usr/lib/frr/zebra -d -f "$d/zebra.conf" -i "$d/zebra.pid" "${common[@]}" \
    || die "zebra did not start; see $d/zebra.log"
  for _ in $(seq 1 50); do [[ -S "$d/zserv.api" ]] && break; sleep 0.1; done
  ip netns exec "$NS_ROUTER" /usr/lib/frr/bgpd -d -S -f "$d/bgpd.conf" -i "$d/bgpd.pid" "${common[@]}" \
    || die "bgpd did not start; see $d/bgpd.log"
}

router_down() {
  stop_pid "$dir/router/bgpd.pid"
  stop_pid "$dir/router/zebra.pid"
}

network_down() {
  local ns
  for ns in "$NS_CLIENT" "$NS_ROUTER" "$NS_NODE" "$NS_LAN"; do ip netns del "$ns" 2>/dev/null || true; done
}

make_certs() {
  local pki="$dir/pki"
  [[ -f "$pki/ca.crt" && -f "$pki/tokens.csv" ]] && return 0
  mkdir -p "$pki"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=metallb-pepr-cluster-ca" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" >/dev/null 2>&1
  cert() { # NAME SUBJECT [SAN]
    openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$pki/$1.key" -out "$pki/$1.csr" >/dev/null 2>&1
    if [[ -n "${3:-}" ]]; then printf 'subjectAltName=%s\n' "$3" >"$pki/$1.ext"; else : >"$pki/$1.ext"; fi
    openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 30 \
      -extfile "$pki/$1.ext" -out "$pki/$1.crt" >/dev/null 2>&1
  }
  cert apiserver "/CN=kube-apiserver" \
    "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:$NODE_IP,IP:$KUBERNETES_SVC_IP"
  cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
  openssl genrsa -out "$pki/sa.key" 2048 >/dev/null 2>&1
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" >/dev/null 2>&1
  # Static tokens, one per identity, with the users and groups the default RBAC binds.
  local t
  : >"$pki/tokens.csv"
  for who in admin node proxy controller-manager scheduler; do
    t="$(openssl rand -hex 24)"
    echo "$t" >"$pki/$who.token"
    case "$who" in
      admin) printf '%s,admin,admin,"system:masters"\n' "$t" ;;
      node) printf '%s,system:node:%s,node:%s,"system:nodes"\n' "$t" "$NODE_NAME" "$NODE_NAME" ;;
      proxy) printf '%s,system:kube-proxy,kube-proxy\n' "$t" ;;
      controller-manager) printf '%s,system:kube-controller-manager,kube-controller-manager\n' "$t" ;;
      scheduler) printf '%s,system:kube-scheduler,kube-scheduler\n' "$t" ;;
    esac >>"$pki/tokens.csv"
  done
}

kubeconfig() { # WHO FILE
  local ca token
  ca="$(base64 -w0 <"$dir/pki/ca.crt")"
  token="$(cat "$dir/pki/$1.token")"
  cat >"$2" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: metallb-pepr-cluster
  cluster:
    server: https://$NODE_IP:$API_PORT
    certificate-authority-data: $ca
users:
- name: $1
  user:
    token: $token
contexts:
- name: metallb-pepr-cluster
  context: {cluster: metallb-pepr-cluster, user: $1}
current-context: metallb-pepr-cluster
EOF
}

write_configs() {
  mkdir -p "$dir/conf" "$dir/cni/net.d" "$dir/cni/ipam" "$dir/kubelet" "$dir/pod-logs"
  for who in admin node proxy controller-manager scheduler; do kubeconfig "$who" "$dir/conf/$who.kubeconfig"; done
  cp "$dir/conf/admin.kubeconfig" "$dir/kubeconfig"
  cat >"$dir/cni/net.d/10-bridge.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "mlbrc-pods",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$dir/cni/ipam",
        "ranges": [[{ "subnet": "$POD_CIDR" }], [{ "subnet": "$POD_CIDR6" }]],
        "routes": [{ "dst": "0.0.0.0/0" }, { "dst": "::/0" }]
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF
  cat >"$dir/conf/containerd.toml" <<EOF
# containerd for the lab node only: its own root, state and sockets (never the system's).
version = 2
root = "$dir/containerd/root"
state = "$dir/containerd/state"
[grpc]
  address = "$dir/containerd/containerd.sock"
[ttrpc]
  address = "$dir/containerd/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  netns_mounts_under_state_dir = true
  # This machine's root has no CAP_SYS_RESOURCE, so runc may not lower oom_score_adj
  # (the sandbox's -998): keep every container's at or above containerd's own.
  restrict_oom_score_adj = true
  enable_cdi = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    discard_unpacked_layers = false
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$(command -v runc)"
        Root = "$dir/containerd/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN"
    conf_dir = "$dir/cni/net.d"
EOF
  # The kubelet on cgroup v1 (these machines): the cgroupfs driver (no systemd here),
  # failCgroupV1=false (1.31+ only warns on v1 by default; 1.35 refuses unless this is set),
  # a cgroup root of our own so nothing lands beside the host's cgroups, and no swap check.
  cat >"$dir/conf/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP_ROOT
cgroupsPerQOS: true
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://$dir/containerd/containerd.sock
podLogsDir: $dir/pod-logs
volumePluginDir: $dir/kubelet/volume-plugins
podCIDR: $POD_CIDR
address: $NODE_IP
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: $dir/pki/ca.crt}
authorization:
  mode: AlwaysAllow
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: "100Mi"
  nodefs.available: "1%"
  imagefs.available: "1%"
resolvConf: /etc/resolv.conf
EOF
  cat >"$dir/conf/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: $dir/conf/proxy.kubeconfig
mode: iptables
hostnameOverride: $NODE_NAME
clusterCIDR: $CLUSTER_CIDR,$CLUSTER_CIDR6
bindAddress: 0.0.0.0
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# Leave the (host-wide) conntrack table size and timeouts alone.
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
EOF
}

cgroups_up() {
  local h
  for h in /sys/fs/cgroup/*/; do
    [[ "$h" == */unified/ ]] && continue
    mkdir -p "$h$CGROUP_ROOT" 2>/dev/null || true
  done
}

cgroups_down() {
  local h d
  for h in /sys/fs/cgroup/*/; do
    [[ -d "$h$CGROUP_ROOT" ]] || continue
    # Deepest first: a cgroup can be removed once it has no children and no tasks.
    find "$h$CGROUP_ROOT" -depth -type d 2>/dev/null | while read -r d; do rmdir "$d" 2>/dev/null || true; done
  done
}

up() {
  check_tools
  if pidfile_alive "$dir/run/kubelet.pid"; then echo "$dir/kubeconfig"; return 0; fi
  local cp node
  cp="$("$repo/hack/build-control-plane.sh")" || die "could not build kube-apiserver/etcd (see above)"
  node="$("$here/build-node.sh")" || die "could not build the node binaries (see above)"
  PAUSE_IMAGE="$("$here/images.sh" name pause)"
  network_up
  router_up
  make_certs
  write_configs
  cgroups_up
  local t0=$SECONDS
  rm -rf "$dir/etcd-data"
  start etcd "$cp/etcd" --name node1 --data-dir "$dir/etcd-data" --unsafe-no-fsync \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
    --initial-cluster "node1=http://127.0.0.1:$((ETCD_PORT + 1))" \
    --listen-metrics-urls "http://127.0.0.1:$((ETCD_PORT + 2))"
  wait_for etcd 150 etcd innode curl -fsS "http://127.0.0.1:$ETCD_PORT/health"
  start kube-apiserver "$cp/kube-apiserver" --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 0.0.0.0 --advertise-address "$NODE_IP" --secure-port "$API_PORT" \
    --tls-cert-file "$dir/pki/apiserver.crt" --tls-private-key-file "$dir/pki/apiserver.key" \
    --client-ca-file "$dir/pki/ca.crt" --token-auth-file "$dir/pki/tokens.csv" \
    --kubelet-client-certificate "$dir/pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$dir/pki/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types InternalIP \
    --service-account-issuer "https://kubernetes.default.svc" \
    --service-account-key-file "$dir/pki/sa.pub" --service-account-signing-key-file "$dir/pki/sa.key" \
    --service-cluster-ip-range "$SERVICE_CIDR,$SERVICE_CIDR6" \
    --authorization-mode Node,RBAC --allow-privileged=true \
    --enable-admission-plugins NodeRestriction --event-ttl 1h
  wait_for kube-apiserver 600 kube-apiserver innode curl -fsS --cacert "$dir/pki/ca.crt" \
    -H "Authorization: Bearer $(cat "$dir/pki/admin.token")" "https://$NODE_IP:$API_PORT/readyz"
  start kube-controller-manager "$node/kube-controller-manager" --kubeconfig "$dir/conf/controller-manager.kubeconfig" \
    --service-account-private-key-file "$dir/pki/sa.key" --root-ca-file "$dir/pki/ca.crt" \
    --use-service-account-credentials=true --leader-elect=false --bind-address 127.0.0.1 \
    --cluster-signing-cert-file "$dir/pki/ca.crt" --cluster-signing-key-file "$dir/pki/ca.key" \
    --service-cluster-ip-range "$SERVICE_CIDR,$SERVICE_CIDR6" \
    --controllers '*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller'
  start kube-scheduler "$node/kube-scheduler" --kubeconfig "$dir/conf/scheduler.kubeconfig" \
    --leader-elect=false --bind-address 127.0.0.1
  mkdir -p "$dir/containerd"
  start containerd containerd --config "$dir/conf/containerd.toml"
  wait_for containerd 150 containerd test -S "$dir/containerd/containerd.sock"
  "$here/images.sh" import "$dir"
  start kubelet "$node/kubelet" --config "$dir/conf/kubelet.yaml" --kubeconfig "$dir/conf/node.kubeconfig" \
    --root-dir "$dir/kubelet" --cert-dir "$dir/kubelet/pki" --hostname-override "$NODE_NAME" --node-ip "$NODE_IP,$NODE_IP6" \
    --v=1
  start kube-proxy "$node/kube-proxy" --config "$dir/conf/kube-proxy.yaml"
  local kc=(innode "$cp/kubectl" --kubeconfig "$dir/kubeconfig")
  wait_for "node $NODE_NAME Ready" 900 kubelet "${kc[@]}" wait --for=condition=Ready "node/$NODE_NAME" --timeout=1s
  # Pods may only be created once the namespace's default ServiceAccount exists.
  wait_for "default ServiceAccount" 300 kube-controller-manager "${kc[@]}" get serviceaccount default
  log "up in $((SECONDS - t0))s: KUBECONFIG=$dir/kubeconfig (in netns $NS_NODE: hack/cluster/cluster.sh exec -- kubectl ...)"
  echo "$dir/kubeconfig"
}

down() {
  stop_pid "$dir/run/kube-proxy.pid"
  stop_pid "$dir/run/kubelet.pid"
  # containerd 1.6's shims leave no pid file, and one sometimes outlives its tasks and containerd:
  # find ours by the socket they were given, which only this cluster's containerd uses.
  local shim_pids=() p
  for p in /proc/[0-9]*; do
    tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "containerd-shim-runc-v2 -namespace k8s.io -id " || continue
    tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- " -address $dir/containerd/containerd.sock" && shim_pids+=("${p#/proc/}")
  done
  # Every container of ours, by the runc state root containerd was given.
  local runc_root="$dir/containerd/runc"
  if [[ -d "$runc_root" ]]; then
    local ns id
    for ns in "$runc_root"/*/; do
      [[ -d "$ns" ]] || continue
      for id in $(runc --root "$ns" list -q 2>/dev/null); do
        runc --root "$ns" kill "$id" KILL 2>/dev/null || true
        runc --root "$ns" delete -f "$id" 2>/dev/null || true
      done
    done
  fi
  local pid alive
  for pid in "${shim_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    alive=0
    for pid in "${shim_pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${shim_pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  stop_pid "$dir/run/containerd.pid"
  stop_pid "$dir/run/kube-scheduler.pid"
  stop_pid "$dir/run/kube-controller-manager.pid"
  stop_pid "$dir/run/kube-apiserver.pid"
  stop_pid "$dir/run/etcd.pid"
  # Mounts under DIR (volumes, rootfs, shm, pod network namespaces), deepest first.
  local m
  awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  cgroups_down
  router_down
  network_down
  rm -rf "$dir/etcd-data" "$dir/containerd" "$dir/kubelet" "$dir/cni/ipam" "$dir/pod-logs" "$dir/run"
  # The kubelet keeps its device-plugin socket at a fixed path (not under --root-dir).
  rm -rf /var/lib/kubelet/device-plugins
  rmdir /var/lib/kubelet 2>/dev/null || true
}

case "$cmd" in
  up) up ;;
  down) down ;;
  status)
    if pidfile_alive "$dir/run/kubelet.pid"; then echo "running: KUBECONFIG=$dir/kubeconfig (netns $NS_NODE)"
    else echo "stopped"; exit 1; fi ;;
  exec)
    [[ $# -gt 0 ]] || die "usage: cluster.sh exec [DIR] -- CMD..."
    cp="$("$repo/hack/build-control-plane.sh")"
    PATH="$cp:$PATH" KUBECONFIG="$dir/kubeconfig" exec nsenter --net="/run/netns/$NS_NODE" -- "$@" ;;
  vtysh) exec ip netns exec "$NS_ROUTER" vtysh --vty_socket "$dir/router" "$@" ;;
  *) die "usage: cluster.sh up|down|status|exec|vtysh [DIR] [-- ARGS...]" ;;
esac
