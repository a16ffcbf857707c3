#!/usr/bin/env bash
# Builds promtool from the Prometheus Go module into
# $STREAMCLUSTER_CACHE/promtool/$PROMETHEUS_VERSION/bin, for the test that checks and unit-tests
# the alert rules (cdk8s/monitoring/alerts.test.ts). Returns at once when that binary exists and
# was built by this version of the script.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../lib/common.sh
source "$root/scripts/lib/common.sh"

# Keep in step with PROMETHEUS_VERSION in test/install/prometheus.ts. Prometheus publishes
# release 3.x.y as Go module version v0.3xx.y, so v0.316.0 is Prometheus 3.16.0.
PROMETHEUS_VERSION=v3.16.0
MODULE_VERSION=v0.316.0
bin_dir="$STREAMCLUSTER_CACHE/promtool/$PROMETHEUS_VERSION/bin"
# The stamp ties the binary to this script, so a changed version or flag rebuilds it.
stamp=$(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)

if [[ -x $bin_dir/promtool && -f $bin_dir/.stamp && $(cat "$bin_dir/.stamp") == "$stamp" ]]; then
  exit 0
fi
if ! command -v go >/dev/null; then
  log "go not found on PATH; install Go 1.26 or later to build promtool"
  exit 1
fi

log "building promtool $PROMETHEUS_VERSION into $bin_dir"
staging=$(mktemp -d "$STREAMCLUSTER_CACHE/.promtool-build.XXXXXX")
trap 'rm -rf "$staging"' EXIT
# remove_all_sd is Prometheus's build tag that leaves out the cloud service discoveries (it keeps
# file, static and HTTP discovery). Checking and unit-testing rules needs none of them. With empty
# Go caches, Go 1.26.8 and 2 cores, the tag cut the modules downloaded from 276 to 159 MiB and the
# build from 6.6 to 2.8 minutes (one run each). CGO is off so the binary does not depend on the
# host's libc. The version is set the way Prometheus's release build sets it, so
# `promtool --version` reports the release.
ldflags="-s -w -X github.com/prometheus/common/version.Version=${PROMETHEUS_VERSION#v}"
GOTOOLCHAIN=local CGO_ENABLED=0 GOBIN="$staging" go install -trimpath -tags remove_all_sd \
  -ldflags "$ldflags" "github.com/prometheus/prometheus/cmd/promtool@$MODULE_VERSION"
mkdir -p "$bin_dir"
mv "$staging/promtool" "$bin_dir/promtool"
echo "$stamp" >"$bin_dir/.stamp"
log "promtool ready in $bin_dir"
