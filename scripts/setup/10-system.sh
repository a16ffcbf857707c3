#!/usr/bin/env bash
# System packages for ingestion tests and benchmarks: the Debian Reference manual (a real
# 261-page PDF) and poppler-utils, whose pdftotext is the independent reference the PDF text
# extraction is compared with.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

ensure_apt debian-reference-en poppler-utils
