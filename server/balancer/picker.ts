import type { Endpoint } from './endpoint.js';

/** Effective weight of an endpoint at pick time: configured weight times slow start and load. */
export type WeightOf = (endpoint: Endpoint) => number;

/** Chooses one endpoint among the candidates, which are all available and non-empty. */
export interface Picker {
  pick(candidates: readonly Endpoint[], weightOf: WeightOf): Endpoint;
}

/** Source of uniform random numbers in [0, 1), injected so tests can fix the sequence. */
export type Random = () => number;
