// English function words, which say nothing about what a question is about.
const STOP_WORDS = new Set(
  (
    'a about above after again all also am an and any are as at be been before being below ' +
    'between both but by can could did do does doing down during each few for from further ' +
    'had has have having he her here hers herself him himself his how i if in into is it its ' +
    'itself just me more most my myself no nor not now of off on once only or other our ours ' +
    'out over own same she should so some such than that the their theirs them themselves then ' +
    'there these they this those through to too under until up very was we were what when ' +
    'where which while who whom why will with would you your yours tell explain describe please'
  ).split(' '),
);

/** Returns the content words of a text: lower-cased runs of letters and digits, no stop words. */
export function contentWords(text: string): string[] {
  const words: string[] = [];
  for (const [word] of text.toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)) {
    if (!STOP_WORDS.has(word)) words.push(word);
  }
  return words;
}

/** Returns the content words of a text as terms for matching, see {@link termOf}. */
export function contentTerms(text: string): string[] {
  return contentWords(text).map(termOf);
}

/** Returns the matching form of a content word: a plural `s` removed, so "pages" is "page". */
export function termOf(word: string): string {
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

/** Returns the share of `query` terms that occur in `terms`, from 0 to 1. */
export function coverage(query: ReadonlySet<string>, terms: ReadonlySet<string>): number {
  if (query.size === 0) return 0;
  let shared = 0;
  for (const term of query) if (terms.has(term)) shared++;
  return shared / query.size;
}

/** Returns the Dice coefficient of two term sets, from 0 (disjoint) to 1 (equal). */
export function dice(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size + b.size === 0) return 0;
  let shared = 0;
  for (const term of a) if (b.has(term)) shared++;
  return (2 * shared) / (a.size + b.size);
}
