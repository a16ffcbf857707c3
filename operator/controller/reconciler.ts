import { isDeepStrictEqual } from 'node:util';
import type { Logger } from '../../server/core/logger.js';
import {
  GROUP,
  PLURAL,
  VERSION,
  type StreamCluster,
  type StreamClusterStatus,
} from '../api/streamcluster.js';
import { buildChildren, objectKey, type KubeObject } from '../children/index.js';
import { PORTS, childNames, serverSelector } from '../children/names.js';
import { apiMessageOf, httpStatusOf, type KubeClients } from '../kube/client.js';
import type { ObjectCache } from '../kube/informer.js';
import { CHILD_TYPES, keyOf, type KubeResource } from '../kube/resources.js';
import { applyObject, classifyChange } from './apply.js';
import { findCondition } from './conditions.js';
import type { EventRecorder } from './events.js';
import type { OperatorMetrics } from './metrics.js';
import { workloadState, type Observation, type ServerStats } from './observe.js';
import { done, requeueAfter, TerminalError, type Outcome } from './outcome.js';
import type { StatsFetcher } from './stats.js';
import { computeStatus } from './status.js';

/** Options of {@link Reconciler}. */
export interface ReconcilerOptions {
  clients: KubeClients;
  streamClusters: ObjectCache;
  /** Caches of the child kinds, by kind. */
  children: Map<string, ObjectCache>;
  events: EventRecorder;
  metrics: OperatorMetrics;
  logger: Logger;
  fetchStats: StatsFetcher;
  /** Resource versions of the operator's own status writes, so their watch events are ignored. */
  ownWrites: Set<string>;
  clock?: () => Date;
  /** Delay before a converged cluster's status is refreshed from `/stats`; default 30 000 ms. */
  resyncMs?: number;
  /** Delay between checks while a cluster is not ready or rolling out; default 5000 ms. */
  progressMs?: number;
}

/** Attempts at a status write that meets conflicts (409) before the reconcile fails. */
const STATUS_ATTEMPTS = 4;

/**
 * Converges one StreamCluster: applies its children, deletes children it no longer wants,
 * observes them and writes status. Deletion needs no step because every child has an owner
 * reference, so the garbage collector removes the children when the StreamCluster goes.
 */
export class Reconciler {
  private readonly lastApplied = new Map<string, string>();

  constructor(private readonly options: ReconcilerOptions) {}

  /** Reconciles the StreamCluster with the key `namespace/name`. */
  async reconcile(key: string): Promise<Outcome> {
    const stc = this.readStreamCluster(key);
    if (!stc || stc.metadata.deletionTimestamp) {
      this.options.metrics.forgetCluster(key);
      return done();
    }

    const children = buildChildren(stc);
    let applyError: unknown;
    try {
      await this.reconcileChildren(stc, children);
      await this.ensureStaleChildrenDeleted(stc, children);
    } catch (error) {
      applyError = error;
    }
    const observation = await this.observeChildren(stc, applyError);
    const status = await this.updateStatus(stc, observation);
    this.options.metrics.observeCluster(key, stc.spec.servers.replicas, status);
    if (applyError) throw applyError;
    return this.scheduleNextCheck(status);
  }

  private readStreamCluster(key: string): StreamCluster | undefined {
    const [namespace = '', name = ''] = key.split('/');
    return this.options.streamClusters.get(namespace, name) as StreamCluster | undefined;
  }

  /** Applies every desired child and records an Event for each one created or changed. */
  private async reconcileChildren(stc: StreamCluster, children: KubeObject[]): Promise<void> {
    for (const child of children) {
      const key = objectKey(child);
      const before = this.cached(child)?.metadata.resourceVersion;
      let applied: KubeResource;
      try {
        applied = await applyObject(this.options.clients.objects, child);
      } catch (error) {
        throw this.applyFailure(child, error);
      }
      const after = applied.metadata.resourceVersion;
      const change = classifyChange(before, this.lastApplied.get(key), after);
      if (after) this.lastApplied.set(key, after);
      this.options.metrics.applies.inc({ kind: child.kind, change });
      if (change !== 'unchanged') await this.recordChange(stc, child, change);
    }
  }

