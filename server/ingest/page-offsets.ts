import { PAGE_SEPARATOR, type ParsedPage } from './types.js';

/** A document's text as one string, with where each page starts in it. */
export interface JoinedPages {
  /** The pages' texts joined with {@link PAGE_SEPARATOR}. */
  text: string;
  /** Offset (UTF-16 code units) in `text` where each page's text starts, ascending. */
  pageStarts: number[];
  /** Page number of each entry of `pageStarts`. */
  pageNumbers: number[];
}

/** Joins pages into the document text that chunk offsets address. */
export function joinPages(pages: ParsedPage[]): JoinedPages {
  const pageStarts: number[] = [];
  let offset = 0;
  for (const page of pages) {
    pageStarts.push(offset);
    offset += page.text.length + PAGE_SEPARATOR.length;
  }
  return {
    text: pages.map((page) => page.text).join(PAGE_SEPARATOR),
    pageStarts,
    pageNumbers: pages.map((page) => page.pageNumber),
  };
}

/**
 * Returns the page number that a character offset of the joined text falls on. An offset inside
 * a page separator belongs to the page before it; offsets past the end belong to the last page.
 */
export function pageNumberAt(joined: JoinedPages, offset: number): number {
  const { pageStarts, pageNumbers } = joined;
  if (pageStarts.length === 0) throw new RangeError('document has no pages');
  let low = 0;
  let high = pageStarts.length - 1;
  // Binary search for the last page starting at or before the offset.
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (pageStarts[middle]! <= offset) low = middle;
    else high = middle - 1;
  }
  return pageNumbers[low]!;
}
