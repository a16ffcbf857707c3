/**
 * Target labels that the chart's PodMonitor and ServiceMonitor put on every scraped series, so
 * the dashboard and the alerts can group by StreamCluster:
 *
 * - `namespace`, `pod`: the pod's namespace and name.
 * - `streamcluster`: the pod label `app.kubernetes.io/instance`, the StreamCluster's name.
 * - `component`: the pod label `app.kubernetes.io/component`: server, balancer or log.
 *
 * The operator's per-cluster gauges carry `namespace` and `streamcluster` themselves, and its
 * ServiceMonitor keeps them (honorLabels).
 */
export const TARGET_LABELS = ['namespace', 'pod', 'streamcluster', 'component', 'job', 'instance'];

/** Selector of one StreamCluster picked by the dashboard's variables. */
export const CLUSTER = 'namespace="$namespace", streamcluster="$streamcluster"';