  private applyFailure(child: KubeObject, error: unknown): Error {
    const message = `apply of ${child.kind} ${child.metadata.name} failed: ${apiMessageOf(error)}`;
    const status = httpStatusOf(error);
    // The API server rejected the object itself; the same spec will be rejected again.
    if (status === 400 || status === 422) return new TerminalError(message, { cause: error });
    return new Error(message, { cause: error });
  }

  private async recordChange(stc: StreamCluster, child: KubeObject, change: string) {
    const verb = change === 'created' ? 'Created' : 'Updated';
    const message = `${verb} ${child.kind} ${child.metadata.name}.`;
    this.options.logger.info(
      {
        namespace: stc.metadata.namespace,
        name: stc.metadata.name,
        kind: child.kind,
        child: child.metadata.name,
        change,
      },
      'child applied',
    );
    await this.options.events.record(stc, 'Normal', `${verb}Child`, message);
  }

  private cached(child: Pick<KubeObject, 'kind' | 'metadata'>): KubeResource | undefined {
    const informer = this.options.children.get(child.kind);
    return informer?.get(child.metadata.namespace ?? '', child.metadata.name);
  }

  /** Deletes children this StreamCluster owns but no longer wants, such as NATS gone external. */
  private async ensureStaleChildrenDeleted(
    stc: StreamCluster,
    children: KubeObject[],
  ): Promise<void> {
    const desired = new Set(children.map((child) => `${child.kind}/${child.metadata.name}`));
    for (const [kind, informer] of this.options.children) {
      for (const object of informer.list()) {
        if (object.metadata.namespace !== stc.metadata.namespace) continue;
        const owner = object.metadata.ownerReferences?.find((ref) => ref.controller);
        if (owner?.uid !== stc.metadata.uid) continue;
        if (desired.has(`${kind}/${object.metadata.name}`)) continue;
        await this.deleteChild(stc, { ...object, kind });
      }
    }
  }

  private async deleteChild(stc: StreamCluster, object: KubeResource & { kind: string }) {
    const apiVersion = object.apiVersion ?? this.apiVersionOf(object.kind);
    try {
      await this.options.clients.objects.delete({
        apiVersion,
        kind: object.kind,
        metadata: { name: object.metadata.name, namespace: object.metadata.namespace },
      });
    } catch (error) {
      if (httpStatusOf(error) !== 404) throw error;
    }
    const message = `Deleted ${object.kind} ${object.metadata.name}, which the spec no longer needs.`;
    this.options.logger.info(
      { namespace: stc.metadata.namespace, kind: object.kind, child: object.metadata.name },
      'child deleted',
    );
    await this.options.events.record(stc, 'Normal', 'DeletedChild', message);
  }

  private apiVersionOf(kind: string): string {
    const type = CHILD_TYPES.find((candidate) => candidate.kind === kind);
    if (!type) throw new Error(`no API version known for kind ${kind}`);
    return type.apiVersion;
  }

  /** Reads the state of the workloads and the `/stats` of every ready server. */
  private async observeChildren(stc: StreamCluster, applyError: unknown): Promise<Observation> {
    const names = childNames(stc.metadata.name);
    const namespace = stc.metadata.namespace;
    const sets = this.options.children.get('StatefulSet');
    const deployments = this.options.children.get('Deployment');
    const servers = sets?.get(namespace, names.server);
    const balancer = deployments?.get(namespace, names.balancer);
    const log = stc.spec.log.mode === 'managed' ? sets?.get(namespace, names.log) : undefined;
    const { stats, readyServerPods } = await this.readServerStats(stc);
    return {
      servers: servers && workloadState(servers),
      balancer: balancer && workloadState(balancer),
      log: log && workloadState(log),
      stats,
      readyServerPods,
      applyError: applyError ? (applyError as Error).message : undefined,
    };
  }

