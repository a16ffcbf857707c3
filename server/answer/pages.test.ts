import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { manualChunk } from '../../test/support/chunks.js';
import { PAGE_SEPARATOR, type ParsedPage } from '../ingest/types.js';
import {
  createBoundaryPageLocator,
  locatePagesBySeparator,
  pageBoundariesOf,
  type PageBoundary,
} from './pages.js';

const pages: ParsedPage[] = [
  { pageNumber: 1, text: 'Title page.' },
  { pageNumber: 2, text: 'Second page ends mid' },
  { pageNumber: 3, text: 'sentence here. Third page.' },
  { pageNumber: 4, text: 'Fourth page.' },
];
const documentText = pages.map((page) => page.text).join(PAGE_SEPARATOR);

/** Returns the chunk of `documentText` from `from` (inclusive) to `to` (exclusive). */
function chunkOf(from: string, to: string | undefined, pageStart: number, pageEnd: number) {
  const charStart = documentText.indexOf(from);
  const charEnd = to === undefined ? documentText.length : documentText.indexOf(to);
  return manualChunk({
    text: documentText.slice(charStart, charEnd),
    charStart,
    pageStart,
    pageEnd,
  });
}

function spanOf(text: string, part: string): [number, number] {
  const start = text.indexOf(part);
  return [start, start + part.length];
}

describe('locatePagesBySeparator', () => {
  const chunk = chunkOf('Second page', 'Fourth page', 2, 3);

  it('finds the page of a span before and after the break', () => {
    assert.deepEqual(locatePagesBySeparator(chunk, ...spanOf(chunk.text, 'Second page')), {
      pageStart: 2,
      pageEnd: 2,
    });
    assert.deepEqual(locatePagesBySeparator(chunk, ...spanOf(chunk.text, 'Third page.')), {
      pageStart: 3,
      pageEnd: 3,
    });
  });

  it('spans both pages for text across the break', () => {
    const [start] = spanOf(chunk.text, 'ends mid');
    const [, end] = spanOf(chunk.text, 'sentence here.');
    assert.deepEqual(locatePagesBySeparator(chunk, start, end), { pageStart: 2, pageEnd: 3 });
  });

  it('ignores a separator at the edge of the chunk', () => {
    const text = `${PAGE_SEPARATOR}one${PAGE_SEPARATOR}two${PAGE_SEPARATOR}`;
    const edged = manualChunk({ text, pageStart: 5, pageEnd: 6 });
    assert.deepEqual(locatePagesBySeparator(edged, ...spanOf(text, 'one')), {
      pageStart: 5,
      pageEnd: 5,
    });
    assert.deepEqual(locatePagesBySeparator(edged, ...spanOf(text, 'two')), {
      pageStart: 6,
      pageEnd: 6,
    });
  });

  it('counts an empty page between two others', () => {
    const text = `one${PAGE_SEPARATOR}${PAGE_SEPARATOR}three`;
    const straddling = manualChunk({ text, pageStart: 5, pageEnd: 7 });
    assert.deepEqual(locatePagesBySeparator(straddling, ...spanOf(text, 'three')), {
      pageStart: 7,
      pageEnd: 7,
    });
  });

  it('returns the whole chunk span when separators do not match its pages', () => {
    const text = `one${PAGE_SEPARATOR}two${PAGE_SEPARATOR}three`;
    const ambiguous = manualChunk({ text, pageStart: 5, pageEnd: 6 });
    assert.deepEqual(locatePagesBySeparator(ambiguous, ...spanOf(text, 'three')), {
      pageStart: 5,
      pageEnd: 6,
    });
  });
});

describe('createBoundaryPageLocator', () => {
  const boundaries = new Map<string, PageBoundary[]>([['manual', pageBoundariesOf(pages)]]);
  const locate = createBoundaryPageLocator((documentId) => boundaries.get(documentId));

  it('computes where each page begins', () => {
    assert.deepEqual(
      pageBoundariesOf(pages).map((boundary) => documentText.slice(boundary.charStart)[0]),
      ['T', 'S', 's', 'F'],
    );
  });

  it('finds pages from document offsets', () => {
    const chunk = chunkOf('Third page', undefined, 3, 4);
    assert.deepEqual(locate(chunk, ...spanOf(chunk.text, 'Third page.')), {
      pageStart: 3,
      pageEnd: 3,
    });
    assert.deepEqual(locate(chunk, ...spanOf(chunk.text, 'Fourth page.')), {
      pageStart: 4,
      pageEnd: 4,
    });
  });

  it('is exact when a page contains the separator itself', () => {
    const withBreaks: ParsedPage[] = [
      { pageNumber: 1, text: `First paragraph.${PAGE_SEPARATOR}Second paragraph.` },
      { pageNumber: 2, text: 'Next page.' },
    ];
    const text = withBreaks.map((page) => page.text).join(PAGE_SEPARATOR);
    const chunk = manualChunk({ documentId: 'breaks', text, pageStart: 1, pageEnd: 2 });
    const locator = createBoundaryPageLocator(() => pageBoundariesOf(withBreaks));

    assert.deepEqual(locator(chunk, ...spanOf(text, 'Second paragraph.')), {
      pageStart: 1,
      pageEnd: 1,
    });
    assert.deepEqual(locatePagesBySeparator(chunk, ...spanOf(text, 'Second paragraph.')), {
      pageStart: 1,
      pageEnd: 2,
    });
  });

  it('falls back for a document without boundaries', () => {
    const chunk = chunkOf('Second page', 'Fourth page', 2, 3);
    const other = { ...chunk, documentId: 'unknown' };
    assert.deepEqual(locate(other, ...spanOf(chunk.text, 'Third page.')), {
      pageStart: 3,
      pageEnd: 3,
    });
  });

  it('falls back when the text length disagrees with the offsets', () => {
    const chunk = chunkOf('Second page', 'Fourth page', 2, 3);
    const trimmed = { ...chunk, text: chunk.text.trim(), charStart: chunk.charStart - 5 };
    assert.deepEqual(locate(trimmed, ...spanOf(trimmed.text, 'Second page')), {
      pageStart: 2,
      pageEnd: 2,
    });
  });
});
