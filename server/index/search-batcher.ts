import type { NativeSearchResult } from './faiss-addon.js';

/** Runs one native search over `queries` (rows of `dimension` floats) for the top `k` each. */
export type BatchSearch = (queries: Float32Array, k: number) => Promise<NativeSearchResult>;

interface PendingQuery {
  vector: Float32Array;
  k: number;
  resolve: (result: NativeSearchResult) => void;
  reject: (error: unknown) => void;
}

/**
 * Merges concurrent queries into native batch searches. One batch runs at a time; queries that
 * arrive meanwhile wait and form the next batch, so under load each FAISS call answers many
 * queries (a batch of 20 or more uses a BLAS matrix product on a flat index).
 */
export class SearchBatcher {
  readonly #run: BatchSearch;
  readonly #dimension: number;
  readonly #maxBatchSize: number;
  #queue: PendingQuery[] = [];
  #running = false;

  constructor(run: BatchSearch, dimension: number, maxBatchSize: number) {
    this.#run = run;
    this.#dimension = dimension;
    this.#maxBatchSize = maxBatchSize;
  }

  /** Resolves with this query's `k` rows once its batch has run. */
  search(vector: Float32Array, k: number): Promise<NativeSearchResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ vector, k, resolve, reject });
      if (this.#running) return;
      this.#running = true;
      // A microtask lets queries issued in the same turn of the event loop join the first batch.
      queueMicrotask(() => void this.#drain());
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatchSize);
      await this.#runBatch(batch);
    }
    this.#running = false;
  }

  async #runBatch(batch: PendingQuery[]): Promise<void> {
    const k = Math.max(...batch.map((query) => query.k));
    const queries = new Float32Array(batch.length * this.#dimension);
    batch.forEach((query, row) => queries.set(query.vector, row * this.#dimension));
    let result: NativeSearchResult;
    try {
      result = await this.#run(queries, k);
    } catch (error) {
      for (const query of batch) query.reject(error);
      return;
    }
    batch.forEach((query, row) => query.resolve(sliceRow(result, row, k, query.k)));
  }
}

function sliceRow(result: NativeSearchResult, row: number, stride: number, k: number) {
  const start = row * stride;
  return {
    distances: result.distances.subarray(start, start + k),
    labels: result.labels.subarray(start, start + k),
  };
}
