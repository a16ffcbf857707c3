#!/usr/bin/env bash
# Copies the Prometheus Operator's CRDs for the kinds the chart renders (PodMonitor,
# ServiceMonitor, PrometheusRule) from its Go module into
# $STREAMCLUSTER_CACHE/prometheus-operator/$PROMETHEUS_OPERATOR_VERSION/crds, so the API-server
# install test can dry-run the chart's monitoring objects against their schemas. The CRDs stay in
# the cache and are never committed. Returns at once when this version of the script copied them.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../lib/common.sh
source "$root/scripts/lib/common.sh"

# Keep in step with PROMETHEUS_OPERATOR_VERSION in test/install/prometheus.ts.
# NOTE: the module proxy this project builds through lists the operator's main module only up to
# v0.85.0 and rejects v0.95.2, so the CRDs are those of v0.85.0. Their v1 schemas accept every
# field the chart sets, under strict field validation.
PROMETHEUS_OPERATOR_VERSION=v0.85.0
MODULE=github.com/prometheus-operator/prometheus-operator
kinds=(podmonitors servicemonitors prometheusrules)
crd_dir="$STREAMCLUSTER_CACHE/prometheus-operator/$PROMETHEUS_OPERATOR_VERSION/crds"
# The stamp ties the copies to this script, so a changed version or kind list copies again.
stamp=$(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)

is_copied() {
  [[ -f $crd_dir/.stamp && $(cat "$crd_dir/.stamp") == "$stamp" ]] || return 1
  for kind in "${kinds[@]}"; do [[ -f $crd_dir/monitoring.coreos.com_$kind.yaml ]] || return 1; done
}

if is_copied; then
  exit 0
fi
if ! command -v go >/dev/null; then
  log "go not found on PATH; install Go 1.26 or later to download the Prometheus Operator CRDs"
  exit 1
fi

log "copying Prometheus Operator $PROMETHEUS_OPERATOR_VERSION CRDs into $crd_dir"
# `go mod download` puts the module's source in the Go module cache and prints where, or prints
# the error in the same JSON object.
module_version="$MODULE@$PROMETHEUS_OPERATOR_VERSION"
if ! download=$(GOTOOLCHAIN=local go mod download -json "$module_version"); then
  log "go mod download of $module_version failed: $download"
  exit 1
fi
module_dir=$(sed -n 's/^\t"Dir": "\(.*\)",$/\1/p' <<<"$download")
if [[ ! -d $module_dir ]]; then
  log "go mod download printed no module folder for $module_version: $download"
  exit 1
fi
# example/prometheus-operator-crd has the CRDs of the release, as its bundle.yaml installs them.
mkdir -p "$crd_dir"
for kind in "${kinds[@]}"; do
  install -m 0644 "$module_dir/example/prometheus-operator-crd/monitoring.coreos.com_$kind.yaml" \
    "$crd_dir/"
done
echo "$stamp" >"$crd_dir/.stamp"
log "Prometheus Operator CRDs ready in $crd_dir"
