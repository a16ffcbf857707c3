// Worker thread entry of the embedding pool: loads the tokenizer and encoder once, then embeds
// one batch per request.
import { embedBatch } from './embed-batch.js';
import { loadEncoder, loadTokenizer, type ModelSettings } from './model-loader.js';
import { serveWorker, type WorkerService } from './worker-protocol.js';

/** workerData of an embedding worker. */
export interface EmbedWorkerData {
  settings: ModelSettings;
  maxTokens: number;
  intraOpThreads: number;
}

/** Ready info of an embedding worker, from a warm-up batch. */
export interface EmbedWorkerInfo {
  dimension: number;
}

/** One request: texts to embed. The reply contains their vectors back to back. */
export interface EmbedWorkerResult {
  vectors: Float32Array;
  dimension: number;
}

async function setup(
  data: unknown,
): Promise<WorkerService<EmbedWorkerInfo, string[], EmbedWorkerResult>> {
  const { settings, maxTokens, intraOpThreads } = data as EmbedWorkerData;
  const [tokenizer, model] = await Promise.all([
    loadTokenizer(settings),
    loadEncoder(settings, intraOpThreads),
  ]);
  // The warm-up run allocates onnxruntime's buffers before the first real batch and reveals
  // the vector dimension.
  const { dimension } = await embedBatch(tokenizer, model, ['warm-up'], maxTokens);

  return {
    info: { dimension },
    async handle(texts) {
      const result = await embedBatch(tokenizer, model, texts, maxTokens);
      return { result, transfer: [result.vectors.buffer as ArrayBuffer] };
    },
  };
}

serveWorker(setup);
