import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ConditionType, StreamClusterStatus } from '../api/streamcluster.js';

/** Outcome labels of the reconcile counter. */
export type ReconcileResult = 'success' | 'requeue' | 'error' | 'terminal';

const CONDITION_TYPES: ConditionType[] = ['Ready', 'Progressing', 'Degraded'];

// The bound label of the scaling-limited gauge, and the ScalingLimited reason it stands for.
const SCALING_BOUNDS = [
  ['max', 'TooManyReplicas'],
  ['min', 'TooFewReplicas'],
] as const;

/** Labels of the per-cluster gauges; `streamcluster` is the StreamCluster's name. */
type ClusterLabels = 'namespace' | 'streamcluster';

/** Prometheus metrics of the operator, registered on the given registry. */
export class OperatorMetrics {
  readonly reconciles: Counter<'result'>;
  readonly reconcileDuration: Histogram<'result'>;
  readonly queueDepth: Gauge;
  readonly watchRestarts: Counter<'resource' | 'reason'>;
  readonly statusWrites: Counter;
  readonly statusConflicts: Counter;
  readonly applies: Counter<'kind' | 'change'>;
  readonly leader: Gauge;
  readonly clusterCondition: Gauge<ClusterLabels | 'type'>;
  readonly clusterServers: Gauge<ClusterLabels | 'state'>;
  readonly clusterScalingLimited: Gauge<ClusterLabels | 'bound'>;

  constructor(readonly registry: Registry = new Registry()) {
    const registers = [registry];
    this.reconciles = new Counter({
      name: 'streamcluster_operator_reconciles_total',
      help: 'Reconciles by result: success, requeue, error or terminal.',
      labelNames: ['result'],
      registers,
    });
    this.reconcileDuration = new Histogram({
      name: 'streamcluster_operator_reconcile_duration_seconds',
      help: 'Time one reconcile took, in seconds.',
      labelNames: ['result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'streamcluster_operator_queue_depth',
      help: 'StreamCluster keys waiting to be reconciled.',
      registers,
    });
    this.watchRestarts = new Counter({
      name: 'streamcluster_operator_watch_restarts_total',
      help: 'Watches restarted, by resource and reason: closed, silent, error or gone (relist).',
      labelNames: ['resource', 'reason'],
      registers,
    });
    this.statusWrites = new Counter({
      name: 'streamcluster_operator_status_writes_total',
      help: 'StreamCluster status updates sent to the API server.',
      registers,
    });
    this.statusConflicts = new Counter({
      name: 'streamcluster_operator_status_conflicts_total',
      help: 'Status updates rejected with 409 Conflict and retried from a fresh read.',
      registers,
    });
    this.applies = new Counter({
      name: 'streamcluster_operator_applies_total',
      help: 'Server-side applies of children, by kind and whether the object changed.',
      labelNames: ['kind', 'change'],
      registers,
    });
    this.leader = new Gauge({
      name: 'streamcluster_operator_leader',
      help: '1 while this replica is the leader, else 0.',
      registers,
    });
    this.clusterCondition = new Gauge({
      name: 'streamcluster_operator_cluster_condition',
      help: 'Status conditions of each StreamCluster this replica reconciles: 1 True, 0 otherwise.',
      labelNames: ['namespace', 'streamcluster', 'type'],
      registers,
    });
    this.clusterServers = new Gauge({
      name: 'streamcluster_operator_cluster_servers',
      help: 'Stream server pods of each StreamCluster, by state: desired (spec), current, ready.',
      labelNames: ['namespace', 'streamcluster', 'state'],
      registers,
    });
    this.clusterScalingLimited = new Gauge({
      name: 'streamcluster_operator_cluster_scaling_limited',
      help:
        'Autoscaling of each StreamCluster held at a bound: 1 while the desired count is clamped ' +
        'to maxReplicas (bound="max") or minReplicas (bound="min"), 0 otherwise.',
      labelNames: ['namespace', 'streamcluster', 'bound'],
      registers,
    });
  }

  /** Records the conditions and server counts of the StreamCluster with key `namespace/name`. */
  observeCluster(key: string, desiredServers: number, status: StreamClusterStatus): void {
    const [namespace = '', streamcluster = ''] = key.split('/');
    for (const type of CONDITION_TYPES) {
      const condition = status.conditions?.find((candidate) => candidate.type === type);
      const value = condition?.status === 'True' ? 1 : 0;
      this.clusterCondition.set({ namespace, streamcluster, type }, value);
    }
    const servers = this.clusterServers;
    servers.set({ namespace, streamcluster, state: 'desired' }, desiredServers);
    servers.set({ namespace, streamcluster, state: 'current' }, status.replicas ?? 0);
    servers.set({ namespace, streamcluster, state: 'ready' }, status.readyReplicas ?? 0);

    const limited = status.conditions?.find((candidate) => candidate.type === 'ScalingLimited');
    const held = limited?.status === 'True' ? limited.reason : undefined;
    for (const [bound, reason] of SCALING_BOUNDS) {
      this.clusterScalingLimited.set({ namespace, streamcluster, bound }, held === reason ? 1 : 0);
    }
  }

  /** Removes the series of a StreamCluster that was deleted. */
  forgetCluster(key: string): void {
    const [namespace = '', streamcluster = ''] = key.split('/');
    for (const type of CONDITION_TYPES) {
      this.clusterCondition.remove({ namespace, streamcluster, type });
    }
    for (const state of ['desired', 'current', 'ready']) {
      this.clusterServers.remove({ namespace, streamcluster, state });
    }
    for (const [bound] of SCALING_BOUNDS) {
      this.clusterScalingLimited.remove({ namespace, streamcluster, bound });
    }
  }
}
