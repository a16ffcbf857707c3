import { Tensor, type PreTrainedModel, type PreTrainedTokenizer } from '@huggingface/transformers';

/** Model inputs for one batch, padded to its longest text. */
export type EncodedBatch = Record<string, Tensor>;

/** Token ids and masks of one text, as the tokenizer returns them without tensors. */
type Encoding = Record<string, number[]>;

/**
 * Tokenizes `texts` with special tokens, truncated to `maxTokens` and padded on the right to
 * the longest. Truncation keeps the closing special token ([SEP] for BERT), as Hugging Face's
 * Python tokenizers do: transformers.js 4.3 cuts it off with the text, which changes the
 * embedding of every long input.
 */
export function tokenizeBatch(
  tokenizer: PreTrainedTokenizer,
  texts: string[],
  maxTokens: number,
): EncodedBatch {
  const closingIds = tokenizer.encode('', { add_special_tokens: true });
  const closingId = closingIds.length > 0 ? closingIds[closingIds.length - 1] : undefined;
  const encodings = texts.map((text) => {
    const encoding = tokenizer(text, { return_tensor: false }) as unknown as Encoding;
    return truncate(encoding, maxTokens, closingId);
  });
  return padToTensors(encodings, tokenizer.pad_token_id as number);
}

function truncate(encoding: Encoding, maxTokens: number, closingId: number | undefined): Encoding {
  const ids = encoding.input_ids ?? [];
  if (ids.length <= maxTokens) return encoding;
  const keepClosing = closingId !== undefined && ids[ids.length - 1] === closingId;
  const truncated: Encoding = {};
  for (const [key, values] of Object.entries(encoding)) {
    truncated[key] = keepClosing
      ? [...values.slice(0, maxTokens - 1), values[values.length - 1]!]
      : values.slice(0, maxTokens);
  }
  return truncated;
}

function padToTensors(encodings: Encoding[], padTokenId: number): EncodedBatch {
  const length = Math.max(...encodings.map((encoding) => encoding.input_ids?.length ?? 0));
  const batch: EncodedBatch = {};
  for (const key of Object.keys(encodings[0] ?? {})) {
    const data = new BigInt64Array(encodings.length * length);
    const padValue = BigInt(key === 'input_ids' ? padTokenId : 0);
    encodings.forEach((encoding, row) => {
      const values = encoding[key] ?? [];
      for (let column = 0; column < length; column++) {
        data[row * length + column] = column < values.length ? BigInt(values[column]!) : padValue;
      }
    });
    batch[key] = new Tensor('int64', data, [encodings.length, length]);
  }
  return batch;
}

/**
 * Averages each text's token vectors over its attention mask, then scales the mean to unit
 * length, as sentence-transformers' Pooling and Normalize modules do. `hidden` is
 * [batch, sequence, dimension] row-major; the result contains `batch` vectors back to back.
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
