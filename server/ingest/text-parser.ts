import type { DocumentType, ParsedPage } from './types.js';
import { InvalidDocumentError, NoExtractableTextError } from './errors.js';
import { normalizePageText } from './pdf-text.js';
import { markdownToText } from './markdown.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Parses a plain text or Markdown file into one page: UTF-8 decoded (a byte-order mark is
 * dropped), Markdown reduced to its text, NFKC-normalised. Line breaks are kept but empty lines
 * are dropped. The chunker reads a single line break as a space.
 */
export function parseTextDocument(
  data: Uint8Array,
  type: Exclude<DocumentType, 'pdf'>,
): ParsedPage[] {
  let decoded: string;
  try {
    decoded = utf8.decode(data);
  } catch (error) {
    throw new InvalidDocumentError('text must be UTF-8 encoded, got invalid byte sequences', {
      cause: error,
    });
  }
  const unified = decoded.replace(/\r\n?/gu, '\n');
  const text = normalizePageText(type === 'markdown' ? markdownToText(unified) : unified);
  if (!/[\p{L}\p{N}]/u.test(text)) throw new NoExtractableTextError(1, 0, 'text');
  return [{ pageNumber: 1, text }];
}
