/**
 * Base class of every error StreamCluster raises on purpose. `code` is stable and safe to branch
 * on; the message names the value at fault and what to do next.
 */
export class StreamClusterError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Invalid configuration or request: retrying the same input cannot succeed. */
export class ValidationError extends StreamClusterError {
  /** Every problem found, one sentence each, so a user can fix them all at once. */
  readonly problems: string[];

  constructor(problems: string[], options?: { cause?: unknown }) {
    super('INVALID_ARGUMENT', problems.join('; '), options);
    this.problems = problems;
  }
}
