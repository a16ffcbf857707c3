import { StreamClusterError } from '../core/errors.js';

/** A vector whose length differs from the index dimension. */
export class DimensionMismatchError extends StreamClusterError {
  readonly expected: number;
  readonly actual: number;

  constructor(what: string, expected: number, actual: number) {
    super(
      'DIMENSION_MISMATCH',
      `${what} dimension must be ${expected} (the index dimension), got ${actual}; ` +
        'embed with the model the index was built with',
    );
    this.expected = expected;
    this.actual = actual;
  }
}

/** A document embedded by another model than the one the index holds. */
export class ModelMismatchError extends StreamClusterError {
  constructor(expected: string, actual: string) {
    super(
      'MODEL_MISMATCH',
      `embedding model must be ${expected} (the model of the indexed vectors), got ${actual}; ` +
        'configure the same model on every server or rebuild the index',
    );
  }
}

/** The FAISS addon is not built or was built from another version of its source. */
export class FaissAddonError extends StreamClusterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('FAISS_ADDON_UNAVAILABLE', `${message}; run scripts/setup/30-faiss.sh`, options);
  }
}

/** A FAISS call failed; the index is unchanged. */
export class IndexOperationError extends StreamClusterError {
  constructor(operation: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message.trim() : String(cause);
    super('INDEX_OPERATION_FAILED', `index ${operation} failed: ${reason}`, { cause });
  }
}

/** Writing a snapshot generation failed; the previous generations are untouched. */
export class SnapshotError extends StreamClusterError {
  constructor(dataDir: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      'SNAPSHOT_FAILED',
      `snapshot to ${dataDir} failed: ${reason}; the previous generation stays loadable`,
      { cause },
    );
  }
}

/** A store or index used after close(). */
export class ClosedError extends StreamClusterError {
  constructor(what: string) {
    super('CLOSED', `${what} is closed; open a new one`);
  }
}
