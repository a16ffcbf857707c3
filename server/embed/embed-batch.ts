import type { PreTrainedModel, PreTrainedTokenizer, Tensor } from '@huggingface/transformers';

/** Model inputs for one batch, padded to its longest text. */
export type EncodedBatch = Record<string, Tensor>;

/** Tokenizes `texts` with special tokens, truncated to `maxTokens` and padded to the longest. */
export function tokenizeBatch(
  tokenizer: PreTrainedTokenizer,
  texts: string[],
  maxTokens: number,
): EncodedBatch {
  return tokenizer(texts, {
    padding: true,
    truncation: true,
    max_length: maxTokens,
  }) as EncodedBatch;
}

/**
 * Averages each text's token vectors over its attention mask, then scales the mean to unit
 * length, as sentence-transformers' Pooling and Normalize modules do. `hidden` is
 * [batch, sequence, dimension] row-major; the result holds `batch` vectors back to back.
 */
export function meanPoolNormalize(
  hidden: Float32Array,
  dims: readonly number[],
  mask: BigInt64Array,
): Float32Array {
  const [batch = 0, sequence = 0, dimension = 0] = dims;
  const pooled = new Float32Array(batch * dimension);
  for (let b = 0; b < batch; b++) {
    const out = pooled.subarray(b * dimension, (b + 1) * dimension);
    let tokens = 0;
    for (let s = 0; s < sequence; s++) {
      if (mask[b * sequence + s] === 0n) continue;
      tokens++;
      const offset = (b * sequence + s) * dimension;
      for (let d = 0; d < dimension; d++) out[d] = (out[d] ?? 0) + (hidden[offset + d] ?? 0);
    }
    normalize(out, Math.max(tokens, 1));
  }
  return pooled;
}

/** Divides by `count` (the mean), then scales to unit L2 norm. */
function normalize(vector: Float32Array, count: number): void {
  let squares = 0;
  for (let d = 0; d < vector.length; d++) {
    const value = (vector[d] ?? 0) / count;
    vector[d] = value;
    squares += value * value;
  }
  const norm = Math.sqrt(squares) || 1;
  for (let d = 0; d < vector.length; d++) vector[d] = (vector[d] ?? 0) / norm;
}

/** Embeds one batch: tokenize, run the encoder, mean-pool and normalise. */
export async function embedBatch(
  tokenizer: PreTrainedTokenizer,
  model: PreTrainedModel,
  texts: string[],
  maxTokens: number,
): Promise<{ vectors: Float32Array; dimension: number }> {
  const inputs = tokenizeBatch(tokenizer, texts, maxTokens);
  const outputs = (await model(inputs)) as Record<string, Tensor>;
  const hidden = outputs.last_hidden_state ?? outputs.token_embeddings;
  const mask = inputs.attention_mask;
  if (hidden === undefined || mask === undefined) {
    throw new Error(
      `model output must contain last_hidden_state, got ${Object.keys(outputs).join(', ')}`,
    );
  }
  const vectors = meanPoolNormalize(
    hidden.data as Float32Array,
    hidden.dims,
    mask.data as BigInt64Array,
  );
  return { vectors, dimension: hidden.dims[2] ?? 0 };
}
