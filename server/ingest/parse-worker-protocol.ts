import type { DocumentType, ParsedPage } from './types.js';
import {
  DocumentTooLargeError,
  EncryptedDocumentError,
  InvalidDocumentError,
  NoExtractableTextError,
  ParserFailedError,
  type SizeLimit,
} from './errors.js';

/** A document sent to a parse worker. `data` is transferred, so the sender loses it. */
export interface ParseJob {
  id: number;
  type: DocumentType;
  data: Uint8Array;
  password?: string;
  maxPages: number;
  minCharsPerPage: number;
}

/** Messages a parse worker posts back, each naming the job it belongs to. */
export type ParseWorkerMessage =
  | { id: number; kind: 'page'; done: number; total: number }
  | { id: number; kind: 'pages'; pages: ParsedPage[] }
  | { id: number; kind: 'error'; error: SerializedError };

/**
 * An error as it crosses the thread boundary: structured cloning keeps neither the class nor
 * its fields, so each class travels as its code and fields and is rebuilt on the other side.
 */
export type SerializedError =
  | { code: 'DOCUMENT_ENCRYPTED'; passwordGiven: boolean }
  | { code: 'DOCUMENT_INVALID'; detail: string }
  | {
      code: 'DOCUMENT_NO_TEXT';
      pageCount: number;
      characterCount: number;
      source: 'pdf' | 'text';
    }
  | { code: 'DOCUMENT_TOO_LARGE'; limit: SizeLimit; maximum: number; actual?: number }
  | { code: 'PARSER_FAILED'; detail: string };

/** Turns an error thrown while parsing into its serialisable form. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof EncryptedDocumentError) {
    return { code: 'DOCUMENT_ENCRYPTED', passwordGiven: error.passwordGiven };
  }
  if (error instanceof InvalidDocumentError)
    return { code: 'DOCUMENT_INVALID', detail: error.detail };
  if (error instanceof NoExtractableTextError) {
    const { pageCount, characterCount, source } = error;
    return { code: 'DOCUMENT_NO_TEXT', pageCount, characterCount, source };
  }
  if (error instanceof DocumentTooLargeError) {
    const { limit, maximum, actual } = error;
    return { code: 'DOCUMENT_TOO_LARGE', limit, maximum, actual };
  }
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { code: 'PARSER_FAILED', detail };
}

/** Rebuilds the error class that {@link serializeError} flattened. */
export function deserializeError(error: SerializedError): Error {
  switch (error.code) {
    case 'DOCUMENT_ENCRYPTED':
      return new EncryptedDocumentError(error.passwordGiven);
    case 'DOCUMENT_INVALID':
      return new InvalidDocumentError(error.detail);
    case 'DOCUMENT_NO_TEXT':
      return new NoExtractableTextError(error.pageCount, error.characterCount, error.source);
    case 'DOCUMENT_TOO_LARGE':
      return new DocumentTooLargeError(error.limit, error.maximum, error.actual);
    case 'PARSER_FAILED':
      return new ParserFailedError(error.detail);
  }
}
