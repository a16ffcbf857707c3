import { isDeepStrictEqual } from 'node:util';
import type { Logger } from '../../server/core/logger.js';
import {
  GROUP,
  PLURAL,
  VERSION,
  type StreamCluster,
  type StreamClusterStatus,
} from '../api/streamcluster.js';
import type { V1Pod } from '@kubernetes/client-node';
import { StatsCollector, type ServerReading } from '../autoscaling/index.js';
import { buildChildren, objectKey, type KubeObject } from '../children/index.js';
import { PORTS, childNames, serverSelector } from '../children/names.js';
import { apiMessageOf, httpStatusOf, type KubeClients } from '../kube/client.js';
import type { ObjectCache } from '../kube/informer.js';
import { CHILD_TYPES, keyOf, type KubeResource } from '../kube/resources.js';
import { applyObject, classifyChange } from './apply.js';
import { Autoscaler, type AutoscaleOutcome } from './autoscale.js';
import { findCondition } from './conditions.js';
import type { EventRecorder } from './events.js';
import type { OperatorMetrics } from './metrics.js';
import { workloadState, type Observation, type ServerStats } from './observe.js';
import { done, requeueAfter, TerminalError, type Outcome } from './outcome.js';
import { ScaleIn, type ScaleInStep } from './scale-in.js';
import { ScaleOutRelief } from './scale-out.js';
import { httpServerRequests, type ServerRequests } from './server-requests.js';
import { readServerToken, type ServerToken } from './server-token.js';
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
  /** Drain and shed requests to the servers; default plain HTTP to the pod IPs. */
  serverRequests?: ServerRequests;
  /** Resource versions of the operator's own status writes, so their watch events are ignored. */
  ownWrites: Set<string>;
  clock?: () => Date;
  /** Delay before a converged cluster's status is refreshed from `/stats`; default 30 000 ms. */
  resyncMs?: number;
  /** Delay between checks while a cluster is not ready or rolling out; default 5000 ms. */
  progressMs?: number;
  /** Time between autoscaling decisions; default 15 000 ms. */
  autoscaleIntervalMs?: number;
  /** Time between drain steps of a scale-in; default 1000 ms. */
  drainStepMs?: number;
}

/** The server pods of a StreamCluster and the `/stats` readings of this reconcile. */
interface ServerPods {
  pods: V1Pod[];
  /** Names of the ready pods, including those whose stats could not be read. */
  ready: Set<string>;
  /** Readings of every running server, by pod name. */
  readings: Map<string, ServerReading>;
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
  private readonly collectors = new Map<string, StatsCollector>();
  private readonly autoscaler: Autoscaler;
  private readonly scaleIn: ScaleIn;
  private readonly scaleOut: ScaleOutRelief;

  constructor(private readonly options: ReconcilerOptions) {
    const { events, logger, clients } = options;
    const requests = options.serverRequests ?? httpServerRequests();
    this.autoscaler = new Autoscaler({
      clients,
      events,
      logger,
      intervalMs: options.autoscaleIntervalMs,
    });
    this.scaleIn = new ScaleIn({ events, logger, requests, stepMs: options.drainStepMs });
    this.scaleOut = new ScaleOutRelief({ logger, requests });
  }

  /**
   * Reconciles the StreamCluster with the key `namespace/name`: reads the servers' load, lets the
   * autoscaler set the count, drains servers a scale-in removes, applies the children and writes
   * status.
   */
  async reconcile(key: string): Promise<Outcome> {
    const cached = this.readStreamCluster(key);
    if (!cached || cached.metadata.deletionTimestamp) {
      this.options.metrics.forgetCluster(key);
      this.forget(key);
      return done();
    }

    const servers = await this.readServers(cached);
    // Read once here, so the drain and shed requests of this reconcile share one Secret read.
    const serverToken = await readServerToken(this.options.clients.core, cached);
    // As decide() expects: ready servers, and draining ones whose connections still count.
    const readings = [...servers.readings.values()].filter(
      (reading) => servers.ready.has(reading.podName) || reading.sample?.draining,
    );
    const scaling = await this.autoscaler.reconcileAutoscaling(
      cached,
      readings,
      servers.ready.size,
    );
    if (scaling.kind === 'cacheBehind') return requeueAfter(200, 'cacheBehind');
    const stc = scaling.kind === 'decided' ? scaling.stc : cached;
    const step = await this.reconcileServerCount(stc, scaling, servers, serverToken);

    const children = buildChildren(withServerReplicas(stc, step.replicas));
    let applyError: unknown;
    try {
      await this.reconcileChildren(stc, children);
      await this.ensureStaleChildrenDeleted(stc, children);
    } catch (error) {
      applyError = error;
    }
    const observation = this.observeChildren(stc, servers, applyError);
    if (scaling.kind === 'decided') observation.autoscaling = { decision: scaling.decision };
    observation.drain = step.progress;
    if (serverToken.state === 'unavailable') {
      observation.serverTokenProblem = { reason: serverToken.reason, message: serverToken.message };
    }
    const status = await this.updateStatus(stc, observation);
    this.options.metrics.observeCluster(key, stc.spec.servers.replicas, status);
    if (applyError) throw applyError;
    const nextDecisionInMs = scaling.kind === 'decided' ? scaling.nextDecisionInMs : undefined;
    return this.scheduleNextCheck(status, nextDecisionInMs, step.nextStepInMs);
  }

