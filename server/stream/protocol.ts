/**
 * The `streamcluster.v1` WebSocket protocol: JSON text frames for control messages and events,
 * binary frames for upload data. docs/protocol.md is the reference for clients.
 */

export const SUBPROTOCOL = 'streamcluster.v1';

/** Close codes the server sends, beyond the RFC 6455 ones that `ws` sends itself. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  policyViolation: 1008,
  messageTooBig: 1009,
  internalError: 1011,
  /** Service restart: the client should reconnect, possibly to another server, and resume. */
  serviceRestart: 1012,
  /** Try again later: the server is overloaded or draining. */
  tryAgainLater: 1013,
  /** Application code: the client read too slowly and its send buffer passed the hard limit. */
  slowConsumer: 4008,
} as const;

/** Stable error codes carried by `error` events. */
export type ErrorCode =
  | 'INVALID_JSON'
  | 'INVALID_MESSAGE'
  | 'UNKNOWN_TYPE'
  | 'DUPLICATE_OP'
  | 'UNKNOWN_OP'
  | 'UNEXPECTED_BINARY'
  | 'UPLOAD_TOO_LARGE'
  | 'CHECKSUM_MISMATCH'
  | 'RATE_LIMITED'
  | 'TOO_MANY_INGESTS'
  | 'DRAINING'
  | 'CANCELLED'
  | 'SEQ_NOT_APPLIED'
  | 'LOG_UNAVAILABLE'
  | 'INTERNAL'
  | (string & {});

export type DocumentMediaType = 'application/pdf' | 'text/plain' | 'text/markdown';

export interface IngestStartMessage {
  type: 'ingest';
  op: string;
  name: string;
  mediaType: DocumentMediaType;
  /** Exact byte count the client will send in binary frames. */
  size: number;
  /** Lowercase hex SHA-256 of the bytes; also the document id. */
  sha256: string;
  /** Password of an encrypted PDF. Never logged. */
  password?: string;
}

export interface SearchMessage {
  type: 'search';
  op: string;
  query: string;
  k?: number;
  /** Log sequence the answer must reflect (read your writes). */
  minSeq?: number;
}

export interface AskMessage {
  type: 'ask';
  op: string;
  question: string;
  conversationId?: string;
  k?: number;
  minSeq?: number;
  /** Resume: skip the events of this operation with offset at or below this value. */
  resumeAfter?: number;
}

export interface CancelMessage {
  type: 'cancel';
  op: string;
}

export interface DeleteMessage {
  type: 'delete';
  op: string;
  documentId: string;
}

export interface ListMessage {
  type: 'list';
  op: string;
}

export type ClientMessage =
  IngestStartMessage | SearchMessage | AskMessage | CancelMessage | DeleteMessage | ListMessage;

// The wire shapes of hits, citations and stages are defined once, in the client library, which
// must build for browsers without server code.
import type { Citation, Hit, IngestStage } from '../../client/types.js';

export type { Hit, IngestStage };
export type CitationPayload = Citation;

/**
 * Events the server sends. Every event of an operation carries `op` and `offset`, numbered from 1
 * within the operation, so a resumed operation can skip what the client already saw.
 */
export type ServerEvent =
  | { type: 'welcome'; protocol: string; serverId: string; limits: Record<string, number> }
  | { type: 'ingest.accepted'; documentId: string; duplicate: boolean }
  | { type: 'ingest.progress'; stage: IngestStage; done: number; total: number }
  | {
      type: 'ingest.done';
      documentId: string;
      pages: number;
      chunks: number;
      seq: number;
      duplicate: boolean;
    }
  | { type: 'search.result'; hits: Hit[]; seq: number }
  | { type: 'answer.retrieved'; hits: Hit[]; conversationId: string }
  | { type: 'answer.token'; text: string }
  | { type: 'answer.citations'; citations: CitationPayload[] }
  | {
      type: 'answer.done';
      conversationId: string;
      timings: { retrievalMs: number; firstTokenMs: number; totalMs: number };
    }
  | { type: 'delete.done'; documentId: string; seq: number; found: boolean }
  | { type: 'list.result'; documents: unknown[] }
  | { type: 'cancelled' }
  | { type: 'error'; code: ErrorCode; message: string; field?: string; retryable?: boolean };

export type ServerEventType = ServerEvent['type'];
