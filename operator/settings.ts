import { boolean, integer, text, type Settings } from '../server/core/config.js';

/** Settings of `streamcluster operator`, from flags, then environment, then defaults. */
export const operatorSettings = {
  kubeconfig: {
    flag: 'kubeconfig',
    env: 'KUBECONFIG',
    help: 'kubeconfig file; empty means ~/.kube/config or the in-cluster service account',
    default: '',
    parse: text,
  },
  namespace: {
    flag: 'namespace',
    env: 'STREAMCLUSTER_WATCH_NAMESPACE',
    help: 'namespace whose StreamClusters are reconciled; empty means all namespaces',
    default: '',
    parse: (raw: string) => raw,
  },
  metricsHost: {
    flag: 'metrics-host',
    env: 'STREAMCLUSTER_METRICS_HOST',
    help: 'address the metrics and health endpoint listens on',
    default: '0.0.0.0',
    parse: text,
  },
  metricsPort: {
    flag: 'metrics-port',
    env: 'STREAMCLUSTER_METRICS_PORT',
    help: 'port of /metrics, /healthz and /readyz; 0 picks a free port',
    default: 9090,
    parse: integer(0, 65535),
  },
  leaderElect: {
    flag: 'leader-elect',
    env: 'STREAMCLUSTER_LEADER_ELECT',
    help: 'hold a Lease so that only one of several replicas reconciles',
    default: true,
    parse: boolean,
  },
  leaseNamespace: {
    flag: 'lease-namespace',
    env: 'POD_NAMESPACE',
    help: 'namespace of the leader election Lease',
    default: 'default',
    parse: text,
  },
  leaseName: {
    flag: 'lease-name',
    env: 'STREAMCLUSTER_LEASE_NAME',
    help: 'name of the leader election Lease',
    default: 'streamcluster-operator',
    parse: text,
  },
  leaseDurationSeconds: {
    flag: 'lease-duration-seconds',
    env: 'STREAMCLUSTER_LEASE_DURATION_SECONDS',
    help: 'seconds without renewal after which another replica may take the Lease over',
    default: 15,
    parse: integer(2, 600),
  },
  workers: {
    flag: 'workers',
    env: 'STREAMCLUSTER_WORKERS',
    help: 'StreamClusters reconciled at once',
    default: 2,
    parse: integer(1, 64),
  },
  resyncSeconds: {
    flag: 'resync-seconds',
    env: 'STREAMCLUSTER_RESYNC_SECONDS',
    help: 'seconds between status refreshes of a converged cluster',
    default: 30,
    parse: integer(1, 3600),
  },
  autoscaleIntervalSeconds: {
    flag: 'autoscale-interval-seconds',
    env: 'STREAMCLUSTER_AUTOSCALE_INTERVAL_SECONDS',
    help: 'seconds between autoscaling decisions of a StreamCluster with autoscaling enabled',
    default: 15,
    parse: integer(1, 600),
  },
} satisfies Settings;
