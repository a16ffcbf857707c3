/** A chunk returned by search, with what a citation needs to name its source. */
export interface RetrievedChunk {
  chunkId: string;
  documentId: string;
  documentName: string;
  /**
   * The chunk's text: the slice [charStart, charEnd) of the document's text, whose pages are
   * joined with PAGE_SEPARATOR. Page-accurate citations inside a chunk rely on this.
   */
  text: string;
  /** First and last 1-based page of the chunk; they differ when the chunk straddles pages. */
  pageStart: number;
  pageEnd: number;
  /** Offsets in UTF-16 code units into the document's text; `charEnd` is exclusive. */
  charStart: number;
  charEnd: number;
  /** Search score, the inner product of the query and chunk embeddings (higher is closer). */
  score: number;
}

/** The source of one numbered marker such as `[1]` in an answer. */
export interface Citation {
  /** 1-based number, as written in the answer text: `[1]`. */
  index: number;
  chunkId: string;
  documentId: string;
  documentName: string;
  /** First and last 1-based page of the quoted span, which may be narrower than its chunk's. */
  pageStart: number;
  pageEnd: number;
  /** The quoted span, copied exactly from the chunk's text. */
  quote: string;
}

/** One question or answer of a conversation. */
export interface HistoryTurn {
  role: 'user' | 'assistant';
  text: string;
}

/** Input of {@link AnswerGenerator.generate}. */
export interface AnswerRequest {
  question: string;
  /** Earlier turns of the conversation, oldest first, already bounded by the caller. */
  history: readonly HistoryTurn[];
  /** Retrieved chunks, best first. Their 1-based position is the number a citation uses. */
  chunks: readonly RetrievedChunk[];
  /** Stops generation; `generate` then throws the signal's reason. */
  signal?: AbortSignal;
}

/**
 * What a generator streams: any number of `token` events, whose texts concatenated are the
 * answer, then exactly one `citations` event, then the iteration ends.
 */
export type AnswerEvent =
  { type: 'token'; text: string } | { type: 'citations'; citations: Citation[] };

/** Writes an answer to a question from retrieved chunks, streaming it as it is produced. */
export interface AnswerGenerator {
  /** Generator kind for logs and metrics labels: `extractive` or `openai`. */
  readonly name: string;
  /**
   * Streams the answer. Throws the signal's reason when `request.signal` aborts, and a
   * StreamClusterError with a stable code when generation fails. Leaving the iteration early
   * (`break`) releases everything the generator holds, such as an HTTP connection.
   */
  generate(request: AnswerRequest): AsyncIterable<AnswerEvent>;
}

/**
 * Embeds texts into vectors whose inner product measures similarity; the `embed` method of an
 * Embedder fits. Vectors need not be unit length, since callers compute cosine similarity.
 */
export type EmbedTexts = (
  texts: string[],
  options?: { signal?: AbortSignal },
) => Promise<Float32Array[]>;

/** Answer text streamed when no retrieved passage is relevant to the question. */
export const NO_ANSWER_TEXT = 'No relevant passage was found in the indexed documents.';
