#!/usr/bin/env bash
# Builds the end-to-end test cluster's binaries (Kubernetes control plane, kubectl, etcd, KWOK)
# into $STREAMCLUSTER_CACHE/kube, and installs the system tools the cluster scripts call. The
# first build costs about 20 CPU-minutes (docs/benchmarks.md); later runs return at once.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../lib/common.sh
source "$root/scripts/lib/common.sh"

# iproute2 for network namespaces, openssl for the certificates. NATS pods run the nats-server
# that 10-nats.sh installs.
ensure_apt iproute2 openssl
"$root/test/cluster/build.sh"
