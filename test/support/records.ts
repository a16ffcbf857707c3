import { createHash } from 'node:crypto';

import type { Chunk } from '../../server/ingest/types.js';
import type { DocumentPutRecord } from '../../server/replication/types.js';

/** Options for {@link makeDocumentRecord}. */
export interface DocumentRecordOptions {
  /** Seed of the document's name, id and vector values. */
  name: string;
  /** Default 20. */
  chunkCount?: number;
  /** Default 384, the size of all-MiniLM-L6-v2 embeddings. */
  dimension?: number;
  /** Characters of text per chunk; default 1000, about what a 256-token chunk holds. */
  chunkChars?: number;
}

/**
 * Builds a document.put record shaped like a real ingest: chunk texts, page spans and
 * unit-length vectors. Values derive from `name`, so tests can recompute and compare them.
 */
export function makeDocumentRecord(options: DocumentRecordOptions): DocumentPutRecord {
  const { name, chunkCount = 20, dimension = 384, chunkChars = 1000 } = options;
  const id = createHash('sha256').update(name).digest('hex');
  const chunks: Chunk[] = [];
  for (let ordinal = 0; ordinal < chunkCount; ordinal++) {
    const text = `${name} chunk ${ordinal} `.padEnd(chunkChars, 'lorem ipsum dolor sit amet ');
    const charStart = ordinal * chunkChars;
    const page = 1 + Math.floor(ordinal / 3);
    chunks.push({
      id: `${id}:${ordinal}`,
      documentId: id,
      ordinal,
      text,
      pageStart: page,
      pageEnd: page,
      charStart,
      charEnd: charStart + chunkChars,
    });
  }
  return {
    type: 'document.put',
    document: {
      id,
      name: `${name}.pdf`,
      type: 'pdf',
      sizeBytes: chunkCount * chunkChars,
      pageCount: Math.ceil(chunkCount / 3),
      chunkCount,
      ingestedAt: 1_700_000_000_000,
    },
    chunks,
    model: 'Xenova/all-MiniLM-L6-v2',
    dimension,
    vectors: unitVectors(id, chunkCount, dimension),
  };
}

function unitVectors(seed: string, count: number, dimension: number): Float32Array {
  const vectors = new Float32Array(count * dimension);
  let state = parseInt(seed.slice(0, 8), 16) || 1;
  for (let row = 0; row < count; row++) {
    let norm = 0;
    for (let i = 0; i < dimension; i++) {
      state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
      const value = state / 0xffffffff - 0.5;
      vectors[row * dimension + i] = value;
      norm += value * value;
    }
    for (let i = 0; i < dimension; i++) vectors[row * dimension + i]! /= Math.sqrt(norm);
  }
  return vectors;
}
