import { StreamClusterError } from '../core/errors.js';
import type { SerializedError } from './worker-protocol.js';

/** The model directory is missing or lacks a file that loading needs. */
export class ModelNotFoundError extends StreamClusterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MODEL_NOT_FOUND', message, options);
  }
}

/** The model exists but could not be loaded, or a hub model could not be downloaded. */
export class ModelLoadError extends StreamClusterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MODEL_LOAD_FAILED', message, options);
  }
}

/**
 * A worker thread failed a request: `EMBED_WORKER_CRASHED` when the thread died (the pool
 * starts a replacement), `EMBED_FAILED` when the request itself raised an error.
 */
export class EmbedWorkerError extends StreamClusterError {
  constructor(
    code: 'EMBED_WORKER_CRASHED' | 'EMBED_FAILED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** A call on an embedder or worker pool after `close()`. */
export class EmbedderClosedError extends StreamClusterError {
  constructor(resource: string) {
    super('EMBEDDER_CLOSED', `${resource} is closed; create a new one to continue`);
  }
}

/** Rebuilds an error that a worker serialized, keeping the model error classes callers check. */
export function reviveError(error: SerializedError): StreamClusterError {
  if (error.code === 'MODEL_NOT_FOUND') return new ModelNotFoundError(error.message);
  if (error.code === 'MODEL_LOAD_FAILED') return new ModelLoadError(error.message);
  return new EmbedWorkerError('EMBED_FAILED', `${error.name}: ${error.message}`);
}
