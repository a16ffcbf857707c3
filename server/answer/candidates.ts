import type { PageLocator, PageSpan } from './pages.js';
import { splitSentences } from './sentences.js';
import type { RetrievedChunk } from './types.js';

/** A sentence of a retrieved chunk that may go into an extractive answer. */
export interface CandidateSentence {
  /** Position of the chunk in the retrieved list. */
  chunkIndex: number;
  /** Position of the sentence within its chunk, to keep the chunk's reading order. */
  sentenceIndex: number;
  /** The sentence is `chunk.text.slice(start, end)`. */
  start: number;
  end: number;
  /** The sentence with runs of white space (line and page breaks too) made single spaces. */
  text: string;
  pages: PageSpan;
}

/** Options for {@link collectCandidates}. */
export interface CollectCandidatesOptions {
  locatePages: PageLocator;
  /** Shorter sentences, such as headings and page numbers, are skipped. */
  minWords: number;
  maxChars: number;
}

/**
 * Splits the chunks into candidate sentences. A sentence already seen in a better-ranked chunk
 * is skipped, because overlapping chunks repeat the text they share.
 */
export function collectCandidates(
  chunks: readonly RetrievedChunk[],
  options: CollectCandidatesOptions,
): CandidateSentence[] {
  const candidates: CandidateSentence[] = [];
  const seen = new Set<string>();

  chunks.forEach((chunk, chunkIndex) => {
    const spans = splitSentences(chunk.text, { maxChars: options.maxChars });
    spans.forEach(({ start, end }, sentenceIndex) => {
      const text = chunk.text.slice(start, end).replace(/\s+/g, ' ');
      const key = text.toLowerCase();
      if (text.split(' ').length < options.minWords || seen.has(key)) return;

      seen.add(key);
      const pages = options.locatePages(chunk, start, end);
      candidates.push({ chunkIndex, sentenceIndex, start, end, text, pages });
    });
  });
  return candidates;
}
