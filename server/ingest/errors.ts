import { StreamClusterError } from '../core/errors.js';

/** The PDF is encrypted and no password, or a wrong one, was given. Retrying without one fails. */
export class EncryptedDocumentError extends StreamClusterError {
  /** True when a password was given but did not open the document. */
  readonly passwordGiven: boolean;

  constructor(passwordGiven: boolean, options?: { cause?: unknown }) {
    super(
      'DOCUMENT_ENCRYPTED',
      passwordGiven
        ? 'password must open the encrypted PDF, got an incorrect one; send its user password ' +
            '(--password on the command line, the password option in the client)'
        : 'PDF is encrypted; send its user password (--password on the command line, the ' +
            'password option in the client)',
      options,
    );
    this.passwordGiven = passwordGiven;
  }
}

/** The bytes are not a readable document of the declared type, such as a truncated PDF. */
export class InvalidDocumentError extends StreamClusterError {
  /** The parser's description of the fault in the bytes. */
  readonly detail: string;

  constructor(detail: string, options?: { cause?: unknown }) {
    super(
      'DOCUMENT_INVALID',
      `document is damaged or not of its declared type (${detail}); check that the file is ` +
        'complete, or open and save it again to repair it',
      options,
    );
    this.detail = detail;
  }
}

/**
 * The document parsed but contains too little text to index, as with scanned pages that carry
 * only an image. Run OCR on it first.
 */
export class NoExtractableTextError extends StreamClusterError {
  readonly pageCount: number;
  /** Letters and digits found in the whole document. */
  readonly characterCount: number;
  readonly source: 'pdf' | 'text';

  /** `source` is `pdf` for a PDF, whose pages may be images, and `text` for text files. */
  constructor(pageCount: number, characterCount: number, source: 'pdf' | 'text' = 'pdf') {
    const pages = `${pageCount} ${pageCount === 1 ? 'page' : 'pages'}`;
    super(
      'DOCUMENT_NO_TEXT',
      source === 'pdf'
        ? `document must contain extractable text, got ${characterCount} letters and digits on ` +
            `${pages}; its pages are probably images (a scan), so run OCR on it and upload the result`
        : `document must contain text, got no letters or digits; upload a file with text in it`,
    );
    this.pageCount = pageCount;
    this.characterCount = characterCount;
    this.source = source;
  }
}

/** The kind of limit a {@link DocumentTooLargeError} exceeded. */
export type SizeLimit = 'bytes' | 'pages' | 'memory';

/** The document exceeds a size, page count or parser memory limit. */
export class DocumentTooLargeError extends StreamClusterError {
  readonly limit: SizeLimit;
  /** The limit in force: bytes, pages or megabytes of parser heap. */
  readonly maximum: number;
  /** The document's value, when known (it is not for the memory limit). */
  readonly actual: number | undefined;

  constructor(limit: SizeLimit, maximum: number, actual?: number, options?: { cause?: unknown }) {
    super('DOCUMENT_TOO_LARGE', tooLargeMessage(limit, maximum, actual), options);
    this.limit = limit;
    this.maximum = maximum;
    this.actual = actual;
  }
}

function tooLargeMessage(limit: SizeLimit, maximum: number, actual: number | undefined): string {
  if (limit === 'memory') {
    return (
      `parsing must fit in ${maximum} MB of heap, got more; ` +
      'split the document or raise memoryLimitMb'
    );
  }
  const option = limit === 'bytes' ? 'maxBytes' : 'maxPages';
  const fix = `split it or raise ${option}`;
  return `document must have at most ${maximum} ${limit}, got ${actual}; ${fix}`;
}

/** Parsing did not finish within the deadline; the parser was stopped. */
export class ParseTimeoutError extends StreamClusterError {
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super(
      'PARSE_TIMEOUT',
      `parsing must finish within ${timeoutMs} ms, but it timed out; the file may be malformed, ` +
        'or raise timeoutMs for very long documents',
    );
    this.timeoutMs = timeoutMs;
  }
}

/** The parser failed for a reason other than the document itself, such as a crashed worker. */
export class ParserFailedError extends StreamClusterError {
  readonly detail: string;

  constructor(detail: string, options?: { cause?: unknown }) {
    super('PARSER_FAILED', `parser failed: ${detail}; retry the document`, options);
    this.detail = detail;
  }
}