  private forget(key: string): void {
    this.collectors.delete(key);
    this.autoscaler.forget(key);
    this.scaleIn.forget(key);
    this.scaleOut.forget(key);
  }

  /**
   * Decides the StatefulSet's count: the desired one, or the current one while the servers a
   * scale-in removes still drain. A scale-out also has load moved onto the new servers.
   */
  private async reconcileServerCount(
    stc: StreamCluster,
    scaling: AutoscaleOutcome,
    servers: ServerPods,
    serverToken: ServerToken,
  ): Promise<ScaleInStep> {
    const desiredReplicas =
      scaling.kind === 'decided' ? scaling.replicas : stc.spec.servers.replicas;
    const set = this.options.children
      .get('StatefulSet')
      ?.get(stc.metadata.namespace, childNames(stc.metadata.name).server);
    const currentReplicas = (set?.spec as { replicas?: number } | undefined)?.replicas;
    const { pods, readings } = servers;
    await this.scaleOut.reconcileScaleOut(
      stc,
      desiredReplicas,
      currentReplicas,
      pods,
      readings,
      serverToken,
    );
    return this.scaleIn.reconcileScaleIn({
      stc,
      desiredReplicas,
      currentReplicas,
      pods,
      readings,
      serverToken,
    });
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

  /** Reads the state of the workloads from the caches, with the servers' stats. */
  private observeChildren(
    stc: StreamCluster,
    servers: ServerPods,
    applyError: unknown,
  ): Observation {
    const names = childNames(stc.metadata.name);
    const namespace = stc.metadata.namespace;
    const sets = this.options.children.get('StatefulSet');
    const deployments = this.options.children.get('Deployment');
    const serverSet = sets?.get(namespace, names.server);
    const balancer = deployments?.get(namespace, names.balancer);
    const log = stc.spec.log.mode === 'managed' ? sets?.get(namespace, names.log) : undefined;
    const stats = new Map<string, ServerStats>();
    for (const [podName, reading] of servers.readings) {
      if (reading.sample) stats.set(podName, reading.sample);
    }
    return {
      servers: serverSet && workloadState(serverSet),
      balancer: balancer && workloadState(balancer),
      log: log && workloadState(log),
      stats,
      readyServerPods: servers.ready.size,
      applyError: applyError ? (applyError as Error).message : undefined,
    };
  }

  /**
   * Lists the server pods and reads `/stats` of every running one. Those that are not ready
   * include servers draining before a scale-in, whose connections still count, and servers
   * left draining by a scale-in that was called off, which the scale-in step turns back.
   */
  private async readServers(stc: StreamCluster): Promise<ServerPods> {
    const pods = (
      await this.options.clients.core.listNamespacedPod({
        namespace: stc.metadata.namespace,
        labelSelector: serverSelector(stc),
      })
    ).items;
    const isReady = (pod: V1Pod) =>
      pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    const live = pods.filter((pod) => pod.status?.podIP && !pod.metadata?.deletionTimestamp);
    const ready = live.filter(isReady);
    const notReady = live.filter((pod) => !isReady(pod) && pod.status?.phase === 'Running');
    const targets = [...ready, ...notReady].map((pod) => ({
      podName: pod.metadata?.name ?? '',
      ip: pod.status?.podIP ?? '',
      port: PORTS.http,
      ready: isReady(pod),
    }));
    const readings = await this.collector(stc).collect(targets);
    return {
      pods,
      ready: new Set(ready.map((pod) => pod.metadata?.name ?? '')),
      readings: new Map(readings.map((reading) => [reading.podName, reading])),
    };
  }

  private collector(stc: StreamCluster): StatsCollector {
    const key = keyOf(stc);
    let collector = this.collectors.get(key);
    if (!collector) {
      collector = new StatsCollector({
        fetchStats: this.options.fetchStats,
        logger: this.options.logger.child({ key }),
      });
      this.collectors.set(key, collector);
    }
    return collector;
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

  private scheduleNextCheck(
    status: StreamClusterStatus,
    nextDecisionInMs: number | undefined,
    nextDrainStepInMs: number | undefined,
  ): Outcome {
    if (nextDrainStepInMs !== undefined) return requeueAfter(nextDrainStepInMs, 'draining');
    const ready = findCondition(status.conditions, 'Ready')?.status === 'True';
    const progressing = findCondition(status.conditions, 'Progressing')?.status === 'True';
    const [delayMs, reason] =
      !ready || progressing
        ? [this.options.progressMs ?? 5000, 'progressing']
        : [this.options.resyncMs ?? 30_000, 'resync'];
    if (nextDecisionInMs !== undefined && nextDecisionInMs < delayMs) {
      return requeueAfter(Math.max(0, nextDecisionInMs), 'autoscaling');
    }
    return requeueAfter(delayMs, reason);
  }

  private now(): Date {
    return this.options.clock?.() ?? new Date();
  }
}

/** The StreamCluster with the server count that the StatefulSet should have now. */
function withServerReplicas(stc: StreamCluster, replicas: number): StreamCluster {
  if (replicas === stc.spec.servers.replicas) return stc;
  return { ...stc, spec: { ...stc.spec, servers: { ...stc.spec.servers, replicas } } };
}
