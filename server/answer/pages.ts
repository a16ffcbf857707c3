import { PAGE_SEPARATOR, type ParsedPage } from '../ingest/types.js';
import type { RetrievedChunk } from './types.js';

/** First and last 1-based page of a span of text. */
export interface PageSpan {
  pageStart: number;
  pageEnd: number;
}

/**
 * Finds the pages that characters [start, end) of a chunk's text come from. The result lies
 * within the chunk's own page span, and is that whole span when the pages cannot be distinguished.
 */
export type PageLocator = (chunk: RetrievedChunk, start: number, end: number) => PageSpan;

/** The start of a page in its document's text. */
export interface PageBoundary {
  pageNumber: number;
  /** Offset in UTF-16 code units of the page's first character in the document's text. */
  charStart: number;
}

/**
 * Locates pages from the PAGE_SEPARATOR occurrences inside the chunk's text: a character is on
 * `pageStart` plus the number of separators before it, ignoring separators at the text's
 * edges. This needs no data beyond the chunk, but trusts that page texts contain no
 * PAGE_SEPARATOR themselves. When the count of separators differs from the pages the chunk
 * spans, the text was changed or a page contains one, and the whole chunk span is returned.
 */
export const locatePagesBySeparator: PageLocator = (chunk, start, end) => {
  const whole = { pageStart: chunk.pageStart, pageEnd: chunk.pageEnd };
  if (chunk.pageStart === chunk.pageEnd) return whole;

  const separators = findSeparators(chunk.text);
  if (separators.length !== chunk.pageEnd - chunk.pageStart) return whole;

  const pageAt = (offset: number) =>
    chunk.pageStart + separators.filter((at) => at + PAGE_SEPARATOR.length <= offset).length;
  return { pageStart: pageAt(start), pageEnd: pageAt(Math.max(start, end - 1)) };
};

/** Finds the separators between the chunk's first and last visible characters. */
function findSeparators(text: string): number[] {
  // A separator at the chunk's edge divides none of its text, so it decides no page.
  const contentStart = text.length - text.trimStart().length;
  const contentEnd = text.trimEnd().length;
  const found: number[] = [];
  let at = text.indexOf(PAGE_SEPARATOR, contentStart);
  while (at !== -1 && at + PAGE_SEPARATOR.length <= contentEnd) {
    found.push(at);
    at = text.indexOf(PAGE_SEPARATOR, at + PAGE_SEPARATOR.length);
  }
  return found;
}

/**
 * Computes where each page begins in the document's text (the page texts joined with
 * PAGE_SEPARATOR), for {@link createBoundaryPageLocator}.
 */
export function pageBoundariesOf(pages: readonly ParsedPage[]): PageBoundary[] {
  const boundaries: PageBoundary[] = [];
  let charStart = 0;
  for (const page of pages) {
    boundaries.push({ pageNumber: page.pageNumber, charStart });
    charStart += page.text.length + PAGE_SEPARATOR.length;
  }
  return boundaries;
}

/**
 * Creates a locator that maps chunk offsets to document offsets and looks them up in the
 * document's page boundaries, which is exact even when a page's text contains PAGE_SEPARATOR.
 * It uses `fallback` for documents without boundaries, for chunks whose text length disagrees
 * with their offsets, and when the boundaries put the span outside the chunk's pages.
 */
export function createBoundaryPageLocator(
  boundariesOf: (documentId: string) => readonly PageBoundary[] | undefined,
  fallback: PageLocator = locatePagesBySeparator,
): PageLocator {
  return (chunk, start, end) => {
    const boundaries = boundariesOf(chunk.documentId);
    if (!boundaries || chunk.text.length !== chunk.charEnd - chunk.charStart) {
      return fallback(chunk, start, end);
    }
    const pageStart = pageAtOffset(boundaries, chunk.charStart + start);
    const pageEnd = pageAtOffset(boundaries, chunk.charStart + Math.max(start, end - 1));
    if (pageStart === undefined || pageEnd === undefined) return fallback(chunk, start, end);
    if (pageStart < chunk.pageStart || pageEnd > chunk.pageEnd) return fallback(chunk, start, end);
    return { pageStart, pageEnd };
  };
}

/** Binary search for the last page that begins at or before `offset`. */
function pageAtOffset(boundaries: readonly PageBoundary[], offset: number): number | undefined {
  let low = 0;
  let high = boundaries.length - 1;
  let found: number | undefined;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (boundaries[middle]!.charStart <= offset) {
      found = boundaries[middle]!.pageNumber;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}