  private async readServerStats(stc: StreamCluster) {
    const pods = await this.options.clients.core.listNamespacedPod({
      namespace: stc.metadata.namespace,
      labelSelector: serverSelector(stc),
    });
    const ready = pods.items.filter(
      (pod) =>
        pod.status?.podIP &&
        !pod.metadata?.deletionTimestamp &&
        pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    );
    const stats = new Map<string, ServerStats>();
    await Promise.all(
      ready.map(async (pod) => {
        const podName = pod.metadata?.name ?? '';
        try {
          const target = { podName, ip: pod.status!.podIP!, port: PORTS.http };
          stats.set(podName, await this.options.fetchStats(target));
        } catch (error) {
          this.options.logger.debug(
            { namespace: stc.metadata.namespace, pod: podName, err: error },
            'reading stats failed',
          );
        }
      }),
    );
    return { stats, readyServerPods: ready.length };
  }

  /**
   * Writes status when it differs from the stored one. A conflict (409) is retried from a fresh
   * read. If the fresh object has a newer generation, the write is left to the reconcile that its
   * watch event queues, because the children were applied for the older spec.
   */
  private async updateStatus(
    stc: StreamCluster,
    observation: Observation,
  ): Promise<StreamClusterStatus> {
    let current = stc;
    for (let attempt = 1; ; attempt++) {
      const status = computeStatus(current, observation, this.now());
      if (isDeepStrictEqual(status, current.status)) return status;
      try {
        await this.writeStatus(current, status);
        return status;
      } catch (error) {
        if (httpStatusOf(error) !== 409 || attempt >= STATUS_ATTEMPTS) throw error;
        this.options.metrics.statusConflicts.inc();
        this.options.logger.debug({ key: keyOf(current), attempt }, 'status conflict; rereading');
      }
      const fresh = await this.readFresh(current);
      if (!fresh || fresh.metadata.generation !== stc.metadata.generation) return status;
      current = fresh;
    }
  }

  private async writeStatus(stc: StreamCluster, status: StreamClusterStatus): Promise<void> {
    const { namespace, name } = stc.metadata;
    const written = (await this.options.clients.custom.replaceNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: PLURAL,
      name,
      body: { ...stc, status },
    })) as StreamCluster;
    const version = written.metadata.resourceVersion;
    if (version) this.options.ownWrites.add(version);
    this.options.metrics.statusWrites.inc();
    await this.recordTransitions(stc, status);
  }

  private async recordTransitions(stc: StreamCluster, status: StreamClusterStatus) {
    for (const condition of status.conditions ?? []) {
      const previous = findCondition(stc.status?.conditions, condition.type);
      if (previous?.status === condition.status && previous.reason === condition.reason) continue;
      const type =
        condition.type === 'Degraded' && condition.status === 'True' ? 'Warning' : 'Normal';
      await this.options.events.record(stc, type, condition.reason, condition.message);
    }
  }

  private async readFresh(stc: StreamCluster): Promise<StreamCluster | undefined> {
    try {
      return (await this.options.clients.custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: stc.metadata.namespace,
        plural: PLURAL,
        name: stc.metadata.name,
      })) as StreamCluster;
    } catch (error) {
      if (httpStatusOf(error) === 404) return undefined;
      throw error;
    }
  }

  private scheduleNextCheck(status: StreamClusterStatus): Outcome {
    const ready = findCondition(status.conditions, 'Ready')?.status === 'True';
    const progressing = findCondition(status.conditions, 'Progressing')?.status === 'True';
    if (!ready || progressing) return requeueAfter(this.options.progressMs ?? 5000, 'progressing');
    return requeueAfter(this.options.resyncMs ?? 30_000, 'resync');
  }

  private now(): Date {
    return this.options.clock?.() ?? new Date();
  }
}
