import type { ScalingRules } from './spec.js';
import type { ScaleEvent } from './state.js';

/** Servers added or removed within the last `periodSeconds`. */
function changedWithin(events: ScaleEvent[], periodSeconds: number, nowMs: number): number {
  const cutoffMs = nowMs - periodSeconds * 1000;
  return events
    .filter((event) => event.atMs > cutoffMs)
    .reduce((sum, event) => sum + event.replicas, 0);
}

/**
 * Highest count the scale-up policies allow now. Each policy measures from the count at the
 * start of its period (the current count minus the servers added since), and `selectPolicy`
 * picks the largest (`Max`) or smallest (`Min`) allowance. Never below the current count.
 */
export function scaleUpLimit(
  currentReplicas: number,
  events: ScaleEvent[],
  rules: ScalingRules,
  nowMs: number,
): number {
  if (rules.selectPolicy === 'Disabled') return currentReplicas;

  const limits = rules.policies.map((policy) => {
    const startReplicas = currentReplicas - changedWithin(events, policy.periodSeconds, nowMs);
    if (policy.type === 'Pods') return startReplicas + policy.value;
    // Rounded up, so that a small percentage of a small count still allows one more server.
    return Math.ceil(startReplicas * (1 + policy.value / 100));
  });
  const limit = rules.selectPolicy === 'Min' ? Math.min(...limits) : Math.max(...limits);
  return Math.max(limit, currentReplicas);
}

/**
 * Lowest count the scale-down policies allow now, measured like {@link scaleUpLimit} from the
 * count at the start of each period. `Max` picks the largest allowed removal (lowest count).
 * Never above the current count.
 */
export function scaleDownLimit(
  currentReplicas: number,
  events: ScaleEvent[],
  rules: ScalingRules,
  nowMs: number,
): number {
  if (rules.selectPolicy === 'Disabled') return currentReplicas;

  const limits = rules.policies.map((policy) => {
    const startReplicas = currentReplicas + changedWithin(events, policy.periodSeconds, nowMs);
    if (policy.type === 'Pods') return startReplicas - policy.value;
    // Rounded down, as the HorizontalPodAutoscaler does, so 50 percent of 3 allows removing 2.
    return Math.floor(startReplicas * (1 - policy.value / 100));
  });
  const limit = rules.selectPolicy === 'Min' ? Math.max(...limits) : Math.min(...limits);
  return Math.min(limit, currentReplicas);
}

/** Drops the events older than the longest policy period, which no policy looks at. */
export function pruneScaleEvents(
  events: ScaleEvent[],
  rules: ScalingRules,
  nowMs: number,
): ScaleEvent[] {
  const longestSeconds = Math.max(0, ...rules.policies.map((policy) => policy.periodSeconds));
  const cutoffMs = nowMs - longestSeconds * 1000;
  return events.filter((event) => event.atMs > cutoffMs);
}

/** Adds a scale event of `replicas` servers at `nowMs` and prunes the old ones. */
export function recordScaleEvent(
  events: ScaleEvent[],
  replicas: number,
  rules: ScalingRules,
  nowMs: number,
): ScaleEvent[] {
  return [...pruneScaleEvents(events, rules, nowMs), { atMs: nowMs, replicas }];
}
