#!/usr/bin/env bash
# End-to-end run on kind: creates a cluster, builds the image and loads it into the nodes,
# installs the operator with the Helm chart, creates the demo StreamCluster, waits for it to be
# Ready, then ingests a PDF, searches it and sends a question through the balancer over kubectl port-forward.
# The cluster is deleted on exit unless KEEP_CLUSTER=1.
#
# Needs docker, kind, kubectl, helm and Node.js 20 with `npm ci` done (for the client commands).
#
#   test/kind/run.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

cluster=${KIND_CLUSTER_NAME:-streamcluster}
version=$(node -p "require('./package.json').version")
# The samples name this image, so the operator's children use the one loaded below.
image=streamcluster:$version
local_port=${LOCAL_PORT:-18080}
pdf=test/data/pdfs/issue10640.pdf
work=$(mktemp -d)
forward_pid=

log() { printf '[kind] %s\n' "$*" >&2; }

diagnose() {
  log "diagnostics"
  kubectl get stc,statefulsets,deployments,pods,services -o wide || true
  kubectl describe stc demo || true
  kubectl get events --sort-by=.lastTimestamp | tail -n 40 || true
  kubectl -n streamcluster-system logs deployment/streamcluster-operator --tail=200 || true
  kubectl logs -l app.kubernetes.io/instance=demo --all-containers --prefix --tail=100 || true
}

cleanup() {
  local status=$?
  if [[ -n $forward_pid ]]; then kill "$forward_pid" 2>/dev/null || true; fi
  if [[ $status -ne 0 ]]; then diagnose; fi
  if [[ ${KEEP_CLUSTER:-0} != 1 ]]; then kind delete cluster --name "$cluster" || true; fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

log "creating kind cluster $cluster"
kind create cluster --name "$cluster" --config test/kind/kind-config.yaml --wait 180s

log "building $image"
docker build -t "$image" .
kind load docker-image "$image" --name "$cluster"

log "installing the operator"
helm install streamcluster-operator charts/streamcluster-operator \
  --namespace streamcluster-system --create-namespace \
  --set image.tag="$version" --wait --timeout 5m
kubectl wait --for=condition=Established crd/streamclusters.streamcluster.io --timeout=60s

log "creating the demo StreamCluster"
kubectl apply -f crds/samples/demo.yaml
kubectl wait stc/demo --for=condition=Ready --timeout=15m
kubectl get stc demo

log "forwarding 127.0.0.1:$local_port to the balancer"
kubectl port-forward svc/demo-balancer "$local_port:8080" >"$work/port-forward.log" 2>&1 &
forward_pid=$!
for _ in $(seq 1 50); do
  if (echo >"/dev/tcp/127.0.0.1/$local_port") 2>/dev/null; then break; fi
  sleep 0.2
done
url=ws://127.0.0.1:$local_port

log "ingesting $pdf"
node bin/streamcluster.js ingest --url "$url" "$pdf"

log "searching and asking"
node bin/streamcluster.js search --url "$url" "Google Font Directory" | tee "$work/search.txt"
grep -q "issue10640.pdf" "$work/search.txt" || {
  log "search returned no chunk of issue10640.pdf"
  exit 1
}
node bin/streamcluster.js ask --url "$url" "Where is the Open Sans font available from?" |
  tee "$work/answer.txt"
[[ -s $work/answer.txt ]] || {
  log "the answer is empty"
  exit 1
}
log "passed"
