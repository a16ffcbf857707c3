import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { ValidationError } from '../../server/core/errors.js';
import type { Logger } from '../../server/core/logger.js';
import {
  decide,
  initialAutoscalerState,
  resolveAutoscalingSpec,
  type AutoscalerState,
  type AutoscalingSpec,
  type Decision,
  type ServerReading,
} from '../autoscaling/index.js';
import { GROUP, PLURAL, VERSION, type StreamCluster } from '../api/streamcluster.js';
import { httpStatusOf, type KubeClients } from '../kube/client.js';
import { keyOf } from '../kube/resources.js';
import type { EventRecorder } from './events.js';

/** Options of {@link Autoscaler}. */
export interface AutoscalerOptions {
  clients: KubeClients;
  events: EventRecorder;
  logger: Logger;
  /** Time between decisions, in milliseconds; default 15 000, as the HorizontalPodAutoscaler. */
  intervalMs?: number;
  /** Clock in milliseconds since the Unix epoch; default `Date.now`. */
  nowMs?: () => number;
}

/** The autoscaler's memory of one StreamCluster. Lost on restart, which is safe (see decide). */
interface ClusterState {
  uid: string;
  state: AutoscalerState;
  nextDecisionAtMs: number;
  /** Generation of the StreamCluster after the autoscaler's latest write of the count. */
  writtenGeneration: number;
  lastDecision?: Decision;
}

/** The autoscaler's result for one reconcile. */
export type AutoscaleOutcome =
  /** Autoscaling is off, so the spec count is used as written. */
  | { kind: 'disabled' }
  /** The watch cache has not yet seen the autoscaler's own write; look again shortly. */
  | { kind: 'cacheBehind' }
  /** The count in the spec is the one to run; `stc` is the latest object. */
  | {
      kind: 'decided';
      stc: StreamCluster;
      /** Count to run, the spec count moved into the bounds. */
      replicas: number;
      decision?: Decision;
      nextDecisionInMs: number;
    };

const DEFAULT_INTERVAL_MS = 15_000;

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Runs the autoscaling decision of each StreamCluster with `spec.servers.autoscaling.enabled`
 * once per interval, within the reconcile, and writes the desired count to
 * `spec.servers.replicas`, the field `kubectl scale` sets. A count changed by hand is decided on
 * at once rather than after the interval, so that it is moved into the bounds without delay.
 */
export class Autoscaler {
  private readonly clusters = new Map<string, ClusterState>();
  private readonly intervalMs: number;
  private readonly nowMs: () => number;

  constructor(private readonly options: AutoscalerOptions) {
    this.intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.nowMs = options.nowMs ?? Date.now;
  }

  /** Drops the memory of a StreamCluster that is gone. */
  forget(key: string): void {
    this.clusters.delete(key);
  }

  /**
   * Decides when a decision is due and writes a changed count. `readings` are those of the ready
   * and the draining servers; `readyReplicas` counts the ready ones.
   */
  async reconcileAutoscaling(
    stc: StreamCluster,
    readings: ServerReading[],
    readyReplicas: number,
  ): Promise<AutoscaleOutcome> {
    const key = keyOf(stc);
    const spec = resolveAutoscalingSpec(stc.spec.servers.autoscaling);
    if (!spec.enabled) {
      this.clusters.delete(key);
      return { kind: 'disabled' };
    }
    const cluster = this.clusterState(key, stc);
    if ((stc.metadata.generation ?? 0) < cluster.writtenGeneration) return { kind: 'cacheBehind' };

    const nowMs = this.nowMs();
    const current = stc.spec.servers.replicas;
    const manual = cluster.state.lastDesiredReplicas !== current;
    if (!manual && nowMs < cluster.nextDecisionAtMs) {
      return this.decided(stc, spec, cluster, cluster.nextDecisionAtMs - nowMs);
    }

    const decision = this.decide(stc, spec, cluster.state, nowMs, readings, readyReplicas);
    if (!decision) return this.decided(stc, spec, cluster, this.intervalMs);
    cluster.nextDecisionAtMs = nowMs + this.intervalMs;
    if (decision.desiredReplicas === current) {
      cluster.state = decision.newState;
      cluster.lastDecision = decision;
      return this.decided(stc, spec, cluster, this.intervalMs);
    }

    const written = await this.writeReplicas(stc, decision);
    if (!written) {
      // Someone else changed the object; decide again on the fresh one from the watch.
      cluster.nextDecisionAtMs = nowMs;
      return { kind: 'cacheBehind' };
    }
    cluster.state = decision.newState;
    cluster.lastDecision = decision;
    cluster.writtenGeneration = written.metadata.generation ?? 0;
    await this.recordScale(stc, decision);
    return this.decided(written, spec, cluster, this.intervalMs);
  }

