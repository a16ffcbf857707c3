#!/usr/bin/env bash
# Starts a real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler), KWOK fake nodes and the test agent that runs pods as local processes, all
# inside a new network namespace. Needs root. Usage:
#
#   eval "$(test/cluster/up.sh [--dir DIR] [--nodes N])"   # then kubectl get nodes
#   test/cluster/down.sh "$CLUSTER_DIR"
#
# Progress goes to stderr. Stdout gets `export` lines for CLUSTER_DIR, CLUSTER_NETNS,
# KUBECONFIG (a host-side kubeconfig through a loopback forwarder) and PATH (with kubectl).
# Every process logs to DIR/logs. On failure the cluster is torn down and the logs kept.
set -Eeuo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=config.sh
source "$here/config.sh"
# shellcheck source=pki.sh
source "$here/pki.sh"

dir=
nodes=3
while [[ $# -gt 0 ]]; do
  case $1 in
    --dir) dir=$2; shift 2 ;;
    --nodes) nodes=$2; shift 2 ;;
    *) echo "unknown option $1; usage: up.sh [--dir DIR] [--nodes N]" >&2; exit 2 ;;
  esac
done

log() { printf '[cluster] %s\n' "$*" >&2; }

if [[ $(id -u) -ne 0 ]]; then
  log 'up.sh needs root to create network namespaces; run it as root'
  exit 1
fi

"$here/build.sh"

dir=${dir:-$(mktemp -d /tmp/streamcluster-cluster.XXXXXX)}
mkdir -p "$dir"/{logs,pids,pki,volumes,run}
dir=$(cd "$dir" && pwd)
# Network namespace names are global, so each cluster gets a random prefix. Pod namespaces are
# named NETNS-N, which lets down.sh find every one of them.
netns=sc$(od -An -tx1 -N3 /dev/urandom | tr -d ' \n')
cat >"$dir/cluster.env" <<EOF
CLUSTER_DIR=$dir
CLUSTER_NETNS=$netns
EOF

on_failure() {
  log "start failed; logs are in $dir/logs"
  for file in "$dir"/logs/*.log; do
    [[ -s $file ]] || continue
    log "--- last lines of $file"
    tail -n 15 "$file" >&2
  done
  "$here/down.sh" --keep "$dir" >&2 || true
}
trap on_failure ERR

netns_exec=(ip netns exec "$netns")
in_netns() { "${netns_exec[@]}" "$@"; }
kubectl_inside() { in_netns "$KUBE_BIN_DIR/kubectl" --kubeconfig "$dir/admin.inside.kubeconfig" "$@"; }

# Starts a long-running process in its own process group so down.sh can stop it and all of
# its children by group id.
start() {
  local name=$1
  shift
  setsid "$@" >"$dir/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$dir/pids/$(ls "$dir/pids" | wc -l | xargs printf '%02d')-$name"
}

# Retries COMMAND once per 0.2 s until it succeeds or SECONDS_LIMIT pass.
wait_for() {
  local what=$1 seconds_limit=$2
  shift 2
  local deadline=$((SECONDS + seconds_limit))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "timed out after ${seconds_limit}s waiting for $what"
      return 1
    fi
    sleep 0.2
  done
}

create_network() {
  ip netns add "$netns"
  ip -n "$netns" link set lo up
  ip -n "$netns" addr add "$API_SERVER_ADDRESS/32" dev lo
  # Pods get their own namespaces plugged into this bridge; the agent creates them.
  ip -n "$netns" link add pods type bridge
  ip -n "$netns" addr add "$POD_GATEWAY/${POD_CIDR#*/}" dev pods
  ip -n "$netns" link set pods up
}

create_pki() {
  local pki=$dir/pki
  pki_create_ca "$pki"
  pki_create_service_account_key "$pki"
  pki_issue "$pki" apiserver /CN=kube-apiserver \
    "IP:$API_SERVER_ADDRESS,IP:127.0.0.1,IP:$KUBERNETES_SERVICE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  pki_issue "$pki" admin /O=system:masters/CN=admin
  pki_issue "$pki" controller-manager /CN=system:kube-controller-manager
  pki_issue "$pki" scheduler /CN=system:kube-scheduler
  # KWOK and the agent act for every node, which no built-in role covers.
  pki_issue "$pki" kwok /O=system:masters/CN=kwok
  pki_issue "$pki" agent /O=system:masters/CN=test-agent
  local inside=https://127.0.0.1:$API_SERVER_PORT
  for name in admin controller-manager scheduler kwok agent; do
    pki_write_kubeconfig "$dir/$name.inside.kubeconfig" "$inside" "$pki" "$name"
  done
}

start_etcd() {
  start etcd "${netns_exec[@]}" "$KUBE_BIN_DIR/etcd" --name test --data-dir "$dir/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster test=http://127.0.0.1:2380 --unsafe-no-fsync --log-level warn
  wait_for etcd 30 in_netns bash -c 'exec 3<>/dev/tcp/127.0.0.1/2379'
}

