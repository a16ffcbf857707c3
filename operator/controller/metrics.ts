import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Outcome labels of the reconcile counter. */
export type ReconcileResult = 'success' | 'requeue' | 'error' | 'terminal';

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
  }
}
