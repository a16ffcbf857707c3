import type { ScalingBehavior } from './spec.js';
import type { TimedRecommendation } from './state.js';

/** The recommendation after stabilization, and the window that produced it. */
export interface Stabilized {
  replicas: number;
  /** Window applied, in seconds: the scale-up one for an increase, else the scale-down one. */
  windowSeconds: number;
}

function isWithin(recommendation: TimedRecommendation, nowMs: number, windowSeconds: number) {
  return recommendation.atMs > nowMs - windowSeconds * 1000;
}

/**
 * Applies the stabilization window of the direction the recommendation points to. A scale-up
 * takes the lowest recommendation within the scale-up window and a scale-down the highest within
 * the scale-down window, so a change happens only once the metrics have asked for it for the
 * whole window. Unlike the HorizontalPodAutoscaler, the result never crosses the current count,
 * so stabilization can slow a change but never turn it around.
 */
export function stabilize(
  history: TimedRecommendation[],
  recommended: number,
  currentReplicas: number,
  behavior: ScalingBehavior,
  nowMs: number,
): Stabilized {
  if (recommended === currentReplicas) return { replicas: currentReplicas, windowSeconds: 0 };

  const up = recommended > currentReplicas;
  const windowSeconds = up
    ? behavior.scaleUp.stabilizationWindowSeconds
    : behavior.scaleDown.stabilizationWindowSeconds;
  const recent = history.filter((entry) => isWithin(entry, nowMs, windowSeconds));
  const counts = recent.map((entry) => entry.replicas);

  const replicas = up
    ? Math.max(currentReplicas, Math.min(recommended, ...counts))
    : Math.min(currentReplicas, Math.max(recommended, ...counts));
  return { replicas, windowSeconds };
}

/**
 * Adds a recommendation to the history. Only the latest time of each count matters for the
 * window checks, so older entries with the same count are replaced, which bounds the history by
 * the number of distinct counts. Entries older than the longer window are dropped.
 */
export function recordRecommendation(
  history: TimedRecommendation[],
  replicas: number,
  behavior: ScalingBehavior,
  nowMs: number,
): TimedRecommendation[] {
  const keepSeconds = Math.max(
    behavior.scaleUp.stabilizationWindowSeconds,
    behavior.scaleDown.stabilizationWindowSeconds,
  );
  const remaining = history.filter(
    (entry) => entry.replicas !== replicas && isWithin(entry, nowMs, keepSeconds),
  );
  return [...remaining, { atMs: nowMs, replicas }];
}
