import { ValidationError } from '../core/errors.js';
import type { Chunk, ParsedPage } from './types.js';
import { joinPages, pageNumberAt } from './page-offsets.js';
import { splitOversizedSpans, type Span, type TokenCounter } from './span-splitter.js';

export type { TokenCounter } from './span-splitter.js';

/** Options of {@link chunkDocument}; defaults in {@link CHUNK_DEFAULTS}. */
export interface ChunkOptions {
  /** Counts tokens of each text (without special tokens), as the embedding model will. */
  countTokens: TokenCounter;
  /** Largest chunk in tokens as `countTokens` counts them. */
  maxTokens?: number;
  /** Tokens of whole sentences repeated from the end of one chunk at the start of the next. */
  overlapTokens?: number;
  /** Texts per `countTokens` call. */
  countBatchSize?: number;
  /** BCP 47 locale of the sentence rules. */
  locale?: string;
}

/** Defaults of {@link ChunkOptions}: 256-token chunks, 32 tokens of overlap, 256 texts a call. */
export const CHUNK_DEFAULTS = {
  maxTokens: 256,
  overlapTokens: 32,
  countBatchSize: 256,
  locale: 'en',
} as const;

/** A run of consecutive units (sentences or pieces of one) that forms a chunk. */
interface UnitRange {
  first: number;
  last: number;
}

/**
 * Splits a document into chunks of whole sentences, each at most `maxTokens` tokens, where
 * consecutive chunks share up to `overlapTokens` tokens of sentences. A sentence longer than
 * `maxTokens` is split at word boundaries (at grapheme boundaries inside one overlong word),
 * never dropped. Offsets address the pages joined with PAGE_SEPARATOR, and `text` is exactly that
 * slice, so a chunk straddling a page boundary names both pages. Tokens are counted in batches:
 * one call per `countBatchSize` sentences, plus a few for verification and splitting.
 */
export async function chunkDocument(
  documentId: string,
  pages: ParsedPage[],
  options: ChunkOptions,
): Promise<Chunk[]> {
  const settings = validateChunkOptions(options);
  const joined = joinPages(pages);
  const count = batchedCounter(settings.countTokens, settings.countBatchSize);

  const sentences = sentenceSpans(joined.text, settings.locale);
  const units = await splitOversizedSpans(joined.text, sentences, settings.maxTokens, count);
  const packed = packUnits(units, settings.maxTokens, settings.overlapTokens);
  const ranges = await enforceBound(joined.text, units, packed, settings.maxTokens, count);

  return ranges.map((range, ordinal) => {
    const charStart = units[range.first]!.start;
    const charEnd = units[range.last]!.end;
    return {
      id: `${documentId}:${ordinal}`,
      documentId,
      ordinal,
      text: joined.text.slice(charStart, charEnd),
      pageStart: pageNumberAt(joined, charStart),
      pageEnd: pageNumberAt(joined, charEnd - 1),
      charStart,
      charEnd,
    };
  });
}

type ChunkSettings = Required<ChunkOptions>;

function validateChunkOptions(options: ChunkOptions): ChunkSettings {
  const settings = { ...CHUNK_DEFAULTS, ...withoutUndefined(options) } as ChunkSettings;
  const problems: string[] = [];
  const { maxTokens, overlapTokens, countBatchSize } = settings;
  if (!Number.isInteger(maxTokens) || maxTokens < 1) {
    problems.push(`maxTokens must be a positive integer, got ${maxTokens}`);
  }
  if (!Number.isInteger(overlapTokens) || overlapTokens < 0 || overlapTokens >= maxTokens) {
    problems.push(`overlapTokens must be an integer from 0 to maxTokens - 1, got ${overlapTokens}`);
  }
  if (!Number.isInteger(countBatchSize) || countBatchSize < 1) {
    problems.push(`countBatchSize must be a positive integer, got ${countBatchSize}`);
  }
  if (typeof settings.countTokens !== 'function') {
    problems.push('countTokens must be a function counting tokens of each text');
  }
  if (problems.length > 0) throw new ValidationError(problems);
  return settings;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, entry]) => entry !== undefined),
  ) as Partial<T>;
}

