import { scaleDownLimit, scaleUpLimit } from './policies.js';
import type { AutoscalingSpec } from './spec.js';
import { stabilize } from './stabilization.js';
import type { AutoscalerState } from './state.js';

/** Cause that kept the desired count from following the recommendation. */
export type LimitedBy =
  'maxReplicas' | 'minReplicas' | 'scaleUpPolicy' | 'scaleDownPolicy' | 'stabilization';

/** The desired count after stabilization, rate policies and bounds. */
export interface Normalized {
  replicas: number;
  limitedBy?: LimitedBy;
  /** Count after stabilization alone. */
  stabilizedReplicas: number;
  /** Window that stabilization applied, in seconds. */
  windowSeconds: number;
}

function limitWithPolicies(
  stabilized: number,
  currentReplicas: number,
  spec: AutoscalingSpec,
  state: AutoscalerState,
  nowMs: number,
): number {
  const { scaleUp, scaleDown } = spec.behavior;
  if (stabilized > currentReplicas) {
    const limit = scaleUpLimit(currentReplicas, state.scaleUpEvents, scaleUp, nowMs);
    return Math.min(stabilized, limit, spec.maxReplicas);
  }
  if (stabilized < currentReplicas) {
    const limit = scaleDownLimit(currentReplicas, state.scaleDownEvents, scaleDown, nowMs);
    return Math.max(stabilized, limit, spec.minReplicas);
  }
  return stabilized;
}

function findLimit(
  recommended: number,
  stabilized: number,
  desired: number,
  spec: AutoscalingSpec,
): LimitedBy | undefined {
  if (recommended > spec.maxReplicas && desired === spec.maxReplicas) return 'maxReplicas';
  if (recommended < spec.minReplicas && desired === spec.minReplicas) return 'minReplicas';
  if (desired < stabilized) return 'scaleUpPolicy';
  if (desired > stabilized) return 'scaleDownPolicy';
  if (stabilized !== recommended) return 'stabilization';
  return undefined;
}

/**
 * Turns a recommendation into the desired count, in the HorizontalPodAutoscaler's order:
 * stabilization first, then the rate policies and the bounds. `currentReplicas` must already be
 * within the bounds. `state` is the history before this recommendation is recorded.
 */
export function normalizeRecommendation(
  recommended: number,
  currentReplicas: number,
  spec: AutoscalingSpec,
  state: AutoscalerState,
  nowMs: number,
): Normalized {
  const stabilized = stabilize(
    state.recommendations,
    recommended,
    currentReplicas,
    spec.behavior,
    nowMs,
  );
  const replicas = limitWithPolicies(stabilized.replicas, currentReplicas, spec, state, nowMs);
  return {
    replicas,
    limitedBy: findLimit(recommended, stabilized.replicas, replicas, spec),
    stabilizedReplicas: stabilized.replicas,
    windowSeconds: stabilized.windowSeconds,
  };
}
