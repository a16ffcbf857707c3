import { StreamClusterClientError } from './errors.js';

/** Media types the `ingest` message accepts. */
export type DocumentMediaType = 'application/pdf' | 'text/plain' | 'text/markdown';

const PDF_SIGNATURE = [0x25, 0x50, 0x44, 0x46, 0x2d]; // "%PDF-"
/** PDF readers accept the signature anywhere in the first kilobyte, and so does the server. */
const SIGNATURE_WINDOW_BYTES = 1024;
/** Bytes checked for text: enough to tell text from binary without decoding a whole document. */
const TEXT_SAMPLE_BYTES = 64 * 1024;

/** Guesses the media type from a file name: `.pdf`, `.md`/`.markdown`, else plain text. */
export function guessMediaType(name: string): DocumentMediaType {
  const lower = name.toLowerCase();
  if (lower.endsWith('.pdf')) return 'application/pdf';
  if (lower.endsWith('.md') || lower.endsWith('.markdown')) return 'text/markdown';
  return 'text/plain';
}

/**
 * Detects a document's media type from its bytes, then its name: a `%PDF-` signature in the first
 * kilobyte means PDF, UTF-8 text without NUL bytes means Markdown for `.md`/`.markdown` names and
 * plain text otherwise. Returns undefined for other binary data, which the server cannot parse.
 */
export function detectMediaType(data: Uint8Array, name: string): DocumentMediaType | undefined {
  if (hasPdfSignature(data)) return 'application/pdf';
  if (!looksLikeText(data)) return undefined;
  return guessMediaType(name) === 'text/markdown' ? 'text/markdown' : 'text/plain';
}

/**
 * Returns the media type of a document or throws `UNSUPPORTED_DOCUMENT` naming the file, so
 * callers reject binary files before uploading them.
 */
export function requireMediaType(data: Uint8Array, name: string): DocumentMediaType {
  const mediaType = detectMediaType(data, name);
  if (mediaType) return mediaType;
  throw new StreamClusterClientError(
    'UNSUPPORTED_DOCUMENT',
    `${name} is neither a PDF nor UTF-8 text; convert it to PDF, text or Markdown first`,
  );
}

function hasPdfSignature(data: Uint8Array): boolean {
  const end = Math.min(data.length, SIGNATURE_WINDOW_BYTES) - PDF_SIGNATURE.length;
  for (let i = 0; i <= end; i++) {
    if (PDF_SIGNATURE.every((byte, j) => data[i + j] === byte)) return true;
  }
  return false;
}

function looksLikeText(data: Uint8Array): boolean {
  const sample = data.subarray(0, TEXT_SAMPLE_BYTES);
  if (sample.includes(0)) return false;
  try {
    // `stream: true` tolerates a multi-byte character cut at the end of the sample.
    new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: true });
    return true;
  } catch {
    return false;
  }
}
