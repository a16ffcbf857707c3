/** An error the server reported for an operation, or a client-side failure, with a stable code. */
export class StreamClusterClientError extends Error {
  readonly code: string;
  readonly retryable: boolean;

  constructor(
    code: string,
    message: string,
    options: { retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'StreamClusterClientError';
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}
