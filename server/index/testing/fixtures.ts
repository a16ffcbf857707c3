import { createHash } from 'node:crypto';
import type { Chunk, DocumentInfo } from '../../ingest/types.js';
import type {
  ConversationTurnRecord,
  DocumentPutRecord,
  LogEntry,
} from '../../replication/types.js';

/** Returns a seeded pseudo-random generator (mulberry32) of floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Returns `count` unit vectors of `dimension` floats, row after row. */
export function unitVectors(count: number, dimension: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const vectors = new Float32Array(count * dimension);
  for (let row = 0; row < count; row++) {
    const vector = vectors.subarray(row * dimension, (row + 1) * dimension);
    for (let i = 0; i < dimension; i++) vector[i] = random() * 2 - 1;
    normalise(vector);
  }
  return vectors;
}

/** Scales a vector to unit length in place. */
export function normalise(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const norm = Math.sqrt(sum);
  for (let i = 0; i < vector.length; i++) vector[i]! /= norm;
  return vector;
}

/** Returns row `row` of a matrix of `dimension`-float rows. */
export function row(vectors: Float32Array, row: number, dimension: number): Float32Array {
  return vectors.slice(row * dimension, (row + 1) * dimension);
}

/** Builds a document.put record with `chunkCount` chunks of one page each and seeded vectors. */
export function putRecord(
  name: string,
  chunkCount: number,
  dimension: number,
  seed: number,
  model = 'test-model',
): DocumentPutRecord {
  const id = createHash('sha256').update(name).digest('hex');
  const chunks: Chunk[] = Array.from({ length: chunkCount }, (_, ordinal) => ({
    id: `${id}:${ordinal}`,
    documentId: id,
    ordinal,
    text: `${name} chunk ${ordinal}`,
    pageStart: ordinal + 1,
    pageEnd: ordinal + 1,
    charStart: ordinal * 100,
    charEnd: ordinal * 100 + 90,
  }));
  const document: DocumentInfo = {
    id,
    name: `${name}.pdf`,
    type: 'pdf',
    sizeBytes: 1000,
    pageCount: chunkCount,
    chunkCount,
    ingestedAt: 0,
  };
  return {
    type: 'document.put',
    document,
    chunks,
    model,
    dimension,
    vectors: unitVectors(chunkCount, dimension, seed),
  };
}

/** Builds a conversation.turn record. */
export function turnRecord(
  conversationId: string,
  text: string,
  role: 'user' | 'assistant' = 'user',
  at = 0,
): ConversationTurnRecord {
  return { type: 'conversation.turn', conversationId, role, text, at };
}

/** Wraps a record in a log entry. */
export function entry(seq: number, record: LogEntry['record']): LogEntry {
  return { seq, record };
}
