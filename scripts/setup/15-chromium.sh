#!/usr/bin/env bash
# Installs Debian's Chromium, the headless browser that test/local/web-page.test.ts drives over
# the DevTools protocol to check the balancer's web page and the client's browser bundle.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

ensure_apt chromium
