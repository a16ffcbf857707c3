import { setMaxListeners } from 'node:events';
import { availableParallelism } from 'node:os';
import { extname, join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import type { PreTrainedTokenizer } from '@huggingface/transformers';

import type { WorkerBusyTime } from '../core/busy-time.js';
import { ValidationError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { EmbedWorkerData, EmbedWorkerInfo, EmbedWorkerResult } from './embed-worker.js';
import { EmbedderClosedError, EmbedWorkerError } from './errors.js';
import { loadTokenizer, readMaxTokens, type ModelSettings } from './model-loader.js';
import { cacheDir, resolveModelSource } from './model-source.js';
import type { Embedder } from './types.js';
import { WorkerPool } from './worker-pool.js';

/** Options for {@link createEmbedder}. */
export interface EmbedderOptions {
  /**
   * A transformers.js model directory (absolute, `./`-relative or `~/` path), such as
   * `defaultModelDir()`, or a Hugging Face model id such as `Xenova/all-MiniLM-L6-v2`.
   */
  model: string;
  /** Worker threads, each running one single-threaded onnxruntime session; default one per core. */
  workers?: number;
  /** Texts per worker request; default 32. */
  batchSize?: number;
  /**
   * Maximum model input in tokens, special tokens included; longer texts are truncated. Default
   * from the model: sentence-transformers' max_seq_length, else the tokenizer's model_max_length.
   */
  maxSequenceLength?: number;
  /** Default: no logs. */
  logger?: Logger;
  /** Hugging Face Hub base URL for model ids; default HF_ENDPOINT, else https://huggingface.co/. */
  hubEndpoint?: string;
  /** Download cache for Hub models; default `$STREAMCLUSTER_CACHE/hub`. */
  hubCacheDir?: string;
}

const DEFAULT_BATCH_SIZE = 32;
/** Texts tokenized between yields to the event loop in countTokens. */
const COUNT_SLICE = 64;

function validate(options: EmbedderOptions): void {
  const problems: string[] = [];
  const positive = (name: string, value: number | undefined) => {
    if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
      problems.push(`${name} must be an integer of at least 1, got ${value}`);
    }
  };
  if (typeof options.model !== 'string' || options.model === '') {
    problems.push(
      `model must be a model directory or Hugging Face model id, got "${options.model}"`,
    );
  }
  positive('workers', options.workers);
  positive('batchSize', options.batchSize);
  positive('maxSequenceLength', options.maxSequenceLength);
  if (problems.length > 0) throw new ValidationError(problems);
}

/** Resolves the worker module next to this one, as .ts under tsx and .js in dist/. */
function workerUrl(): URL {
  const extension = extname(fileURLToPath(import.meta.url));
  return new URL(`./embed-worker${extension}`, import.meta.url);
}

/**
 * Loads the model and starts the worker pool. Throws ModelNotFoundError for a missing model
 * directory and ModelLoadError when files are invalid or a Hub model cannot be downloaded.
 */
export async function createEmbedder(options: EmbedderOptions): Promise<Embedder> {
  validate(options);
  const logger = options.logger ?? silentLogger;
  const startedAt = performance.now();
  const settings: ModelSettings = {
    source: resolveModelSource(options.model),
    hubCacheDir: options.hubCacheDir ?? join(cacheDir(), 'hub'),
    hubEndpoint: options.hubEndpoint ?? (process.env.HF_ENDPOINT || 'https://huggingface.co/'),
  };

  // The main thread keeps a tokenizer for countTokens. For a Hub model, loading it first also
  // fills the download cache with the tokenizer files before the workers start.
  const tokenizer = await loadTokenizer(settings);
  const sequenceLength = options.maxSequenceLength ?? (await readMaxTokens(settings, tokenizer));
  const workerData: EmbedWorkerData = { settings, maxTokens: sequenceLength, intraOpThreads: 1 };
  const { pool, info } = await WorkerPool.start<EmbedWorkerInfo, string[], EmbedWorkerResult>({
    workerUrl: workerUrl(),
    workerData,
    size: options.workers ?? availableParallelism(),
    name: 'embedding',
    logger,
    startOneFirst: settings.source.kind === 'hub',
  });

  const embedder = new TransformersEmbedder({
    modelName: options.model,
    tokenizer,
    pool,
    dimension: info.dimension,
    sequenceLength,
    batchSize: options.batchSize ?? DEFAULT_BATCH_SIZE,
    logger,
  });
  logger.info(
    {
      model: options.model,
      workers: pool.size,
      dimension: embedder.dimension,
      maxTokens: embedder.maxTokens,
      loadMs: Math.round(performance.now() - startedAt),
    },
    'embedding model loaded',
  );
  return embedder;
}

interface TransformersEmbedderParts {
  modelName: string;
  tokenizer: PreTrainedTokenizer;
  pool: WorkerPool<EmbedWorkerInfo, string[], EmbedWorkerResult>;
  dimension: number;
  sequenceLength: number;
  batchSize: number;
  logger: Logger;
}

/** {@link Embedder} over transformers.js, with the encoder in a pool of worker threads. */
class TransformersEmbedder implements Embedder {
  readonly dimension: number;
  /** Content tokens that fit one input: the sequence length less the special tokens. */
  readonly maxTokens: number;
  readonly modelName: string;
  private readonly parts: TransformersEmbedderParts;
  private closed = false;

  constructor(parts: TransformersEmbedderParts) {
    this.parts = parts;
    this.modelName = parts.modelName;
    this.dimension = parts.dimension;
    const specialTokens = parts.tokenizer.encode('', { add_special_tokens: true }).length;
    this.maxTokens = parts.sequenceLength - specialTokens;
  }

  /**
   * Splits `texts` into batches of similar length, so little padding is computed, runs them on
   * the workers in parallel and returns the vectors in input order.
   */
  async embed(texts: string[], options: { signal?: AbortSignal } = {}): Promise<Float32Array[]> {
    if (this.closed) throw new EmbedderClosedError('embedder');
    options.signal?.throwIfAborted();
    if (texts.length === 0) return [];

    const order = texts
      .map((_, index) => index)
      .sort((a, b) => texts[b]!.length - texts[a]!.length);
    const vectors = new Array<Float32Array>(texts.length);
    const { signal, dispose } = batchSignal(options.signal);
    const requests: Promise<void>[] = [];
    for (let start = 0; start < order.length; start += this.parts.batchSize) {
      const indices = order.slice(start, start + this.parts.batchSize);
      const batch = indices.map((index) => texts[index]!);
      const request = this.parts.pool.run(batch, { signal }).then((result) => {
        this.checkDimension(result);
        indices.forEach((index, row) => {
          vectors[index] = result.vectors.subarray(
            row * this.dimension,
            (row + 1) * this.dimension,
          );
        });
      });
      requests.push(request);
    }
    try {
      await Promise.all(requests);
    } finally {
      dispose();
    }
    return vectors;
  }

  /**
   * Counts tokens without special tokens on the main thread, yielding to the event loop every
   * few dozen texts so long documents do not stall other work.
   */
  async countTokens(texts: string[]): Promise<number[]> {
    if (this.closed) throw new EmbedderClosedError('embedder');
    const counts: number[] = [];
    for (let start = 0; start < texts.length; start += COUNT_SLICE) {
      if (start > 0) await yieldToEventLoop();
      for (const text of texts.slice(start, start + COUNT_SLICE)) {
        counts.push(this.parts.tokenizer.encode(text, { add_special_tokens: false }).length);
      }
    }
    return counts;
  }

  busyTime(): WorkerBusyTime {
    return this.parts.pool.busyTime();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.parts.pool.close();
    this.parts.logger.info({ model: this.modelName }, 'embedding workers stopped');
  }

  private checkDimension(result: EmbedWorkerResult): void {
    if (result.dimension !== this.dimension) {
      throw new EmbedWorkerError(
        'EMBED_FAILED',
        `worker vectors must have dimension ${this.dimension}, got ${result.dimension}`,
      );
    }
  }
}

/**
 * Returns a signal that follows `signal` and may carry one abort listener per batch, so a large
 * embed call does not trip Node's listener-leak warning on the caller's signal.
 */
function batchSignal(signal: AbortSignal | undefined): {
  signal?: AbortSignal;
  dispose(): void;
} {
  if (signal === undefined) return { dispose: () => {} };
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  const forward = () => controller.abort(signal.reason);
  signal.addEventListener('abort', forward, { once: true });
  return {
    signal: controller.signal,
    dispose: () => signal.removeEventListener('abort', forward),
  };
}
