#!/usr/bin/env bash
# Builds the Helm CLI from its Go module into $STREAMCLUSTER_CACHE/helm/$HELM_VERSION/bin, for the
# chart's lint, template and dry-run tests (charts/streamcluster-operator). Returns at once when
# that binary exists and was built by this version of the script.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../lib/common.sh
source "$root/scripts/lib/common.sh"

# Keep in step with HELM_VERSION in test/install/helm.ts.
HELM_VERSION=v3.21.4
# Kubernetes version that `helm template` and `helm lint` assume without a cluster: the one of
# the k8s.io modules this Helm release builds with (v0.36.2), as Helm's own Makefile sets it.
KUBE_MINOR=36
bin_dir="$STREAMCLUSTER_CACHE/helm/$HELM_VERSION/bin"
# The stamp ties the binary to this script, so a changed version or flag rebuilds it.
stamp=$(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)

if [[ -x $bin_dir/helm && -f $bin_dir/.stamp && $(cat "$bin_dir/.stamp") == "$stamp" ]]; then
  exit 0
fi
if ! command -v go >/dev/null; then
  log "go not found on PATH; install Go 1.26 or later to build helm"
  exit 1
fi

log "building helm $HELM_VERSION into $bin_dir"
staging=$(mktemp -d "$STREAMCLUSTER_CACHE/.helm-build.XXXXXX")
trap 'rm -rf "$staging"' EXIT
# CGO is off so the binary does not depend on the host's libc. The versions are set the way
# Helm's Makefile sets them, so `helm version` reports the release.
ldflags=(-s -w "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION")
for package in pkg/lint/rules pkg/chartutil; do
  ldflags+=("-X helm.sh/helm/v3/$package.k8sVersionMajor=1"
    "-X helm.sh/helm/v3/$package.k8sVersionMinor=$KUBE_MINOR")
done
GOTOOLCHAIN=local CGO_ENABLED=0 GOBIN="$staging" go install -trimpath \
  -ldflags "${ldflags[*]}" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
mkdir -p "$bin_dir"
mv "$staging/helm" "$bin_dir/helm"
echo "$stamp" >"$bin_dir/.stamp"
log "helm ready in $bin_dir"
