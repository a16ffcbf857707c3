import { StreamClusterError } from '../../server/core/errors.js';

/** Result of a reconcile step: converged, or look again after a delay. */
export type Outcome = { kind: 'done' } | { kind: 'requeue'; afterMs: number; reason: string };

/** The step converged; nothing more to do until something changes. */
export function done(): Outcome {
  return { kind: 'done' };
}

/** The step needs another look after `afterMs`, for the given reason (a metric label). */
export function requeueAfter(afterMs: number, reason: string): Outcome {
  return { kind: 'requeue', afterMs, reason };
}

/**
 * An error that retrying cannot fix, such as a spec the API server accepted but the operator
 * cannot act on. The key is dropped from the queue until the object changes.
 */
export class TerminalError extends StreamClusterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RECONCILE_TERMINAL', message, options);
  }
}
