import type { PageLocator, PageSpan } from './pages.js';
import { splitSentences, type SentenceSpan } from './sentences.js';
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
 * is skipped, because overlapping chunks repeat the text they share. So are table-of-contents
 * entries and table rows, which read as lists of numbers rather than as statements.
 */
export function collectCandidates(
  chunks: readonly RetrievedChunk[],
  options: CollectCandidatesOptions,
): CandidateSentence[] {
  const candidates: CandidateSentence[] = [];
  const seen = new Set<string>();

  chunks.forEach((chunk, chunkIndex) => {
    const spans = splitBlocks(chunk.text).flatMap((block) =>
      splitSentences(chunk.text.slice(block.start, block.end), { maxChars: options.maxChars }).map(
        ({ start, end }) => ({ start: block.start + start, end: block.start + end }),
      ),
    );
    spans.forEach(({ start, end }, sentenceIndex) => {
      const text = chunk.text.slice(start, end).replace(/\s+/g, ' ');
      const key = text.toLowerCase();
      if (text.split(' ').length < options.minWords || seen.has(key)) return;
      if (looksTabular(text)) return;

      seen.add(key);
      const pages = options.locatePages(chunk, start, end);
      candidates.push({ chunkIndex, sentenceIndex, start, end, text, pages });
    });
  });
  return candidates;
}

// A line shorter than this share of the text's longest line ends its block, because it is a
// heading, a paragraph's last line or a line of code rather than a line that wraps.
const SHORT_LINE_SHARE = 0.6;

/**
 * Splits text into blocks that no sentence crosses. Wrapped lines of one paragraph stay
 * together, and so do the lines around a page break, but a line much shorter than the longest
 * one ends its block. Without this, a heading is read as the first words of the sentence under
 * it.
 */
export function splitBlocks(text: string): SentenceSpan[] {
  const lines: SentenceSpan[] = [];
  const pattern = /[^\n]+/g;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    if (match[0].trim() !== '') lines.push({ start: match.index, end: pattern.lastIndex });
  }
  if (lines.length === 0) return [];

  const longest = Math.max(...lines.map((line) => text.slice(line.start, line.end).trim().length));
  const blocks: SentenceSpan[] = [];
  let blockStart = lines[0]!.start;
  lines.forEach((line, i) => {
    const isLast = i === lines.length - 1;
    const isShort = text.slice(line.start, line.end).trim().length < SHORT_LINE_SHARE * longest;
    if (!isLast && !isShort) return;

    blocks.push({ start: blockStart, end: line.end });
    if (!isLast) blockStart = lines[i + 1]!.start;
  });
  return blocks;
}

// Dot leaders of a table of contents: ". . . . ." or ".....".
const DOT_LEADER = /(?:\.\s){4,}|\.{5,}|…{2,}/;
// Few words of prose contain digits, but many cells of a table of versions and sizes do.
const MAX_NUMERIC_SHARE = 0.3;

/** Reports whether a sentence is a table-of-contents entry or table cells run together. */
export function looksTabular(sentence: string): boolean {
  if (DOT_LEADER.test(sentence)) return true;
  const words = sentence.split(' ');
  const numeric = words.filter((word) => /\d/.test(word)).length;
  return numeric / words.length > MAX_NUMERIC_SHARE;
}
