#!/usr/bin/env bash
# Builds the end-to-end test cluster's binaries (Kubernetes control plane, kubectl, etcd, KWOK)
# into $STREAMCLUSTER_CACHE/kube, and installs the system tools the cluster scripts call. The
# first build takes about NN minutes on 2 cores; later runs return at once.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../lib/common.sh
source "$root/scripts/lib/common.sh"

# iproute2 for network namespaces, openssl for the certificates, nats-server for NATS pods.
ensure_apt iproute2 openssl nats-server
"$root/test/cluster/build.sh"