  private clusterState(key: string, stc: StreamCluster): ClusterState {
    const existing = this.clusters.get(key);
    if (existing && existing.uid === stc.metadata.uid) return existing;
    const fresh: ClusterState = {
      uid: stc.metadata.uid,
      state: initialAutoscalerState(),
      nextDecisionAtMs: 0,
      writtenGeneration: 0,
    };
    this.clusters.set(key, fresh);
    return fresh;
  }

  private decided(
    stc: StreamCluster,
    spec: AutoscalingSpec,
    cluster: ClusterState,
    nextDecisionInMs: number,
  ): AutoscaleOutcome {
    const replicas = Math.min(
      spec.maxReplicas,
      Math.max(spec.minReplicas, stc.spec.servers.replicas),
    );
    return { kind: 'decided', stc, replicas, decision: cluster.lastDecision, nextDecisionInMs };
  }

  private decide(
    stc: StreamCluster,
    spec: AutoscalingSpec,
    state: AutoscalerState,
    nowMs: number,
    readings: ServerReading[],
    readyReplicas: number,
  ): Decision | undefined {
    try {
      return decide({
        nowMs,
        currentReplicas: stc.spec.servers.replicas,
        readyReplicas,
        readings,
        spec,
        state,
      });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      // The CRD's rules let through a few specs decide() cannot use, such as an empty policy list.
      this.options.logger.warn({ key: keyOf(stc), err: error }, 'autoscaling spec is invalid');
      void this.options.events.record(stc, 'Warning', 'InvalidAutoscaling', `${error.message}.`);
      return undefined;
    }
  }

  /**
   * Writes the count with the resource version it was decided on, so a concurrent change such as
   * `kubectl scale` is never overwritten. Returns undefined after a conflict (409).
   */
  private async writeReplicas(
    stc: StreamCluster,
    decision: Decision,
  ): Promise<StreamCluster | undefined> {
    const { namespace, name, resourceVersion } = stc.metadata;
    try {
      return (await this.options.clients.custom.patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          namespace,
          plural: PLURAL,
          name,
          body: {
            metadata: { resourceVersion },
            spec: { servers: { replicas: decision.desiredReplicas } },
          },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )) as StreamCluster;
    } catch (error) {
      if (httpStatusOf(error) !== 409) throw error;
      this.options.logger.debug(
        { key: keyOf(stc) },
        'replica count changed meanwhile; deciding again',
      );
      return undefined;
    }
  }

  private async recordScale(stc: StreamCluster, decision: Decision): Promise<void> {
    const up = decision.desiredReplicas > stc.spec.servers.replicas;
    this.options.logger.info(
      {
        key: keyOf(stc),
        from: stc.spec.servers.replicas,
        to: decision.desiredReplicas,
        reason: decision.reason,
      },
      up ? 'scaled up' : 'scaled down',
    );
    const message = `${capitalize(decision.reason)}.`;
    await this.options.events.record(stc, 'Normal', up ? 'ScaledUp' : 'ScaledDown', message);
  }
}
