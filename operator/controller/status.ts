import type { StreamCluster, StreamClusterStatus } from '../api/streamcluster.js';
import { serverSelector } from '../children/names.js';
import { autoscalingStatus, scalingLimitedCondition } from './autoscaling-status.js';
import { mergeConditions, type ConditionUpdate } from './conditions.js';
import { rolledOut, type Observation, type WorkloadState } from './observe.js';

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

function componentHealth(state: WorkloadState | undefined, desired: number) {
  const readyReplicas = state?.readyReplicas ?? 0;
  const healthy = desired === 0 || readyReplicas >= Math.min(desired, 1);
  const health = { replicas: desired, readyReplicas, healthy };
  if (healthy) return health;
  return { ...health, message: `None of ${plural(desired, 'pod')} is ready.` };
}

function logStatus(stc: StreamCluster, observation: Observation): StreamClusterStatus['log'] {
  if (stc.spec.log.mode === 'external') return { mode: 'external', healthy: true };
  const desired = stc.spec.log.managed.replicas;
  const ready = observation.log?.readyReplicas ?? 0;
  // JetStream takes writes while a majority of its servers is up.
  const healthy = ready > desired / 2;
  const log = { mode: 'managed' as const, replicas: desired, readyReplicas: ready, healthy };
  if (healthy) return log;
  return {
    ...log,
    message: `${ready} of ${desired} NATS servers are ready; a majority is needed.`,
  };
}

function readyCondition(
  stc: StreamCluster,
  observation: Observation,
  status: StreamClusterStatus,
): ConditionUpdate {
  const desired = stc.spec.servers.replicas;
  const ready = observation.servers?.readyReplicas ?? 0;
  if (desired === 0) {
    return cond('Ready', 'False', 'ScaledToZero', 'The cluster has no servers.');
  }
  if (ready < desired) {
    const message = `${ready} of ${plural(desired, 'server')} are ready.`;
    return cond('Ready', 'False', 'ServersNotReady', message);
  }
  if (!status.balancer?.healthy) {
    return cond('Ready', 'False', 'BalancerNotReady', 'No balancer pod is ready.');
  }
  if (!status.log?.healthy) {
    return cond('Ready', 'False', 'LogNotReady', status.log?.message ?? 'The log is not ready.');
  }
  const message = `All ${plural(desired, 'server')}, the balancer and the log are ready.`;
  return cond('Ready', 'True', 'AllComponentsReady', message);
}

function progressingCondition(stc: StreamCluster, observation: Observation): ConditionUpdate {
  const servers = observation.servers;
  const desired = stc.spec.servers.replicas;
  if (!servers) {
    return cond('Progressing', 'True', 'Creating', 'The server StatefulSet is being created.');
  }
  const drain = observation.drain;
  if (drain) {
    const message =
      `Draining ${plural(drain.pendingServers.length, 'server')} with ` +
      `${plural(drain.connections, 'connection')} before scaling in from ` +
      `${drain.fromReplicas} to ${plural(drain.toReplicas, 'server')}.`;
    return cond('Progressing', 'True', 'Draining', message);
  }
  if (servers.currentReplicas < desired) {
    const message = `Scaling up from ${servers.currentReplicas} to ${plural(desired, 'server')}.`;
    return cond('Progressing', 'True', 'ScalingUp', message);
  }
  if (servers.currentReplicas > desired) {
    const message = `Scaling down from ${servers.currentReplicas} to ${plural(desired, 'server')}.`;
    return cond('Progressing', 'True', 'ScalingDown', message);
  }
  const workloads = [servers, observation.balancer, observation.log];
  if (workloads.some((state) => state && !rolledOut(state))) {
    const message = `${servers.updatedReplicas} of ${plural(desired, 'server')} run the current spec.`;
    return cond('Progressing', 'True', 'RollingOut', message);
  }
  return cond('Progressing', 'False', 'RolloutComplete', 'Every pod runs the current spec.');
}

function degradedCondition(stc: StreamCluster, observation: Observation, progressing: boolean) {
  if (observation.applyError) {
    const message = `Applying children failed: ${observation.applyError}`;
    return cond('Degraded', 'True', 'ApplyFailed', message);
  }
  const tokenProblem = observation.serverTokenProblem;
  if (tokenProblem) return cond('Degraded', 'True', tokenProblem.reason, tokenProblem.message);
  const ready = observation.servers?.readyReplicas ?? 0;
  const desired = stc.spec.servers.replicas;
  if (!progressing && ready < desired) {
    const message = `${desired - ready} of ${plural(desired, 'server')} are not ready outside a rollout.`;
    return cond('Degraded', 'True', 'ServersUnavailable', message);
  }
  return cond('Degraded', 'False', 'AsExpected', 'Every component works as expected.');
}

function cond(
  type: ConditionUpdate['type'],
  status: ConditionUpdate['status'],
  reason: string,
  message: string,
): ConditionUpdate {
  return { type, status, reason, message };
}

function sumStats(stc: StreamCluster, observation: Observation) {
  const previous = stc.status ?? {};
  if (observation.stats.size === 0 && observation.readyServerPods > 0) {
    // Keep the last figures rather than report a drop to zero while /stats is unreachable.
    return {
      connections: previous.connections,
      documents: previous.documents,
      chunks: previous.chunks,
    };
  }
  const stats = [...observation.stats.values()];
  return {
    connections: stats.reduce((total, server) => total + server.connections, 0),
    // Every server indexes every document, so the largest count is the cluster's.
    documents: Math.max(0, ...stats.map((server) => server.documents)),
    chunks: Math.max(0, ...stats.map((server) => server.chunks)),
  };
}

/**
 * Computes the status of a StreamCluster from what was observed. A pure function: the same
 * inputs give an equal status, which is what lets an idle cluster make no writes.
 */
export function computeStatus(
  stc: StreamCluster,
  observation: Observation,
  now: Date,
): StreamClusterStatus {
  const status: StreamClusterStatus = {
    observedGeneration: stc.metadata.generation,
    replicas: observation.servers?.currentReplicas ?? 0,
    readyReplicas: observation.servers?.readyReplicas ?? 0,
    updatedReplicas: observation.servers?.updatedReplicas ?? 0,
    selector: serverSelector(stc),
    ...sumStats(stc, observation),
    balancer: componentHealth(observation.balancer, stc.spec.balancer.replicas),
    log: logStatus(stc, observation),
  };
  const progressing = progressingCondition(stc, observation);
  const updates = [
    readyCondition(stc, observation, status),
    progressing,
    degradedCondition(stc, observation, progressing.status === 'True'),
  ];
  if (observation.autoscaling) {
    const { decision } = observation.autoscaling;
    status.autoscaling = autoscalingStatus(decision, stc.status?.autoscaling);
    const limited = scalingLimitedCondition(decision, stc.status?.conditions);
    if (limited) updates.push(limited);
  }
  status.conditions = mergeConditions(
    stc.status?.conditions,
    updates,
    stc.metadata.generation,
    now,
  );
  return dropUndefined(status);
}

/** Removes undefined fields, so a status compares equal to its JSON round trip. */
function dropUndefined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
