import { extname } from 'node:path';
import type { DocumentType } from './types.js';

const PDF_SIGNATURE = '%PDF-';
/** PDF readers accept the signature anywhere in the first kilobyte, so this does too. */
const SIGNATURE_WINDOW_BYTES = 1024;

/**
 * Detects a document's type. A `%PDF-` signature means PDF whatever the name is, a `.md`,
 * `.markdown` or `.mdown` name means Markdown, and anything else is read as plain text.
 */
export function detectDocumentType(name: string, data: Uint8Array): DocumentType {
  const head = Buffer.from(
    data.buffer,
    data.byteOffset,
    Math.min(data.length, SIGNATURE_WINDOW_BYTES),
  );
  if (head.includes(PDF_SIGNATURE, 0, 'latin1')) return 'pdf';
  const extension = extname(name).toLowerCase();
  if (['.md', '.markdown', '.mdown'].includes(extension)) return 'markdown';
  return 'text';
}
