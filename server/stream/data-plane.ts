import type { DocumentInfo, DocumentType } from '../ingest/types.js';
import type { CitationPayload, Hit, IngestStage } from './protocol.js';

/** A complete upload, checked against its declared size and SHA-256. */
export interface IngestRequest {
  name: string;
  type: DocumentType;
  bytes: Buffer;
  sha256: string;
  password?: string;
}

export interface IngestOutcome {
  documentId: string;
  pages: number;
  chunks: number;
  /** Log sequence of the record that made the document durable. */
  seq: number;
  /** True when a document with the same SHA-256 was already indexed. */
  duplicate: boolean;
}

export interface AskRequest {
  question: string;
  conversationId: string;
  k: number;
  minSeq?: number;
  signal: AbortSignal;
}

/** What an answer streams, in order: retrieved hits, tokens, citations, then timings. */
export type AnswerStreamEvent =
  | { type: 'answer.retrieved'; hits: Hit[] }
  | { type: 'answer.token'; text: string }
  | { type: 'answer.citations'; citations: CitationPayload[] }
  | {
      type: 'answer.done';
      timings: { retrievalMs: number; firstTokenMs: number; totalMs: number };
    };

/** Counts a server reports in `/stats` and on its readiness. */
export interface DataPlaneStats {
  documents: number;
  chunks: number;
  lastAppliedSeq: number;
  /** Position against the replicated log, for a data plane that follows one. */
  replication?: {
    logHeadSeq: number;
    lagRecords: number;
    log: 'available' | 'unavailable';
  };
}

/**
 * The document side of a stream server: ingestion, search and answers over the local index.
 * The WebSocket layer turns protocol messages into these calls and their results into events.
 */
export interface DataPlane {
  /** The indexed document with this id (SHA-256), if any. */
  findDocument(documentId: string): DocumentInfo | undefined;
  ingest(
    request: IngestRequest,
    options: {
      signal: AbortSignal;
      onProgress: (stage: IngestStage, done: number, total: number) => void;
    },
  ): Promise<IngestOutcome>;
  search(
    query: string,
    options: { k: number; minSeq?: number; signal: AbortSignal },
  ): Promise<{ hits: Hit[]; seq: number }>;
  ask(request: AskRequest): AsyncIterable<AnswerStreamEvent>;
  deleteDocument(documentId: string): Promise<{ seq: number; found: boolean }>;
  listDocuments(): DocumentInfo[];
  stats(): DataPlaneStats;
  /**
   * Whether the server may receive traffic: index loaded and caught up. `reason` explains a
   * refusal, or a degraded state of a ready server (the log unavailable, for example).
   */
  readiness(): { ready: boolean; reason?: string };
}
