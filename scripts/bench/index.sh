#!/usr/bin/env bash
# Index benchmarks: memory bandwidth, raw libfaiss flat-scan CPU time, then scripts/bench/index.ts
# through the project's VectorIndex and DocumentStore. Arguments go to index.ts, for example
# `--vectors 100000 --parts flat`. Needs scripts/setup/30-faiss.sh to have run.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/common.sh

bin="$STREAMCLUSTER_CACHE/bench"
mkdir -p "$bin"
gcc -O3 -march=native -fopenmp scripts/bench/membw.c -o "$bin/membw"
g++ -O2 -std=c++17 -fopenmp scripts/bench/flat-scan.cc -o "$bin/flat-scan" \
  /usr/lib/x86_64-linux-gnu/libfaiss.a -lblas -llapack

echo "# machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin/membw"
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$bin/flat-scan" 100000 384
node --import tsx scripts/bench/index.ts "$@"
