import type { Endpoint } from './endpoint.js';
import type { Picker, WeightOf } from './picker.js';

/**
 * Smooth weighted round-robin (the nginx algorithm): each pick adds every candidate's weight to
 * its running score, takes the highest score and subtracts the total from it. Weights 5:1:1 give
 * A A B A C A A rather than five A in a row, so the heaviest endpoint never gets a burst.
 */
export class RoundRobinPicker implements Picker {
  // Keyed weakly so endpoints removed by discovery take their score with them.
  private readonly scores = new WeakMap<Endpoint, number>();

  pick(candidates: readonly Endpoint[], weightOf: WeightOf): Endpoint {
    let total = 0;
    let best: Endpoint | undefined;
    let bestScore = -Infinity;
    for (const endpoint of candidates) {
      const weight = weightOf(endpoint);
      const score = (this.scores.get(endpoint) ?? 0) + weight;
      this.scores.set(endpoint, score);
      total += weight;
      if (score > bestScore) {
        best = endpoint;
        bestScore = score;
      }
    }
    const chosen = best ?? candidates[0]!;
    this.scores.set(chosen, bestScore - total);
    return chosen;
  }
}