start_api_server() {
  local pki=$dir/pki
  start kube-apiserver "${netns_exec[@]}" "$KUBE_BIN_DIR/kube-apiserver" \
    --etcd-servers=http://127.0.0.1:2379 \
    --bind-address=0.0.0.0 --secure-port="$API_SERVER_PORT" \
    --advertise-address="$API_SERVER_ADDRESS" --endpoint-reconciler-type=none \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --client-ca-file="$pki/ca.crt" \
    --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$pki/service-account.pub" \
    --service-account-signing-key-file="$pki/service-account.key" \
    --authorization-mode=RBAC --allow-privileged=true --profiling=false
  wait_for kube-apiserver 90 kubectl_inside get --raw /readyz
}

start_controllers() {
  local pki=$dir/pki
  local kubeconfig=$dir/controller-manager.inside.kubeconfig
  start kube-controller-manager "${netns_exec[@]}" "$KUBE_BIN_DIR/kube-controller-manager" \
    --kubeconfig="$kubeconfig" --authentication-kubeconfig="$kubeconfig" \
    --authorization-kubeconfig="$kubeconfig" --bind-address=127.0.0.1 --leader-elect=false \
    --use-service-account-credentials=true \
    --service-account-private-key-file="$pki/service-account.key" \
    --root-ca-file="$pki/ca.crt" \
    --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key"
  kubeconfig=$dir/scheduler.inside.kubeconfig
  start kube-scheduler "${netns_exec[@]}" "$KUBE_BIN_DIR/kube-scheduler" \
    --kubeconfig="$kubeconfig" --authentication-kubeconfig="$kubeconfig" \
    --authorization-kubeconfig="$kubeconfig" --bind-address=127.0.0.1 --leader-elect=false
  # KWOK creates and renews no node Leases unless given a duration. Without them the node
  # lifecycle controller reads only the status heartbeat. The node-heartbeat stage refreshes it
  # less often than the controller's 50 s grace period, so the controller marks the nodes
  # NotReady and every pod on them not ready, and the agent never sets those pods ready again.
  start kwok "${netns_exec[@]}" "$KUBE_BIN_DIR/kwok" --kubeconfig="$dir/kwok.inside.kubeconfig" \
    --config="$here/kwok-stages.yaml" --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --node-ip="$API_SERVER_ADDRESS" --server-address=127.0.0.1:10247 --node-lease-duration-seconds=40
}

write_agent_config() {
  cat >"$dir/cluster.json" <<EOF
{
  "clusterDir": "$dir",
  "netns": "$netns",
  "repoRoot": "$repo",
  "apiServerUrl": "https://127.0.0.1:$API_SERVER_PORT",
  "podApiServerHost": "$API_SERVER_ADDRESS",
  "podApiServerPort": $API_SERVER_PORT,
  "caFile": "$dir/pki/ca.crt",
  "certFile": "$dir/pki/agent.crt",
  "keyFile": "$dir/pki/agent.key",
  "podCidr": "$POD_CIDR",
  "podGateway": "$POD_GATEWAY",
  "podBridge": "pods"
}
EOF
}

start_agent() {
  write_agent_config
  # nsenter switches only the network namespace. `ip netns exec` would also give the agent a
  # private mount namespace, and the pod namespaces it creates would then be invisible (and
  # impossible to delete) from the host.
  start agent nsenter --net="/run/netns/$netns" node --import tsx "$here/agent.ts" "$dir/cluster.json"
}

# The API server listens inside the namespace only. A forwarder there exposes it on a Unix
# socket in the cluster folder, and a second one on the host turns that into a loopback port.
start_forwarders() {
  local socket=$dir/run/api-server.sock
  start forward-inside "${netns_exec[@]}" node --import tsx "$here/forward.ts" unix-to-tcp "$socket" \
    127.0.0.1 "$API_SERVER_PORT"
  wait_for 'the namespace-side forwarder' 30 test -S "$socket"
  start forward-host node --import tsx "$here/forward.ts" tcp-to-unix "$socket" "$dir/run/api-server.port"
  wait_for 'the host-side forwarder' 30 test -s "$dir/run/api-server.port"
  pki_write_kubeconfig "$dir/kubeconfig" "https://127.0.0.1:$(cat "$dir/run/api-server.port")" \
    "$dir/pki" admin
}

create_nodes() {
  local index
  for ((index = 0; index < nodes; index++)); do
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$index
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: kwok-node-$index
    kubernetes.io/os: linux
    type: kwok
EOF
  done | kubectl_inside apply -f - >/dev/null
  kubectl_inside apply -f "$here/storage-class.yaml" >/dev/null
  wait_for 'nodes to become Ready' 60 kubectl_inside wait --for=condition=Ready node --all --timeout=1s
  # The ServiceAccount admission plugin rejects pods until the controller manager has created
  # the namespace's default ServiceAccount.
  wait_for 'the default ServiceAccount' 60 kubectl_inside get serviceaccount default
}

# `node --import tsx` resolves tsx from the working directory.
cd "$repo"
started=$SECONDS
log "starting cluster in $dir (network namespace $netns)"
create_network
create_pki
start_etcd
start_api_server
start_controllers
start_agent
start_forwarders
create_nodes
log "cluster ready in $((SECONDS - started)) s"

cat >>"$dir/cluster.env" <<EOF
KUBECONFIG=$dir/kubeconfig
EOF
cat <<EOF
export CLUSTER_DIR=$dir
export CLUSTER_NETNS=$netns
export KUBECONFIG=$dir/kubeconfig
export PATH=$KUBE_BIN_DIR:\$PATH
EOF
