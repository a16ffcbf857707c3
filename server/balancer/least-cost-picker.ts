import type { Endpoint } from './endpoint.js';
import type { Picker, Random, WeightOf } from './picker.js';

/** Cost of sending one more connection to an endpoint; the picker takes the lowest. */
export type CostOf = (endpoint: Endpoint, weight: number) => number;

/**
 * Picks the endpoint with the lowest cost, either over all candidates (ties broken in rotating
 * order so equal endpoints alternate) or, with power-of-two-choices, over two distinct random
 * candidates, which stays O(1) in large pools and avoids every balancer herding onto the same
 * least-loaded endpoint.
 */
export class LeastCostPicker implements Picker {
  private rotation = 0;

  constructor(
    private readonly costOf: CostOf,
    private readonly powerOfTwoChoices: boolean,
    private readonly random: Random,
  ) {}

  pick(candidates: readonly Endpoint[], weightOf: WeightOf): Endpoint {
    if (candidates.length === 1) return candidates[0]!;
    if (this.powerOfTwoChoices) return this.pickOfTwo(candidates, weightOf);

    const start = this.rotation++ % candidates.length;
    let best = candidates[start]!;
    let bestCost = this.costOf(best, weightOf(best));
    for (let step = 1; step < candidates.length; step++) {
      const endpoint = candidates[(start + step) % candidates.length]!;
      const cost = this.costOf(endpoint, weightOf(endpoint));
      if (cost < bestCost) {
        best = endpoint;
        bestCost = cost;
      }
    }
    return best;
  }

  private pickOfTwo(candidates: readonly Endpoint[], weightOf: WeightOf): Endpoint {
    const first = Math.floor(this.random() * candidates.length);
    const offset = 1 + Math.floor(this.random() * (candidates.length - 1));
    const a = candidates[first]!;
    const b = candidates[(first + offset) % candidates.length]!;
    return this.costOf(b, weightOf(b)) < this.costOf(a, weightOf(a)) ? b : a;
  }
}

/** Weighted least connections: open WebSockets, pending upgrades and requests, per unit of weight. */
export function leastConnectionsCost(endpoint: Endpoint, weight: number): number {
  return (endpoint.activeLoad() + 1) / weight;
}

/**
 * Latency-aware cost in the manner of peak EWMA: the upgrade latency EWMA times the connections
 * the endpoint would then carry, per unit of weight. The weight already includes the reported
 * load (see the upstream's weight function), so a busy event loop lowers an endpoint's share.
 */
export function latencyAwareCost(defaultLatencyMs: number): CostOf {
  return (endpoint, weight) =>
    ((endpoint.latencyEwmaMs ?? defaultLatencyMs) * (endpoint.activeLoad() + 1)) / weight;
}
