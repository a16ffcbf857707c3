import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as PdfJsModule from 'pdfjs-dist/legacy/build/pdf.mjs';
import type { ParsedPage } from './types.js';
import { assemblePageText, type PositionedText } from './pdf-text.js';
import {
  DocumentTooLargeError,
  EncryptedDocumentError,
  InvalidDocumentError,
  NoExtractableTextError,
} from './errors.js';

type PdfJs = typeof PdfJsModule;
type PdfDocument = Awaited<ReturnType<PdfJs['getDocument']>['promise']>;

/** Options of {@link extractPdfPages}. */
export interface PdfExtractOptions {
  /** User password of an encrypted PDF. */
  password?: string;
  /** Largest page count accepted; checked before any page is read. */
  maxPages: number;
  /**
   * Letters and digits per page, averaged over the document, below which a document whose
   * sparse pages paint an image is taken for a scan and rejected with
   * {@link NoExtractableTextError}.
   */
  minCharsPerPage: number;
  /** Called after each page with the pages done and the total. */
  onPage?: (done: number, total: number) => void;
}

const packageDir = dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
let pdfjsPromise: Promise<PdfJs> | undefined;

/** Module specifiers of pdf.js and of its worker half, which runs on the same thread here. */
export const PDFJS_MODULES = [
  'pdfjs-dist/legacy/build/pdf.worker.mjs',
  'pdfjs-dist/legacy/build/pdf.mjs',
] as const;

/**
 * Loads pdf.js once per thread; later documents reuse the loaded module. Its worker half is
 * loaded here and published as `globalThis.pdfjsWorker`, where pdf.js looks before importing it
 * itself, so both halves run on this (already separate) thread.
 */
export function loadPdfJs(): Promise<PdfJs> {
  pdfjsPromise ??= (async () => {
    const workerHalf: unknown = await import(PDFJS_MODULES[0]);
    (globalThis as { pdfjsWorker?: unknown }).pdfjsWorker = workerHalf;
    return import('pdfjs-dist/legacy/build/pdf.mjs');
  })();
  return pdfjsPromise;
}

/**
 * Extracts the text of every page of a PDF, one page at a time. Runs pdf.js on the calling
 * thread, so call it inside a worker that can be terminated: some malformed files keep pdf.js
 * busy in synchronous code.
 */
export async function extractPdfPages(
  data: Uint8Array,
  options: PdfExtractOptions,
): Promise<ParsedPage[]> {
  const pdfjs = await loadPdfJs();
  const document = await openDocument(pdfjs, data, options.password);
  try {
    if (document.numPages > options.maxPages) {
      throw new DocumentTooLargeError('pages', options.maxPages, document.numPages);
    }
    const pages: ParsedPage[] = [];
    for (let pageNumber = 1; pageNumber <= document.numPages; pageNumber++) {
      pages.push({ pageNumber, text: await extractPage(document, pageNumber) });
      options.onPage?.(pageNumber, document.numPages);
    }
    await ensureText(pdfjs, document, pages, options.minCharsPerPage);
    return pages;
  } finally {
    await document.destroy();
  }
}

async function openDocument(pdfjs: PdfJs, data: Uint8Array, password: string | undefined) {
  const task = pdfjs.getDocument({
    data,
    password,
    verbosity: pdfjs.VerbosityLevel.ERRORS,
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    cMapUrl: join(packageDir, 'cmaps') + '/',
    cMapPacked: true,
    standardFontDataUrl: join(packageDir, 'standard_fonts') + '/',
    wasmUrl: join(packageDir, 'wasm') + '/',
  });
  try {
    return await task.promise;
  } catch (error) {
    throw classifyOpenError(error, password !== undefined);
  }
}

function classifyOpenError(error: unknown, passwordGiven: boolean): Error {
  // pdf.js 5 does not export PasswordException, so it is recognised by name.
  if (error instanceof Error && error.name === 'PasswordException') {
    return new EncryptedDocumentError(passwordGiven, { cause: error });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new InvalidDocumentError(`PDF cannot be opened (${detail})`, { cause: error });
}

async function extractPage(document: PdfDocument, pageNumber: number): Promise<string> {
  const page = await document.getPage(pageNumber);
  try {
    const content = await page.getTextContent();
    const items: PositionedText[] = [];
    for (const item of content.items) if ('str' in item) items.push(item);
    return assemblePageText(items);
  } finally {
    page.cleanup();
  }
}

/**
 * Rejects a document whose text is too sparse to index. That is a document with no letters or
 * digits at all, or one with fewer than `minCharsPerPage` per page on average where a sparse
 * page paints an image, as a scan with a stray text layer does. A short text-only PDF passes.
 */
async function ensureText(
  pdfjs: PdfJs,
  document: PdfDocument,
  pages: ParsedPage[],
  minCharsPerPage: number,
): Promise<void> {
  const counts = pages.map((page) => page.text.match(/[\p{L}\p{N}]/gu)?.length ?? 0);
  const characters = counts.reduce((sum, count) => sum + count, 0);
  if (characters >= minCharsPerPage * pages.length) return;

  // Building an operator list loads fonts and decodes images, so only sparse pages pay for it.
  const sparse = pages.filter((_, index) => counts[index]! < minCharsPerPage);
  for (const page of sparse) {
    if (characters > 0 && !(await paintsImage(pdfjs, document, page.pageNumber))) continue;
    throw new NoExtractableTextError(pages.length, characters);
  }
}

async function paintsImage(pdfjs: PdfJs, document: PdfDocument, pageNumber: number) {
  const imageOps = new Set<number>([
    pdfjs.OPS.paintImageXObject,
    pdfjs.OPS.paintInlineImageXObject,
    pdfjs.OPS.paintImageMaskXObject,
    pdfjs.OPS.paintImageXObjectRepeat,
  ]);
  const page = await document.getPage(pageNumber);
  try {
    const operators = await page.getOperatorList();
    return operators.fnArray.some((op) => imageOps.has(op));
  } finally {
    page.cleanup();
  }
}
