/** One Prometheus alerting rule. */
export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: 'critical' | 'warning' };
  annotations: { summary: string; description: string };
}

const BY_CLUSTER = 'namespace, streamcluster';

/**
 * Alerts over the metrics the operator, balancers and stream servers export. Annotations use
 * Prometheus templating (`$labels`, `$value`), which the chart passes through unrendered.
 */
export function alertRules(): AlertRule[] {
  return [
    {
      alert: 'StreamClusterNotReady',
      expr:
        `max by (${BY_CLUSTER}) (streamcluster_operator_cluster_condition{type="Ready"}) == 0\n` +
        `and on (${BY_CLUSTER})\n` +
        `max by (${BY_CLUSTER}) (streamcluster_operator_cluster_servers{state="desired"}) > 0`,
      for: '10m',
      labels: { severity: 'critical' },
      annotations: {
        summary: 'StreamCluster {{ $labels.namespace }}/{{ $labels.streamcluster }} is not Ready.',
        description:
          'The Ready condition has been False for 10 minutes. ' +
          'Run kubectl describe stc {{ $labels.streamcluster }} -n {{ $labels.namespace }} ' +
          'for the reason and the events.',
      },
    },
    {
      alert: 'StreamClusterDegraded',
      expr: `max by (${BY_CLUSTER}) (streamcluster_operator_cluster_condition{type="Degraded"}) == 1`,
      for: '15m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'StreamCluster {{ $labels.namespace }}/{{ $labels.streamcluster }} is degraded.',
        description:
          'Servers are unavailable outside a rollout, or applying children failed. ' +
          'The Degraded condition message has the cause.',
      },
    },
    {
      alert: 'StreamClusterOperatorNotLeading',
      expr: 'absent(streamcluster_operator_leader == 1)',
      for: '5m',
      labels: { severity: 'critical' },
      annotations: {
        summary: 'No StreamCluster operator replica holds the Lease.',
        description:
          'No replica has reported leadership for 5 minutes, so no StreamCluster is reconciled. ' +
          'Check the operator pods and their access to the Lease.',
      },
    },
    {
      alert: 'StreamClusterReconcileErrors',
      expr: 'sum by (result) (rate(streamcluster_operator_reconciles_total{result=~"error|terminal"}[10m])) > 0',
      for: '15m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'The StreamCluster operator keeps failing reconciles ({{ $labels.result }}).',
        description:
          'Reconciles have ended in {{ $labels.result }} for 15 minutes. ' +
          'The operator log and the Degraded condition name the object that failed.',
      },
    },
    // An open breaker reads as half-open (1) once circuitBreaker.openMs (5 s by default) has
    // passed, until a failed trial opens it again. The 2-minute maximum keeps such a breaker
    // counted as open, so half-open moments between failures do not restart the 5 minutes.
    {
      alert: 'StreamClusterCircuitBreakerOpen',
      expr: `max by (${BY_CLUSTER}, endpoint) (max_over_time(streamcluster_balancer_circuit_breaker_state[2m])) == 2`,
      for: '5m',
      labels: { severity: 'warning' },
      annotations: {
        summary:
          'Circuit breaker for {{ $labels.endpoint }} in {{ $labels.namespace }}/{{ $labels.streamcluster }} is open.',
        description:
          'The balancer has kept opening its circuit breaker for this stream server for 5 minutes, ' +
          'so the server gets few or no new connections. ' +
          'Check the server pod; its /readyz and log show why upgrades fail.',
      },
    },
    {
      alert: 'StreamClusterEndpointEjected',
      expr: `max by (${BY_CLUSTER}, endpoint) (streamcluster_balancer_endpoint_ejected) == 1`,
      for: '15m',
      labels: { severity: 'warning' },
      annotations: {
        summary:
          'Outlier detection keeps {{ $labels.endpoint }} in {{ $labels.namespace }}/{{ $labels.streamcluster }} ejected.',
        description: 'The endpoint has been ejected for 15 minutes after repeated failures.',
      },
    },
    {
      alert: 'StreamClusterBalancerPanic',
      expr: `max by (${BY_CLUSTER}) (streamcluster_balancer_panic) == 1`,
      for: '5m',
      labels: { severity: 'critical' },
      annotations: {
        summary:
          'The balancer of {{ $labels.namespace }}/{{ $labels.streamcluster }} is in panic mode.',
        description:
          'Fewer endpoints are healthy than the panic threshold, so the balancer spreads load ' +
          'over unhealthy ones too. Check the stream server pods.',
      },
    },
    {
      alert: 'StreamClusterReplicationLag',
      expr: `max by (${BY_CLUSTER}, pod) (streamcluster_replication_lag_records) > 100`,
      for: '10m',
      labels: { severity: 'warning' },
      annotations: {
        summary: '{{ $labels.pod }} trails the replicated log by {{ $value }} records.',
        description:
          'The server has not applied the log up to its head for 10 minutes, so its answers ' +
          'miss recent documents and it reports not ready. Check its log and the NATS servers.',
      },
    },
    {
      alert: 'StreamClusterLogUnavailable',
      expr: `max by (${BY_CLUSTER}, pod) (streamcluster_replication_log_available) == 0`,
      for: '5m',
      labels: { severity: 'critical' },
      annotations: {
        summary: '{{ $labels.pod }} cannot reach the replicated log.',
        description:
          'Ingests fail with LOG_UNAVAILABLE while search and ask use the local index. ' +
          'Check the NATS servers and the server log.',
      },
    },
    {
      alert: 'StreamClusterScalingAtMax',
      expr: `max by (${BY_CLUSTER}) (streamcluster_operator_cluster_scaling_limited{bound="max"}) == 1`,
      for: '15m',
      labels: { severity: 'warning' },
      annotations: {
        summary:
          'StreamCluster {{ $labels.namespace }}/{{ $labels.streamcluster }} is held at maxReplicas.',
        description:
          'The autoscaler wants more servers than spec.servers.autoscaling.maxReplicas allows, ' +
          'so connections per server stay above the target. Raise the bound or the target.',
      },
    },
    {
      alert: 'StreamClusterIngestFailures',
      expr:
        `sum by (${BY_CLUSTER}) (rate(streamcluster_server_ingests_total{outcome="failed"}[15m]))\n` +
        `/ sum by (${BY_CLUSTER}) (rate(streamcluster_server_ingests_total[15m])) > 0.1`,
      for: '15m',
      labels: { severity: 'warning' },
      annotations: {
        summary:
          'More than 10% of ingests fail in {{ $labels.namespace }}/{{ $labels.streamcluster }}.',
        description:
          'Documents fail to parse, embed or index. The server log has the document ids and ' +
          'error codes.',
      },
    },
  ];
}

/** Returns the rules as the `spec` of a PrometheusRule. */
export function prometheusRuleSpec() {
  return { groups: [{ name: 'streamcluster', rules: alertRules() }] };
}
