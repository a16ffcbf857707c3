import { seededRandom } from '../../server/index/testing/fixtures.js';

const LATENT_DIMENSION = 48;
const CLUSTERS = 2000;

/**
 * Synthetic stand-ins for sentence embeddings: unit vectors with a low intrinsic dimension and
 * topical clusters, unlike uniform random vectors on which no approximate index does well. Points
 * are cluster centre plus spread in a 48-dimensional latent space, mapped to `dimension` by a fixed
 * random projection, plus a little isotropic noise. The same `dimension` always gives the same
 * centres and projection; `seed` picks the points.
 */
export function clusteredVectors(count: number, dimension: number, seed: number): Float32Array {
  const gaussian = gaussianSource(seededRandom(1000));
  const projection = Float32Array.from({ length: LATENT_DIMENSION * dimension }, gaussian);
  const centres = Float32Array.from({ length: CLUSTERS * LATENT_DIMENSION }, gaussian);
  const pointNoise = gaussianSource(seededRandom(seed));
  const pick = seededRandom(seed + 1);
  const vectors = new Float32Array(count * dimension);
  const latent = new Float32Array(LATENT_DIMENSION);
  for (let i = 0; i < count; i++) {
    const centre = Math.floor(pick() * CLUSTERS) * LATENT_DIMENSION;
    for (let j = 0; j < LATENT_DIMENSION; j++)
      latent[j] = centres[centre + j]! + 0.6 * pointNoise();
    const out = vectors.subarray(i * dimension, (i + 1) * dimension);
    for (let d = 0; d < dimension; d++) out[d] = 0.05 * pointNoise() * Math.sqrt(LATENT_DIMENSION);
    for (let j = 0; j < LATENT_DIMENSION; j++) {
      const weight = latent[j]!;
      const base = j * dimension;
      for (let d = 0; d < dimension; d++) out[d]! += weight * projection[base + d]!;
    }
    let norm = 0;
    for (const value of out) norm += value * value;
    norm = Math.sqrt(norm);
    for (let d = 0; d < dimension; d++) out[d]! /= norm;
  }
  return vectors;
}

/** Returns a standard normal generator (Box-Muller) over a uniform source. */
function gaussianSource(uniform: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}
