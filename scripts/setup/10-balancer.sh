#!/usr/bin/env bash
# Installs HAProxy, the reference proxy that scripts/bench/balancer.ts measures the balancer against.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

ensure_apt haproxy
