import type { Chunk, DocumentInfo } from '../ingest/types.js';

/** A document with its chunks and their embeddings, ready to be applied to an index. */
export interface DocumentPutRecord {
  type: 'document.put';
  document: DocumentInfo;
  chunks: Chunk[];
  /** Embedding model that produced the vectors; an index refuses vectors of another model. */
  model: string;
  dimension: number;
  /** `chunks.length * dimension` floats, row i belonging to chunks[i]. */
  vectors: Float32Array;
}

/** Removes a document and its chunks from search. */
export interface DocumentDeleteRecord {
  type: 'document.delete';
  documentId: string;
}

/** One question or answer of a conversation, so another server can resume it. */
export interface ConversationTurnRecord {
  type: 'conversation.turn';
  conversationId: string;
  role: 'user' | 'assistant';
  text: string;
  /** Milliseconds since the epoch. */
  at: number;
}

export type LogRecord = DocumentPutRecord | DocumentDeleteRecord | ConversationTurnRecord;

/** A record with the sequence number the log assigned to it (1-based, gap-free per log). */
export interface LogEntry {
  seq: number;
  record: LogRecord;
}

/**
 * The replicated, ordered system of record. Each server's index is a view of it: servers apply
 * entries in sequence order and remember the last one applied.
 */
export interface DocumentLog {
  /** Appends a record and resolves with its sequence number once the log has made it durable. */
  append(record: LogRecord): Promise<number>;
  /**
   * Yields every entry with `seq >= fromSeq` in order, then keeps following new appends until
   * the signal aborts or the log closes.
   */
  read(fromSeq: number, options?: { signal?: AbortSignal }): AsyncIterable<LogEntry>;
  /** Sequence number of the newest entry, 0 when the log is empty. */
  lastSeq(): Promise<number>;
  close(): Promise<void>;
}
