import type { Decision } from '../autoscaling/index.js';
import type { StreamClusterStatus } from '../api/streamcluster.js';
import type { ConditionUpdate } from './conditions.js';
import { findCondition } from './conditions.js';

type AutoscalingStatus = NonNullable<StreamClusterStatus['autoscaling']>;

/** Utilization is rewritten only when it moves this much, so an idle cluster makes no writes. */
const UTILIZATION_STEP = 0.1;

function roundedUtilization(decision: Decision, previous: AutoscalingStatus | undefined): number {
  const current = Math.round(decision.metrics.averageEventLoopUtilization * 100) / 100;
  const before = previous?.currentMetrics.eventLoopUtilization;
  if (before !== undefined && Math.abs(current - before) < UTILIZATION_STEP) return before;
  return current;
}

/**
 * Builds `status.autoscaling` from the latest decision. Before the first decision of this
 * process, the stored status is kept. The last scale is kept from the stored status when the
 * decision's state has none, such as after an operator restart.
 */
export function autoscalingStatus(
  decision: Decision | undefined,
  previous: AutoscalingStatus | undefined,
): AutoscalingStatus | undefined {
  if (!decision) return previous;
  const { metrics, newState } = decision;
  const lastScale = newState.lastScale;
  return {
    desiredReplicas: decision.desiredReplicas,
    currentMetrics: {
      connections: metrics.totalConnections,
      eventLoopUtilization: roundedUtilization(decision, previous),
      sampledServers: metrics.sampledServers,
      missingServers: metrics.missingServers,
      drainingServers: metrics.drainingServers,
    },
    failedReadings: newState.consecutiveFailures,
    lastScaleTime: lastScale
      ? new Date(lastScale.atMs).toISOString().replace(/\.\d+Z$/, 'Z')
      : previous?.lastScaleTime,
    lastScaleReason: lastScale?.reason ?? previous?.lastScaleReason,
  };
}

/**
 * Builds the ScalingLimited condition in the HorizontalPodAutoscaler's terms: True while
 * maxReplicas or minReplicas keeps the count from what the metrics ask for.
 */
export function scalingLimitedCondition(
  decision: Decision | undefined,
  previous: StreamClusterStatus['conditions'],
): ConditionUpdate | undefined {
  if (!decision) {
    const stored = findCondition(previous, 'ScalingLimited');
    if (!stored) return undefined;
    const { type, status, reason, message } = stored;
    return { type, status, reason, message };
  }
  const { limitedBy, recommendedReplicas, desiredReplicas } = decision;
  if (limitedBy === 'maxReplicas') {
    const message = `The metrics ask for ${recommendedReplicas} servers, but maxReplicas is ${desiredReplicas}.`;
    return { type: 'ScalingLimited', status: 'True', reason: 'TooManyReplicas', message };
  }
  if (limitedBy === 'minReplicas') {
    const message = `The metrics ask for ${recommendedReplicas} servers, but minReplicas is ${desiredReplicas}.`;
    return { type: 'ScalingLimited', status: 'True', reason: 'TooFewReplicas', message };
  }
  const message = 'The desired count is within minReplicas and maxReplicas.';
  return { type: 'ScalingLimited', status: 'False', reason: 'DesiredWithinRange', message };
}
