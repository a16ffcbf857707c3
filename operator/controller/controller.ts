import type { Logger } from '../../server/core/logger.js';
import type { KubeClients } from '../kube/client.js';
import { Informer, type ChangeType } from '../kube/informer.js';
import { CHILD_TYPES, STREAM_CLUSTERS, keyOf, type KubeResource } from '../kube/resources.js';
import { KIND } from '../api/streamcluster.js';
import { MANAGED_BY } from '../children/names.js';
import { EventRecorder } from './events.js';
import type { OperatorMetrics, ReconcileResult } from './metrics.js';
import { TerminalError, type Outcome } from './outcome.js';
import { WorkQueue } from './queue.js';
import { Reconciler } from './reconciler.js';
import type { ServerRequests } from './server-requests.js';
import type { StatsFetcher } from './stats.js';

/** Options of {@link Controller}. */
export interface ControllerOptions {
  clients: KubeClients;
  logger: Logger;
  metrics: OperatorMetrics;
  fetchStats: StatsFetcher;
  /** Drain and shed requests to the servers; default plain HTTP to the pod IPs. */
  serverRequests?: ServerRequests;
  /** Time between autoscaling decisions; default 15 000 ms. */
  autoscaleIntervalMs?: number;
  /** Time between drain steps of a scale-in; default 1000 ms. */
  drainStepMs?: number;
  /** Namespace to watch; all namespaces when empty. */
  namespace?: string;
  /** Reconciles running at once, each on a different StreamCluster; default 2. */
  workers?: number;
  /** Name of this replica, recorded on Events; default the host name. */
  instance?: string;
  /** Delay before a converged cluster's status is refreshed; default 30 000 ms. */
  resyncMs?: number;
  /** Delay between checks while a cluster is not ready; default 5000 ms. */
  progressMs?: number;
  /** Server-side watch duration; default 300 s. */
  watchTimeoutSeconds?: number;
  /** A watch silent for this long is restarted; default the watch timeout plus 30 s. */
  silenceTimeoutMs?: number;
}

/** Bound on the remembered resource versions of own status writes. */
const OWN_WRITES_LIMIT = 1000;

/**
 * Watches StreamClusters and their children and feeds one work queue; workers take keys from
 * it and run the reconciler. This is the one place where reconcile outcomes become queue
 * actions and metrics.
 */
export class Controller {
  readonly queue: WorkQueue;
  readonly streamClusters: Informer;
  readonly children = new Map<string, Informer>();
  private readonly reconciler: Reconciler;
  private readonly ownWrites = new Set<string>();
  private readonly workers: Promise<void>[] = [];

  constructor(private readonly options: ControllerOptions) {
    const { metrics } = options;
    this.queue = new WorkQueue({ onDepthChange: (depth) => metrics.queueDepth.set(depth) });
    this.streamClusters = this.informer(STREAM_CLUSTERS.kind, undefined, (change, object) =>
      this.onStreamClusterChange(change, object),
    );
    for (const type of CHILD_TYPES) {
      const selector = `app.kubernetes.io/managed-by=${MANAGED_BY}`;
      this.children.set(
        type.kind,
        this.informer(type.kind, selector, (_change, object) => this.onChildChange(object)),
      );
    }
    this.reconciler = new Reconciler({
      clients: options.clients,
      streamClusters: this.streamClusters,
      children: this.children,
      events: new EventRecorder({
        core: options.clients.core,
        logger: options.logger,
        instance: options.instance ?? process.env.HOSTNAME ?? 'streamcluster-operator',
      }),
      metrics,
      logger: options.logger,
      fetchStats: options.fetchStats,
      serverRequests: options.serverRequests,
      autoscaleIntervalMs: options.autoscaleIntervalMs,
      drainStepMs: options.drainStepMs,
      ownWrites: this.ownWrites,
      resyncMs: options.resyncMs,
      progressMs: options.progressMs,
    });
  }

  /** Fills every cache, then starts the workers. */
  async start(): Promise<void> {
    // Children first, so the first reconciles see existing children and apply no-ops.
    await Promise.all([...this.children.values()].map((informer) => informer.start()));
    await this.streamClusters.start();
    for (let i = 0; i < (this.options.workers ?? 2); i++) this.workers.push(this.work());
    this.options.logger.info({ namespace: this.options.namespace || 'all' }, 'controller started');
  }

  /** Stops the watches and waits for running reconciles to finish. */
  async stop(): Promise<void> {
    this.queue.shutDown();
    this.streamClusters.stop();
    for (const informer of this.children.values()) informer.stop();
    await Promise.all(this.workers);
    this.options.logger.info('controller stopped');
  }

  private informer(
    kind: string,
    labelSelector: string | undefined,
    onChange: (change: ChangeType, object: KubeResource) => void,
  ): Informer {
    const type =
      kind === STREAM_CLUSTERS.kind ? STREAM_CLUSTERS : CHILD_TYPES.find((t) => t.kind === kind)!;
    return new Informer({
      clients: this.options.clients,
      type,
      namespace: this.options.namespace,
      labelSelector,
      onChange,
      logger: this.options.logger,
      metrics: this.options.metrics,
      watchTimeoutSeconds: this.options.watchTimeoutSeconds,
      silenceTimeoutMs: this.options.silenceTimeoutMs,
    });
  }

  /** Queues a StreamCluster unless the change is the operator's own status write. */
  private onStreamClusterChange(change: ChangeType, object: KubeResource): void {
    const version = object.metadata.resourceVersion;
    if (change === 'MODIFIED' && version && this.ownWrites.delete(version)) return;
    if (this.ownWrites.size > OWN_WRITES_LIMIT) this.ownWrites.clear();
    this.queue.add(keyOf(object));
  }

  /** Queues the StreamCluster that controls a changed child, so drift is reverted. */
  private onChildChange(object: KubeResource): void {
    const owner = object.metadata.ownerReferences?.find(
      (ref) => ref.controller && ref.kind === KIND,
    );
    if (owner) this.queue.add(`${object.metadata.namespace ?? ''}/${owner.name}`);
  }

  private async work(): Promise<void> {
    for (let key = await this.queue.get(); key !== undefined; key = await this.queue.get()) {
      await this.process(key);
      this.queue.done(key);
    }
  }

  /** Runs one reconcile and turns its outcome into a queue action and metrics. */
  private async process(key: string): Promise<void> {
    const started = process.hrtime.bigint();
    let result: ReconcileResult;
    try {
      result = this.schedule(key, await this.reconciler.reconcile(key));
    } catch (error) {
      result = this.handleFailure(key, error);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.options.metrics.reconciles.inc({ result });
    this.options.metrics.reconcileDuration.observe({ result }, seconds);
  }

  private schedule(key: string, outcome: Outcome): ReconcileResult {
    this.queue.forget(key);
    if (outcome.kind === 'done') return 'success';
    this.queue.addAfter(key, outcome.afterMs);
    return 'requeue';
  }

  private handleFailure(key: string, error: unknown): ReconcileResult {
    if (error instanceof TerminalError) {
      this.queue.forget(key);
      this.options.logger.error({ key, err: error }, 'reconcile failed; waiting for a spec change');
      return 'terminal';
    }
    const delayMs = this.queue.addRateLimited(key);
    this.options.logger.warn({ key, err: error, retryInMs: delayMs }, 'reconcile failed');
    return 'error';
  }
}
