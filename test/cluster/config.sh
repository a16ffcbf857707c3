# Settings shared by the test cluster's scripts. Source it; it defines variables only.

# Kubernetes release of the control plane. The Go module beside this file pins the same one.
KUBE_VERSION=v1.36.3
STREAMCLUSTER_CACHE=${STREAMCLUSTER_CACHE:-$HOME/.cache/streamcluster}
KUBE_BIN_DIR=$STREAMCLUSTER_CACHE/kube/$KUBE_VERSION/bin

# Addresses inside the cluster's network namespace. None of them is reachable from outside it:
# the API server's advertise address sits on the namespace's loopback device, and the pod range
# is a bridge that only the pods' own namespaces are plugged into.
API_SERVER_ADDRESS=10.243.0.1
API_SERVER_PORT=6443
POD_CIDR=10.244.0.0/16
POD_GATEWAY=10.244.0.1
SERVICE_CIDR=10.96.0.0/16
# The first address of the service range, which the API server gives the `kubernetes` Service.
KUBERNETES_SERVICE_IP=10.96.0.1
