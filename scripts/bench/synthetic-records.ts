// Synthetic document.put records for the replication benchmarks. Embedding 100k real chunks
// takes hours on a small machine, so the records are made up. The vectors come from
// clusteredVectors: unit vectors with topical clusters, 384 dimensions like all-MiniLM-L6-v2.
// The chunk texts are sentences assembled from word lists, 600 to 1000 characters each, about
// what a 256-token chunk of prose contains.
import { createHash } from 'node:crypto';

import { seededRandom } from '../../server/index/testing/fixtures.js';
import type { Chunk } from '../../server/ingest/types.js';
import type { DocumentPutRecord } from '../../server/replication/types.js';
import { clusteredVectors } from './clustered-vectors.js';

const SUBJECTS = [
  'the ferry',
  'the harbour office',
  'each visitor',
  'the island council',
  'a tenant',
];
const VERBS = ['publishes', 'reviews', 'collects', 'schedules', 'records', 'renews'];
const OBJECTS = ['the timetable', 'a permit', 'the annual report', 'every invoice', 'the tariff'];
const TAILS = ['before the season opens', 'within thirty days', 'at the pier', 'on request'];

/** Options of {@link syntheticRecords}. */
export interface SyntheticRecordOptions {
  /** Number of the first record; the same numbers give the same texts. */
  first: number;
  count: number;
  chunkCount: number;
  dimension: number;
  /** Embedding model named in the records; a store rejects records of another model. */
  model: string;
}

/** Builds `count` document.put records of `chunkCount` chunks with synthetic text and vectors. */
export function syntheticRecords(options: SyntheticRecordOptions): DocumentPutRecord[] {
  const { first, count, chunkCount, dimension, model } = options;
  // One call for the whole batch: clusteredVectors rebuilds its centres on every call.
  const vectors = clusteredVectors(count * chunkCount, dimension, first + 1);
  return Array.from({ length: count }, (_, i) => {
    const size = chunkCount * dimension;
    const record = syntheticRecord(first + i, chunkCount, model);
    return { ...record, dimension, vectors: vectors.slice(i * size, (i + 1) * size) };
  });
}

function syntheticRecord(
  index: number,
  chunkCount: number,
  model: string,
): Omit<DocumentPutRecord, 'dimension' | 'vectors'> {
  const random = seededRandom(index + 1);
  const id = createHash('sha256').update(`synthetic-${index}`).digest('hex');
  let offset = 0;
  const chunks: Chunk[] = Array.from({ length: chunkCount }, (_, ordinal) => {
    const text = prose(random, 600 + Math.floor(random() * 400));
    const page = 1 + Math.floor(ordinal / 3);
    const chunk = {
      id: `${id}:${ordinal}`,
      documentId: id,
      ordinal,
      text,
      pageStart: page,
      pageEnd: page,
      charStart: offset,
      charEnd: offset + text.length,
    };
    offset += text.length;
    return chunk;
  });
  return {
    type: 'document.put',
    document: {
      id,
      name: `synthetic-${index}.pdf`,
      type: 'pdf',
      sizeBytes: offset,
      pageCount: Math.ceil(chunkCount / 3),
      chunkCount,
      ingestedAt: Date.now(),
    },
    chunks,
    model,
  };
}

function prose(random: () => number, chars: number): string {
  const pick = (words: string[]) => words[Math.floor(random() * words.length)]!;
  let text = '';
  while (text.length < chars) {
    const sentence = `${pick(SUBJECTS)} ${pick(VERBS)} ${pick(OBJECTS)} ${pick(TAILS)}. `;
    text += sentence.charAt(0).toUpperCase() + sentence.slice(1);
  }
  return text.slice(0, chars).trimEnd();
}
