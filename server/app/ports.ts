import type { ConversationTurn } from '../conversation/index.js';
import type { DocumentType, Chunk, DocumentInfo, ParsedPage } from '../ingest/types.js';
import type { LogEntry } from '../replication/types.js';

/** Extracts a document's pages; rejects with a named StreamClusterError for bad documents. */
export type ParseDocument = (
  bytes: Buffer,
  options: {
    type: DocumentType;
    password?: string;
    signal: AbortSignal;
    onPage: (done: number, total: number) => void;
  },
) => Promise<ParsedPage[]>;

/** Splits a document's pages into chunks sized for the embedding model. */
export type ChunkDocument = (
  documentId: string,
  pages: ParsedPage[],
  options: { signal: AbortSignal },
) => Promise<Chunk[]>;

/** A chunk found by search, with its document's name. */
export interface IndexHit {
  score: number;
  chunk: Chunk;
  documentName: string;
}

/** The local index as the service uses it: a view of the log, applied in sequence order. */
export interface IndexView {
  readonly lastAppliedSeq: number;
  apply(entry: LogEntry): Promise<void>;
  search(vector: Float32Array, k: number): Promise<IndexHit[]>;
  findDocument(documentId: string): DocumentInfo | undefined;
  listDocuments(): DocumentInfo[];
  counts(): { documents: number; chunks: number };
  /** Returns the retained turns of a conversation, oldest first; empty for an unknown one. */
  conversationHistory(conversationId: string): Promise<ConversationTurn[]>;
  /** Writes a snapshot generation; the log holds everything after it. */
  snapshot(): Promise<void>;
}
