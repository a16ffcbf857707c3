#!/usr/bin/env bash
# Builds the project's FAISS binding (server/index/native/faiss_addon.cc) against Debian's
# libfaiss-dev and places it at node_modules/.streamcluster/streamcluster_faiss.node, where
# server/index/faiss-addon.ts loads it. The compiled file is cached in $STREAMCLUSTER_CACHE
# under a hash of everything that goes into it, so after `npm ci` wipes node_modules a rerun
# only copies the file back; a changed source, header package or libfaiss builds a new one.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/common.sh

ensure_apt libfaiss-dev libopenblas-dev g++

source_file=server/index/native/faiss_addon.cc
addon_api=node_modules/node-addon-api
api_headers=node_modules/node-api-headers/include
for required in "$addon_api/napi.h" "$api_headers/node_api.h"; do
  [[ -f $required ]] || { log "missing $required: run npm ci first"; exit 1; }
done

flags=(-O3 -std=c++17 -fPIC -shared -fopenmp -fvisibility=hidden
  -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS -DNODE_ADDON_API_DISABLE_DEPRECATED)
libs=(/usr/lib/x86_64-linux-gnu/libfaiss.a -lblas -llapack -lgomp)

# The key covers the source, this script (flags), the header packages and the libfaiss build.
key=$(
  {
    cat "$source_file" "$0"
    node -p "['node-addon-api', 'node-api-headers'].map((name) => require('./node_modules/' + name + '/package.json').version).join(' ')"
    dpkg-query -W -f='${Version}\n' libfaiss-dev g++
  } | sha256sum | cut -c1-16
)
cached="$STREAMCLUSTER_CACHE/faiss-addon/$key/streamcluster_faiss.node"
target=node_modules/.streamcluster/streamcluster_faiss.node

if [[ ! -f $cached ]]; then
  log "building the FAISS addon ($key)"
  mkdir -p "$(dirname "$cached")"
  g++ "${flags[@]}" -I"$addon_api" -I"$api_headers" "$source_file" -o "$cached.tmp" "${libs[@]}"
  mv "$cached.tmp" "$cached"
fi

if ! cmp -s "$cached" "$target" 2>/dev/null; then
  mkdir -p "$(dirname "$target")"
  cp "$cached" "$target.tmp"
  mv "$target.tmp" "$target"
  log "installed the FAISS addon at $target"
fi
