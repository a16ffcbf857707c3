import type { WorkerBusyTime } from '../core/busy-time.js';

/** Turns texts into unit-length vectors whose inner product is their cosine similarity. */
export interface Embedder {
  /** Vector length, such as 384 for all-MiniLM-L6-v2. */
  readonly dimension: number;
  /** Longest input in model tokens; longer text is truncated by the model. */
  readonly maxTokens: number;
  /** Model id or directory, for logs and status. */
  readonly modelName: string;
  /** Embeds a batch; returns one L2-normalised vector per input, in order. */
  embed(texts: string[], options?: { signal?: AbortSignal }): Promise<Float32Array[]>;
  /** Counts model tokens (without special tokens) of each text, for chunk sizing. */
  countTokens(texts: string[]): Promise<number[]>;
  close(): Promise<void>;
  /** Time spent embedding, for an embedder that runs in worker threads. */
  busyTime?(): WorkerBusyTime;
}
