import type { PageSpan } from './pages.js';
import type { ScoredSentence } from './selection.js';
import type { Citation, RetrievedChunk } from './types.js';

/** Consecutive picked sentences of one chunk and page span, quoted under one citation. */
export interface Passage {
  chunkIndex: number;
  /** The quote is `chunk.text.slice(start, end)`. */
  start: number;
  end: number;
  /** The sentences as shown in the answer, white space made single spaces. */
  text: string;
  pages: PageSpan;
}

/**
 * Joins picked sentences (in reading order) that follow each other in the same chunk and lie on
 * the same pages into one passage, so the answer cites them once.
 */
export function joinAdjacent(sentences: readonly ScoredSentence[]): Passage[] {
  const passages: Passage[] = [];
  let last: { passage: Passage; sentenceIndex: number } | undefined;

  for (const sentence of sentences) {
    if (last && continues(last.passage, last.sentenceIndex, sentence)) {
      last.passage.end = sentence.end;
      last.passage.text += ` ${sentence.text}`;
      last.sentenceIndex = sentence.sentenceIndex;
      continue;
    }
    const { chunkIndex, start, end, text, pages } = sentence;
    last = {
      passage: { chunkIndex, start, end, text, pages },
      sentenceIndex: sentence.sentenceIndex,
    };
    passages.push(last.passage);
  }
  return passages;
}

function continues(passage: Passage, sentenceIndex: number, next: ScoredSentence): boolean {
  return (
    passage.chunkIndex === next.chunkIndex &&
    sentenceIndex + 1 === next.sentenceIndex &&
    passage.pages.pageStart === next.pages.pageStart &&
    passage.pages.pageEnd === next.pages.pageEnd
  );
}

/** Builds the citation numbered `index` for a passage. */
export function citePassage(
  passage: Passage,
  index: number,
  chunks: readonly RetrievedChunk[],
): Citation {
  const chunk = chunks[passage.chunkIndex]!;
  return {
    index,
    chunkId: chunk.chunkId,
    documentId: chunk.documentId,
    documentName: chunk.documentName,
    pageStart: passage.pages.pageStart,
    pageEnd: passage.pages.pageEnd,
    quote: chunk.text.slice(passage.start, passage.end),
  };
}
