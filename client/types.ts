/** Events and options of the StreamCluster client; mirrors the server's `streamcluster.v1`. */

export type ClientState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/** A chunk returned by search or retrieval, with its score and page span. */
export interface Hit {
  score: number;
  documentId: string;
  documentName: string;
  chunkId: string;
  pageStart: number;
  pageEnd: number;
  text: string;
}

/** The source of one numbered marker such as `[1]` in an answer's text. */
export interface Citation {
  index: number;
  documentId: string;
  documentName: string;
  pageStart: number;
  pageEnd: number;
  quote: string;
}

/** Ingest stages in the order they run. */
export type IngestStage = 'upload' | 'parse' | 'chunk' | 'embed' | 'index';

export interface IngestResult {
  documentId: string;
  pages: number;
  chunks: number;
  seq: number;
  duplicate: boolean;
}

/** Events of an answer, in the order the server sends them. */
export type AnswerEvent =
  | { type: 'answer.retrieved'; hits: Hit[]; conversationId: string }
  | { type: 'answer.token'; text: string }
  | { type: 'answer.citations'; citations: Citation[] }
  | {
      type: 'answer.done';
      conversationId: string;
      timings: { retrievalMs: number; firstTokenMs: number; totalMs: number };
    };

/** Minimal WebSocket surface the client needs: the browser's and `ws`'s both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  readonly protocol: string;
  binaryType: string;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, listener: (event: never) => void): void;
}

export type WebSocketFactory = (url: string, protocols: string[]) => WebSocketLike;
