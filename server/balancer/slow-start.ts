import type { BalancerConfig } from './balancer-config.js';
import type { Endpoint } from './endpoint.js';

/**
 * Returns the share of its weight, from `minWeightPercent`/100 to 1, that an endpoint gets while
 * its slow start ramp runs: (elapsed / window) ^ (1 / aggression), as Envoy ramps new hosts.
 */
export function slowStartFactor(
  endpoint: Endpoint,
  nowMs: number,
  slowStart: BalancerConfig['slowStart'],
): number {
  if (slowStart.windowMs <= 0 || endpoint.slowStartFromMs === 0) return 1;
  const elapsedMs = nowMs - endpoint.slowStartFromMs;
  if (elapsedMs >= slowStart.windowMs) return 1;

  const ramp = Math.pow(Math.max(0, elapsedMs) / slowStart.windowMs, 1 / slowStart.aggression);
  return Math.max(slowStart.minWeightPercent / 100, ramp);
}
