#!/usr/bin/env bash
# Installs nats-server from Debian (2.9.x, JetStream included) for the replicated log's tests and
# for clusters that run the NATS backend on the same machine.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

ensure_apt nats-server
