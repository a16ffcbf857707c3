/** A sentence of a text: `text.slice(start, end)`, without surrounding white space. */
export interface SentenceSpan {
  start: number;
  end: number;
}

/** Options for {@link splitSentences}. */
export interface SplitSentencesOptions {
  /** Longer sentences are cut at a word boundary into pieces of at most this many characters. */
  maxChars?: number;
}

const DEFAULT_MAX_CHARS = 600;

// Intl.Segmenter ends a sentence after these words followed by a capital ("Dr. Smith").
const ABBREVIATION =
  /(?:^|\s)(?:dr|mr|mrs|ms|prof|st|no|nos|vs|fig|figs|eq|eqs|sec|vol|pp?|cf)\.$/i;

const segmenter = new Intl.Segmenter('en', { granularity: 'sentence' });

/**
 * Splits text into sentences with the Unicode sentence-break rules (UAX #29). Line breaks count
 * as spaces, so a sentence that runs on across a page break stays whole.
 */
export function splitSentences(text: string, options: SplitSentencesOptions = {}): SentenceSpan[] {
  const maxChars = options.maxChars ?? DEFAULT_MAX_CHARS;
  // Same length as `text`, so segment offsets are offsets into `text`.
  const flat = text.replace(/[\r\n]/g, ' ');
  const spans: SentenceSpan[] = [];
  let pendingStart: number | undefined;

  for (const { index, segment } of segmenter.segment(flat)) {
    const start = pendingStart ?? index;
    const end = index + segment.length;
    if (ABBREVIATION.test(segment.trimEnd())) {
      pendingStart = start;
      continue;
    }
    pendingStart = undefined;
    pushTrimmed(flat, start, end, maxChars, spans);
  }
  if (pendingStart !== undefined) pushTrimmed(flat, pendingStart, flat.length, maxChars, spans);
  return spans;
}

function pushTrimmed(
  text: string,
  start: number,
  end: number,
  maxChars: number,
  spans: SentenceSpan[],
): void {
  while (start < end && /\s/.test(text[start]!)) start++;
  while (end > start && /\s/.test(text[end - 1]!)) end--;
  if (start === end) return;

  while (end - start > maxChars) {
    const cut = text.lastIndexOf(' ', start + maxChars);
    let pieceEnd = cut > start ? cut : start + maxChars;
    while (pieceEnd > start + 1 && /\s/.test(text[pieceEnd - 1]!)) pieceEnd--;
    spans.push({ start, end: pieceEnd });
    start = pieceEnd;
    while (start < end && /\s/.test(text[start]!)) start++;
  }
  spans.push({ start, end });
}