/** Wraps a counter so any number of texts costs one call per `batchSize` of them. */
function batchedCounter(countTokens: TokenCounter, batchSize: number): TokenCounter {
  return async (texts) => {
    const counts: number[] = [];
    for (let index = 0; index < texts.length; index += batchSize) {
      const batch = texts.slice(index, index + batchSize);
      const result = await countTokens(batch);
      if (result.length !== batch.length) {
        throw new ValidationError([
          `countTokens must return one count per text, got ${result.length} for ${batch.length}`,
        ]);
      }
      counts.push(...result);
    }
    return counts;
  };
}

/**
 * Finds sentence spans, trimmed of surrounding whitespace. A single line break is read as a space,
 * because extracted and hard-wrapped text breaks lines inside sentences; ICU's sentence rules
 * would otherwise end a sentence at every line. A blank line, which also separates pages, still
 * ends one. The replacement keeps every offset unchanged.
 */
function sentenceSpans(text: string, locale: string): Omit<Span, 'tokens'>[] {
  const view = text.replace(/(?<!\n)\n(?!\n)/gu, ' ');
  const segmenter = new Intl.Segmenter(locale, { granularity: 'sentence' });
  const spans: Omit<Span, 'tokens'>[] = [];
  for (const { segment, index } of segmenter.segment(view)) {
    const leading = segment.length - segment.trimStart().length;
    const trimmed = segment.trim();
    if (trimmed === '') continue;
    spans.push({ start: index + leading, end: index + leading + trimmed.length });
  }
  return spans;
}

/**
 * Packs units greedily into ranges whose summed tokens stay within `maxTokens`. Each range after
 * the first starts with the trailing units of the one before that fit in `overlapTokens`, as far
 * as the bound leaves room for at least one new unit.
 */
function packUnits(units: Span[], maxTokens: number, overlapTokens: number): UnitRange[] {
  const ranges: UnitRange[] = [];
  let next = 0;
  while (next < units.length) {
    const previous = ranges.at(-1);
    let first = previous === undefined ? next : overlapStart(units, previous, overlapTokens);
    while (first < next && sumTokens(units, first, next) > maxTokens) first++;

    let last = next;
    let tokens = sumTokens(units, first, next);
    while (last + 1 < units.length && tokens + units[last + 1]!.tokens <= maxTokens) {
      last++;
      tokens += units[last]!.tokens;
    }
    ranges.push({ first, last });
    next = last + 1;
  }
  return ranges;
}

/** First unit of the longest tail of `range`, short of all of it, within `overlapTokens`. */
function overlapStart(units: Span[], range: UnitRange, overlapTokens: number): number {
  let start = range.last + 1;
  let tokens = 0;
  while (start - 1 > range.first && tokens + units[start - 1]!.tokens <= overlapTokens) {
    start--;
    tokens += units[start]!.tokens;
  }
  return start;
}

function sumTokens(units: Span[], first: number, last: number): number {
  let sum = 0;
  for (let index = first; index <= last; index++) sum += units[index]!.tokens;
  return sum;
}

/**
 * Counts every packed chunk as a whole and halves any that exceeds `maxTokens`. Summed sentence
 * counts match a word-level tokenizer exactly, but a tokenizer may merge across a boundary.
 */
async function enforceBound(
  text: string,
  units: Span[],
  ranges: UnitRange[],
  maxTokens: number,
  count: TokenCounter,
): Promise<UnitRange[]> {
  let pending = ranges;
  const accepted = new Map<UnitRange, true>();
  while (pending.length > 0) {
    const texts = pending.map((range) =>
      text.slice(units[range.first]!.start, units[range.last]!.end),
    );
    const counts = await count(texts);
    const over: UnitRange[] = [];
    pending.forEach((range, index) => {
      if (counts[index]! <= maxTokens || range.first === range.last) accepted.set(range, true);
      else over.push(range);
    });
    pending = over.flatMap(halve);
  }
  return [...accepted.keys()].sort((a, b) => a.first - b.first || a.last - b.last);
}

function halve(range: UnitRange): UnitRange[] {
  const middle = (range.first + range.last) >> 1;
  return [
    { first: range.first, last: middle },
    { first: middle + 1, last: range.last },
  ];
}
