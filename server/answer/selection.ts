import type { CandidateSentence } from './candidates.js';
import { contentTerms, coverage, dice } from './terms.js';
import type { RetrievedChunk } from './types.js';

/** Scoring and selection settings, documented with their defaults in ExtractiveGeneratorOptions. */
export interface SelectionOptions {
  maxSentences: number;
  minSimilarity: number;
  lexicalWeight: number;
  chunkScoreWeight: number;
  maxRedundancy: number;
}

/** A candidate sentence with its embedding and scores. */
export interface ScoredSentence extends CandidateSentence {
  vector: Float32Array;
  terms: Set<string>;
  /** Cosine similarity of the sentence and question embeddings. */
  similarity: number;
  /** `similarity`, plus small shares of lexical overlap and chunk score that break near-ties. */
  relevance: number;
}

/** Scores each candidate against the question; `vectors[i]` embeds `candidates[i]`. */
export function scoreCandidates(
  question: { text: string; vector: Float32Array },
  candidates: readonly CandidateSentence[],
  vectors: readonly Float32Array[],
  chunks: readonly RetrievedChunk[],
  options: SelectionOptions,
): ScoredSentence[] {
  const questionTerms = new Set(contentTerms(question.text));
  return candidates.map((candidate, i) => {
    const vector = vectors[i]!;
    const similarity = cosine(question.vector, vector);
    const terms = new Set(contentTerms(candidate.text));
    const overlap = coverage(questionTerms, terms);
    const chunkScore = chunks[candidate.chunkIndex]!.score;
    const relevance =
      similarity + options.lexicalWeight * overlap + options.chunkScoreWeight * chunkScore;
    return { ...candidate, vector, terms, similarity, relevance };
  });
}

// Sentences sharing this share of their content words say the same thing, whatever the model.
const MAX_TERM_OVERLAP = 0.8;

/**
 * Picks up to `maxSentences` sentences by relevance, skipping those below `minSimilarity` and
 * near-duplicates of a sentence already picked: within `maxRedundancy` cosine, or sharing 80%
 * of their content words (Dice). Returns them in reading order: chunks by their best sentence,
 * sentences in text order within a chunk.
 */
export function selectSentences(
  scored: readonly ScoredSentence[],
  options: SelectionOptions,
): ScoredSentence[] {
  const picked: ScoredSentence[] = [];
  const byRelevance = [...scored].sort((a, b) => b.relevance - a.relevance);

  for (const sentence of byRelevance) {
    if (picked.length === options.maxSentences) break;
    if (sentence.similarity < options.minSimilarity) continue;
    if (picked.some((other) => isNearDuplicate(other, sentence, options.maxRedundancy))) continue;
    picked.push(sentence);
  }
  return orderForReading(picked);
}

function isNearDuplicate(a: ScoredSentence, b: ScoredSentence, maxRedundancy: number): boolean {
  return cosine(a.vector, b.vector) > maxRedundancy || dice(a.terms, b.terms) >= MAX_TERM_OVERLAP;
}

function orderForReading(picked: ScoredSentence[]): ScoredSentence[] {
  const chunkRank = new Map<number, number>();
  for (const sentence of picked) {
    if (!chunkRank.has(sentence.chunkIndex)) chunkRank.set(sentence.chunkIndex, chunkRank.size);
  }
  return [...picked].sort(
    (a, b) =>
      chunkRank.get(a.chunkIndex)! - chunkRank.get(b.chunkIndex)! ||
      a.sentenceIndex - b.sentenceIndex,
  );
}

/** Returns the cosine similarity of two vectors of equal length; 0 when either is all zeros. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    normA += a[i]! * a[i]!;
    normB += b[i]! * b[i]!;
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}
