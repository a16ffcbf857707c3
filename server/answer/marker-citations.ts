import type { PageLocator } from './pages.js';
import { splitSentences } from './sentences.js';
import { contentTerms, dice } from './terms.js';
import type { Citation, RetrievedChunk } from './types.js';

// `[1]`, `[2, 3]`; `[1][2]` is two markers.
const MARKER = /\[(\d+(?:\s*,\s*\d+)*)\]/g;

/**
 * Builds citations for the passage numbers an answer cites, in number order, ignoring numbers
 * without a chunk. Each quote is the sentence of the chunk that shares the most words with the
 * text the marker follows, so its pages can be narrower than the chunk's. When no sentence
 * shares a word, the quote is the whole chunk.
 */
export function citeMarkers(
  answer: string,
  chunks: readonly RetrievedChunk[],
  locatePages: PageLocator,
): Citation[] {
  const claims = claimsByNumber(answer);
  const numbers = [...claims.keys()].filter((n) => n >= 1 && n <= chunks.length);
  return numbers
    .sort((a, b) => a - b)
    .map((n) => citeChunk(chunks[n - 1]!, n, claims.get(n)!.join(' '), locatePages));
}

/** Maps each cited number to the texts it was cited for: what precedes its marker. */
function claimsByNumber(answer: string): Map<number, string[]> {
  const claims = new Map<number, string[]>();
  let claimStart = 0;
  let lastClaim = '';

  for (const match of answer.matchAll(MARKER)) {
    const text = answer.slice(claimStart, match.index);
    claimStart = match.index + match[0].length;
    // "[1][2]" and "text. [1]" leave nothing between markers, so they share the last claim.
    if (contentTerms(text).length > 0) lastClaim = text;

    for (const n of match[1]!.split(',').map(Number)) {
      const texts = claims.get(n) ?? [];
      texts.push(lastClaim);
      claims.set(n, texts);
    }
  }
  return claims;
}

function citeChunk(
  chunk: RetrievedChunk,
  index: number,
  claim: string,
  locatePages: PageLocator,
): Citation {
  const claimTerms = new Set(contentTerms(claim));
  let best = { start: 0, end: chunk.text.length, score: 0 };
  for (const { start, end } of splitSentences(chunk.text)) {
    const score = dice(claimTerms, new Set(contentTerms(chunk.text.slice(start, end))));
    if (score > best.score) best = { start, end, score };
  }
  if (best.score === 0) best = { ...best, ...trimmedBounds(chunk.text) };

  const pages = locatePages(chunk, best.start, best.end);
  return {
    index,
    chunkId: chunk.chunkId,
    documentId: chunk.documentId,
    documentName: chunk.documentName,
    pageStart: pages.pageStart,
    pageEnd: pages.pageEnd,
    quote: chunk.text.slice(best.start, best.end),
  };
}

function trimmedBounds(text: string): { start: number; end: number } {
  const start = text.length - text.trimStart().length;
  return { start, end: Math.max(start, text.trimEnd().length) };
}
