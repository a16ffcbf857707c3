import { contentTerms } from '../../server/answer/terms.js';

/**
 * Creates a deterministic bag-of-words embedding for tests that need an embedder without model
 * weights: each content term is hashed (FNV-1a) into one of `dimension` buckets, and the counts
 * are L2-normalised. Texts sharing terms are similar; texts sharing none have similarity 0.
 */
export function createHashedEmbedding(dimension = 512) {
  const calls: string[][] = [];

  async function embed(texts: string[]): Promise<Float32Array[]> {
    calls.push(texts);
    return texts.map((text) => embedOne(text, dimension));
  }
  return { embed, calls };
}

function embedOne(text: string, dimension: number): Float32Array {
  const vector = new Float32Array(dimension);
  for (const term of contentTerms(text)) vector[fnv1a(term) % dimension]! += 1;

  const norm = Math.hypot(...vector);
  if (norm > 0) for (let i = 0; i < dimension; i++) vector[i]! /= norm;
  return vector;
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
