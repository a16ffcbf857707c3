import { contentWords, termOf } from '../answer/terms.js';
import type { HistoryTurn } from '../answer/types.js';

/** Options for {@link resolveRetrievalQuery}. */
export interface FollowUpOptions {
  /** A question with at most this many content words counts as a follow-up; default 3. */
  maxShortQuestionWords?: number;
  /** Maximum number of words carried over from the earlier question; default 8. */
  maxCarriedWords?: number;
}

// Words that point back to something named earlier: "how large is it?", "and their limits?".
const REFERRING = /\b(?:it|its|they|them|their|theirs|he|she|him|her|his|hers|this|these|those)\b/i;
const CONTINUING = /^\s*(?:and|also|but|what about|how about|same)\b/i;

/**
 * Turns a question into the text to search with. A follow-up question (short, starting with
 * "and" or "what about", or referring back with a pronoun such as "it") gets the content words
 * of the previous user question appended, that question itself resolved the same way, so a
 * chain of follow-ups keeps the topic. Other questions, and questions without history, are
 * returned unchanged.
 */
export function resolveRetrievalQuery(
  history: readonly HistoryTurn[],
  question: string,
  options: FollowUpOptions = {},
): string {
  const maxShort = options.maxShortQuestionWords ?? 3;
  const maxCarried = options.maxCarriedWords ?? 8;

  const previousIndex = history.findLastIndex((turn) => turn.role === 'user');
  if (previousIndex === -1 || !isFollowUp(question, maxShort)) return question;

  const previous = resolveRetrievalQuery(
    history.slice(0, previousIndex),
    history[previousIndex]!.text,
    options,
  );
  const carried = wordsToCarry(previous, question, maxCarried);
  return carried.length === 0 ? question : `${question} ${carried.join(' ')}`;
}

/** Tells whether a question needs an earlier question to be understood. */
export function isFollowUp(question: string, maxShortQuestionWords = 3): boolean {
  return (
    contentWords(question).length <= maxShortQuestionWords ||
    REFERRING.test(question) ||
    CONTINUING.test(question)
  );
}

function wordsToCarry(previous: string, question: string, max: number): string[] {
  const seen = new Set(contentWords(question).map(termOf));
  const carried: string[] = [];
  for (const word of contentWords(previous)) {
    const term = termOf(word);
    if (seen.has(term)) continue;
    seen.add(term);
    carried.push(word);
    if (carried.length === max) break;
  }
  return carried;
}
