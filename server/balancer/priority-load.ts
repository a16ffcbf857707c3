import type { Endpoint } from './endpoint.js';

/** Traffic shares per priority level and whether the pool is in panic. */
export interface PriorityLoad {
  /** Priority levels present, ascending. */
  priorities: number[];
  /** Share of traffic per level in percent, summing to 100 unless nothing is healthy. */
  percents: number[];
  /** Healthy share of all levels together, in percent, capped at 100. */
  healthPercent: number;
  panic: boolean;
}

/**
 * Splits traffic across priority levels by healthy capacity, as Envoy does: level p's health is
 * min(100, factor * healthy weight / total weight * 100); level 0 takes its health in percent,
 * each next level takes what is left up to its own health, and the shares are normalised when the
 * health of all levels sums below 100. The pool panics when that sum is below `panicPercent`.
 */
export function computePriorityLoad(
  members: readonly Endpoint[],
  isHealthy: (endpoint: Endpoint) => boolean,
  overprovisioningFactor: number,
  panicPercent: number,
): PriorityLoad {
  const levels = new Map<number, { healthy: number; total: number }>();
  for (const endpoint of members) {
    const level = levels.get(endpoint.priority) ?? { healthy: 0, total: 0 };
    level.total += endpoint.weight;
    if (isHealthy(endpoint)) level.healthy += endpoint.weight;
    levels.set(endpoint.priority, level);
  }
  const priorities = [...levels.keys()].sort((a, b) => a - b);
  const health = priorities.map((priority) => {
    const level = levels.get(priority)!;
    return level.total === 0
      ? 0
      : Math.min(100, (overprovisioningFactor * 100 * level.healthy) / level.total);
  });

  const healthSum = health.reduce((sum, value) => sum + value, 0);
  const healthPercent = Math.min(100, healthSum);
  let remaining = 100;
  const percents = health.map((value) => {
    const share = healthSum >= 100 ? Math.min(value, remaining) : (value * 100) / (healthSum || 1);
    remaining -= share;
    return share;
  });
  return {
    priorities,
    percents,
    healthPercent,
    panic: members.length > 0 && healthPercent < panicPercent,
  };
}

/** Returns the priority level a uniform draw in [0, 100) falls in, or undefined when none has a share. */
export function choosePriority(load: PriorityLoad, draw: number): number | undefined {
  let bound = 0;
  let fallback: number | undefined;
  for (let i = 0; i < load.priorities.length; i++) {
    const share = load.percents[i]!;
    if (share <= 0) continue;
    fallback = load.priorities[i];
    bound += share;
    if (draw < bound) return load.priorities[i];
  }
  return fallback;
}
