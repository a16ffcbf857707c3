import { StreamClusterError } from '../core/errors.js';

/**
 * The answer endpoint failed: an HTTP error status, a broken or malformed stream, or an error
 * object inside the stream. Retrying may help for server errors, not for 4xx statuses.
 */
export class GeneratorFailedError extends StreamClusterError {
  /** HTTP status of the endpoint's reply, when the failure is one. */
  readonly status: number | undefined;

  constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
    super('GENERATOR_FAILED', message, { cause: options.cause });
    this.status = options.status;
  }
}

/** Which wait ran out: the response headers, the first answer token, or a gap between bytes. */
export type TimeoutPhase = 'connect' | 'first-token' | 'idle';

/** The answer endpoint did not respond within one of the configured timeouts. */
export class GeneratorTimeoutError extends StreamClusterError {
  readonly phase: TimeoutPhase;
  readonly timeoutMs: number;

  constructor(phase: TimeoutPhase, timeoutMs: number, message: string) {
    super('GENERATOR_TIMEOUT', message);
    this.phase = phase;
    this.timeoutMs = timeoutMs;
  }
}
