import { StreamClusterError } from '../core/errors.js';

/** The log cannot take or serve records right now (NATS down, lock held too long); retry later. */
export class LogUnavailableError extends StreamClusterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LOG_UNAVAILABLE', message, options);
  }
}

/**
 * Stored bytes fail their checksum or framing somewhere other than a torn tail. Nothing after
 * the damaged record can be read until an operator restores the segment from a replica or backup.
 */
export class LogCorruptError extends StreamClusterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LOG_CORRUPT', message, options);
  }
}

/** A read asked to observe a sequence that this server has not applied within its timeout. */
export class SequenceNotAppliedError extends StreamClusterError {
  readonly requestedSeq: number;
  readonly appliedSeq: number;

  constructor(requestedSeq: number, appliedSeq: number, timeoutMs: number) {
    super(
      'SEQ_NOT_APPLIED',
      `sequence ${requestedSeq} was not applied within ${timeoutMs} ms (applied up to ` +
        `${appliedSeq}); retry the request, send it to a server that has caught up, or ask ` +
        'without a minimum sequence to read possibly stale results',
    );
    this.requestedSeq = requestedSeq;
    this.appliedSeq = appliedSeq;
  }
}
