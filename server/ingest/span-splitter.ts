/** Counts the tokens of each text, in order; called with many texts at once. */
export type TokenCounter = (texts: string[]) => Promise<number[]>;

/** A span of text, `end` exclusive, with its token count. */
export interface Span {
  start: number;
  end: number;
  tokens: number;
}

type Range = Omit<Span, 'tokens'>;

const wordSegmenter = new Intl.Segmenter(undefined, { granularity: 'word' });
const graphemeSegmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * Counts every span and splits any above `maxTokens` in halves at a word boundary near its
 * middle (at a grapheme boundary when it is one word) until every piece fits. All spans of a
 * round are counted in one call, so an overlong sentence costs a few calls, not one per word. A
 * single grapheme that alone exceeds `maxTokens` is kept as it is.
 */
export async function splitOversizedSpans(
  text: string,
  ranges: Range[],
  maxTokens: number,
  count: TokenCounter,
): Promise<Span[]> {
  const done: Span[] = [];
  let pending = ranges;
  while (pending.length > 0) {
    const counts = await count(pending.map((range) => text.slice(range.start, range.end)));
    const over: Range[] = [];
    pending.forEach((range, index) => {
      const tokens = counts[index]!;
      const halves = tokens > maxTokens ? halveRange(text, range) : undefined;
      if (halves === undefined) done.push({ ...range, tokens });
      else over.push(...halves);
    });
    pending = over;
  }
  return done.sort((a, b) => a.start - b.start);
}

/** Splits a range in two near its middle, trimming whitespace; undefined when it cannot split. */
function halveRange(text: string, range: Range): [Range, Range] | undefined {
  const slice = text.slice(range.start, range.end);
  const cut =
    boundaryNearMiddle(slice, wordSegmenter, (index) => /\s/u.test(slice[index - 1]!)) ??
    boundaryNearMiddle(slice, wordSegmenter) ??
    boundaryNearMiddle(slice, graphemeSegmenter);
  if (cut === undefined) return undefined;
  const left = trimRange(text, { start: range.start, end: range.start + cut });
  const right = trimRange(text, { start: range.start + cut, end: range.end });
  return [left, right];
}

/**
 * Returns the segment boundary closest to the middle of `slice`, excluding its two ends, among
 * those `accept` allows. Cutting after whitespace is preferred to cutting at other word
 * boundaries (before punctuation, or between words of scripts written without spaces).
 */
function boundaryNearMiddle(
  slice: string,
  segmenter: Intl.Segmenter,
  accept: (index: number) => boolean = () => true,
): number | undefined {
  const middle = slice.length / 2;
  let best: number | undefined;
  for (const segment of segmenter.segment(slice)) {
    if (segment.index === 0 || !accept(segment.index)) continue;
    if (best === undefined || Math.abs(segment.index - middle) < Math.abs(best - middle)) {
      best = segment.index;
    }
  }
  return best;
}

function trimRange(text: string, range: Range): Range {
  let { start, end } = range;
  while (start < end && /\s/u.test(text[start]!)) start++;
  while (end > start && /\s/u.test(text[end - 1]!)) end--;
  return { start, end };
}
