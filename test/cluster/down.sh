#!/usr/bin/env bash
# Stops a test cluster started by up.sh: every process it started, every process running in its
# network namespaces, and the namespaces themselves. Removes the cluster folder unless --keep is
# given. Usage: test/cluster/down.sh [--keep] CLUSTER_DIR
set -euo pipefail

keep=false
if [[ ${1:-} == --keep ]]; then
  keep=true
  shift
fi
dir=${1:?usage: down.sh [--keep] CLUSTER_DIR}
if [[ ! -f $dir/cluster.env ]]; then
  echo "[cluster] $dir/cluster.env not found; nothing to stop" >&2
  exit 0
fi
# shellcheck disable=SC1091
source "$dir/cluster.env"

# Sends TERM to each process group, waits up to GRACE_SECONDS for all to exit, then KILLs.
stop_groups() {
  local grace_seconds=$1
  shift
  local pid
  for pid in "$@"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
  local deadline=$((SECONDS + grace_seconds))
  for pid in "$@"; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  done
}

# All processes get TERM at once: the agent then stops its pods while the API server shuts down,
# and whatever the agent leaves behind is killed below.
pids=()
if [[ -d $dir/pids ]]; then
  while read -r file; do
    pids+=("$(cat "$file")")
  done < <(find "$dir/pids" -type f | sort -r)
fi
if [[ ${#pids[@]} -gt 0 ]]; then
  stop_groups 10 "${pids[@]}"
fi

cluster_namespaces() {
  ip netns list | awk '{print $1}' | grep -E "^${CLUSTER_NETNS}(-[0-9]+)?$" || true
}

# Whatever still runs in the namespaces (pod processes of an agent that died) goes too. The
# agent may still be deleting pod namespaces when it exits, so deletion is retried for a while.
deadline=$((SECONDS + 10))
while true; do
  namespaces=$(cluster_namespaces)
  [[ -z $namespaces ]] && break
  for name in $namespaces; do
    mapfile -t leftover < <(ip netns pids "$name" 2>/dev/null || true)
    if [[ ${#leftover[@]} -gt 0 ]]; then
      kill -KILL "${leftover[@]}" 2>/dev/null || true
    fi
    ip netns delete "$name" 2>/dev/null || true
  done
  if ((SECONDS >= deadline)); then
    echo "[cluster] could not delete network namespaces:" $namespaces >&2
    break
  fi
  sleep 0.2
done
rm -rf "/etc/netns/$CLUSTER_NETNS" "/etc/netns/$CLUSTER_NETNS"-*

if [[ $keep == false ]]; then
  rm -rf "$dir"
fi
echo "[cluster] stopped $CLUSTER_NETNS" >&2
