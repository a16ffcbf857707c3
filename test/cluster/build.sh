#!/usr/bin/env bash
# Builds the test cluster's binaries (kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl, etcd, kwok) from the Go module beside this script into
# $STREAMCLUSTER_CACHE/kube/$KUBE_VERSION/bin. Does nothing when that folder already contains a
# build of the current go.mod, go.sum and this script.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=config.sh
source "$here/config.sh"
bin_dir=$KUBE_BIN_DIR
binaries=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok)

# The stamp ties a build to the module files and to this script, so a changed pin or flag
# rebuilds. Go's build cache keeps such a rebuild to compiling what changed and linking.
stamp=$(cat "$here/go.mod" "$here/go.sum" "$here/build.sh" | sha256sum | cut -d' ' -f1)

is_built() {
  [[ -f $bin_dir/.stamp && $(cat "$bin_dir/.stamp") == "$stamp" ]] || return 1
  for name in "${binaries[@]}"; do [[ -x $bin_dir/$name ]] || return 1; done
}

if is_built; then
  exit 0
fi
# Test runs that start at once would otherwise build twice and swap the folder under each other.
mkdir -p "$STREAMCLUSTER_CACHE/kube"
exec 9>"$STREAMCLUSTER_CACHE/kube/.build.lock"
flock 9
if is_built; then
  exit 0
fi
if ! command -v go >/dev/null; then
  echo "[kube] go not found on PATH; install Go 1.26 or later to build the test cluster" >&2
  exit 1
fi

# component-base and client-go carry the version that `kubectl version` and /version report.
version_flags() {
  local minor=${KUBE_VERSION#v1.}
  minor=${minor%%.*}
  local key value
  for pair in "gitVersion=$KUBE_VERSION" gitMajor=1 "gitMinor=$minor" gitTreeState=clean \
    "buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"; do
    key=${pair%%=*}
    value=${pair#*=}
    printf -- "-X k8s.io/component-base/version.%s=%s -X k8s.io/client-go/pkg/version.%s=%s " \
      "$key" "$value" "$key" "$value"
  done
}

packages=(
  k8s.io/kubernetes/cmd/kube-apiserver
  k8s.io/kubernetes/cmd/kube-controller-manager
  k8s.io/kubernetes/cmd/kube-scheduler
  k8s.io/kubernetes/cmd/kubectl
  go.etcd.io/etcd/server/v3
  sigs.k8s.io/kwok/cmd/kwok
)

staging=$(mktemp -d "$STREAMCLUSTER_CACHE/kube/.build.XXXXXX")
trap 'rm -rf "$staging"' EXIT

echo "[kube] building Kubernetes $KUBE_VERSION, etcd and kwok into $bin_dir (takes a while)" >&2
started=$SECONDS
# One invocation for all six commands so shared packages compile once. CGO is off because
# none of them needs it and static binaries do not depend on the host's libc.
(
  cd "$here"
  GOTOOLCHAIN=local CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w $(version_flags)" -o "$staging/" "${packages[@]}"
)
# A main package at a /vN module root is named after the element before the suffix.
mv "$staging/server" "$staging/etcd"
echo "$stamp" >"$staging/.stamp"

rm -rf "$bin_dir"
mkdir -p "$(dirname "$bin_dir")"
mv "$staging" "$bin_dir"
trap - EXIT
echo "[kube] built in $((SECONDS - started)) s" >&2
