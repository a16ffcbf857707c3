import { performance } from 'node:perf_hooks';

import type { Logger } from '../core/logger.js';
import type { Embedder } from '../embed/types.js';
import type { DocumentInfo } from '../ingest/types.js';
import type { DocumentLog, LogEntry, LogRecord } from '../replication/types.js';
import type { AnswerGenerator, HistoryTurn, RetrievedChunk } from '../answer/types.js';
import type {
  AnswerStreamEvent,
  AskRequest,
  DataPlane,
  DataPlaneStats,
  IngestOutcome,
  IngestRequest,
} from '../stream/data-plane.js';
import type { StreamMetrics } from '../stream/metrics.js';
import type { Hit, IngestStage } from '../stream/protocol.js';
import type { ChunkDocument, IndexHit, IndexView, ParseDocument } from './ports.js';
import { AppliedSequence } from '../replication/applied-sequence.js';
import { LogUnavailableError } from '../replication/errors.js';
import { ReplicationTracker } from './replication-tracker.js';

/** Options of {@link DocumentService}. */
export interface DocumentServiceOptions {
  embedder: Embedder;
  parse: ParseDocument;
  chunk: ChunkDocument;
  log: DocumentLog;
  index: IndexView;
  generator: AnswerGenerator;
  /** Turns a follow-up question and its history into the text used for retrieval. */
  retrievalQuery: (history: HistoryTurn[], question: string) => string;
  logger: Logger;
  metrics: StreamMetrics;
  /** Texts per embedding call; batches run concurrently across the embedder's workers. Default 32. */
  embedBatchSize?: number;
  /** Batches in flight at once. Default 2. */
  embedConcurrency?: number;
  /** Maximum wait for a request's `minSeq` to be applied. Default 5000 ms. */
  consistencyTimeoutMs?: number;
  /** Largest lag behind the log head, in records, at which the server reports ready. Default 100. */
  readyLagRecords?: number;
  /** How often the log head is read to measure the lag, in milliseconds. Default 1000. */
  headPollIntervalMs?: number;
}

/**
 * The data plane of one stream server. Ingest parses, chunks and embeds here, then appends the
 * result to the log; every server, this one included, applies log entries to its own index.
 * So a document is searchable here once its log entry is applied, and on every server soon after.
 */
export class DocumentService implements DataPlane {
  private readonly waiter: AppliedSequence;
  private readonly log: Logger;
  private readonly applying = new AbortController();
  private applyLoop?: Promise<void>;
  private headLoop?: Promise<void>;
  private readonly replication: ReplicationTracker;

  constructor(private readonly options: DocumentServiceOptions) {
    this.log = options.logger;
    this.waiter = new AppliedSequence(options.index.lastAppliedSeq);
    this.replication = new ReplicationTracker({
      log: options.log,
      appliedSeq: () => this.waiter.value,
      logger: options.logger,
      headPollIntervalMs: options.headPollIntervalMs,
      readyLagRecords: options.readyLagRecords,
    });
  }

  /**
   * Starts applying the log from the index's last applied entry and following new ones, and
   * polling the log head for the lag.
   */
  start(): void {
    this.applyLoop = this.followLog().catch((error: unknown) => {
      if (this.applying.signal.aborted) return;
      this.replication.applyStopped(error);
      this.log.error({ err: error }, 'applying the log stopped');
    });
    this.headLoop = this.replication.run(this.applying.signal);
  }

  async stop(): Promise<void> {
    this.applying.abort();
    await Promise.all([this.applyLoop, this.headLoop]);
  }

  findDocument(documentId: string): DocumentInfo | undefined {
    return this.options.index.findDocument(documentId);
  }

  listDocuments(): DocumentInfo[] {
    return this.options.index.listDocuments();
  }

  stats(): DataPlaneStats {
    return {
      ...this.options.index.counts(),
      lastAppliedSeq: this.waiter.value,
      replication: this.replication.status(),
    };
  }

  readiness(): { ready: boolean; reason?: string } {
    return this.replication.readiness();
  }

  async ingest(
    request: IngestRequest,
    options: {
      signal: AbortSignal;
      onProgress: (stage: IngestStage, done: number, total: number) => void;
    },
  ): Promise<IngestOutcome> {
    const { signal, onProgress } = options;
    const existing = this.findDocument(request.sha256);
    if (existing) return this.duplicateOutcome(existing);
    const unavailable = this.replication.unavailableForWrites();
    if (unavailable) {
      this.options.metrics.ingests.inc({ outcome: 'failed' });
      throw unavailable;
    }
    const log = this.log.child({ documentId: request.sha256, type: request.type });

    const pages = await this.timed('parse', () =>
      this.options.parse(request.bytes, {
        type: request.type,
        password: request.password,
        signal,
        onPage: (done, total) => onProgress('parse', done, total),
      }),
    );
    const chunks = await this.timed('chunk', () =>
      this.options.chunk(request.sha256, pages, { signal }),
    );
    onProgress('chunk', chunks.length, chunks.length);
    const vectors = await this.timed('embed', () =>
      this.embedAll(
        chunks.map((chunk) => chunk.text),
        signal,
        (done) => onProgress('embed', done, chunks.length),
      ),
    );
    signal.throwIfAborted();

    const document: DocumentInfo = {
      id: request.sha256,
      name: request.name,
      type: request.type,
      sizeBytes: request.bytes.length,
      pageCount: pages.length,
      chunkCount: chunks.length,
      ingestedAt: Date.now(),
    };
    // From here on the ingest is not cancelled: once the log accepts the record the document
    // exists on every server, and the client learns its sequence number either way.
    const seq = await this.timed('index', async () => {
      const appended = await this.append({
        type: 'document.put',
        document,
        chunks,
        model: this.options.embedder.modelName,
        dimension: this.options.embedder.dimension,
        vectors,
      });
      await this.waiter.waitFor(appended, { timeoutMs: this.ownWriteTimeoutMs() });
      return appended;
    });
    onProgress('index', chunks.length, chunks.length);
    this.options.metrics.ingests.inc({ outcome: 'indexed' });
    log.info({ pages: pages.length, chunks: chunks.length, seq }, 'document ingested');
    return {
      documentId: document.id,
      pages: pages.length,
      chunks: chunks.length,
      seq,
      duplicate: false,
    };
  }

  async search(
    query: string,
    options: { k: number; minSeq?: number; signal: AbortSignal },
  ): Promise<{ hits: Hit[]; seq: number }> {
    const started = performance.now();
    const hits = await this.retrieve(query, options);
    this.options.metrics.searchSeconds.observe((performance.now() - started) / 1000);
    return { hits: hits.map(toHit), seq: this.waiter.value };
  }

  async *ask(request: AskRequest): AsyncIterable<AnswerStreamEvent> {
    const started = performance.now();
    const history = await this.options.index.conversationHistory(request.conversationId);
    const query = this.options.retrievalQuery(history, request.question);
    const hits = await this.retrieve(query, request);
    const retrievalMs = performance.now() - started;
    yield { type: 'answer.retrieved', hits: hits.map(toHit) };

    let firstTokenMs = 0;
    let answer = '';
    const chunks = hits.map(toRetrievedChunk);
    for await (const event of this.options.generator.generate({
      question: request.question,
      history,
      chunks,
      signal: request.signal,
    })) {
      if (event.type === 'token') {
        if (answer === '') {
          firstTokenMs = performance.now() - started;
          this.options.metrics.firstTokenSeconds.observe(firstTokenMs / 1000);
        }
        answer += event.text;
        yield { type: 'answer.token', text: event.text };
      } else {
        yield {
          type: 'answer.citations',
          citations: event.citations.map(({ chunkId: _chunkId, ...citation }) => citation),
        };
      }
    }
    await this.recordTurns(request.conversationId, request.question, answer);
    yield {
      type: 'answer.done',
      timings: {
        retrievalMs: round(retrievalMs),
        firstTokenMs: round(firstTokenMs),
        totalMs: round(performance.now() - started),
      },
    };
  }

  async deleteDocument(documentId: string): Promise<{ seq: number; found: boolean }> {
    // Deleting an unknown document appends nothing, so requests cannot grow the log for free.
    if (this.findDocument(documentId) === undefined)
      return { seq: this.waiter.value, found: false };
    const found = true;
    const seq = await this.append({ type: 'document.delete', documentId });
    await this.waiter.waitFor(seq, { timeoutMs: this.ownWriteTimeoutMs() });
    return { seq, found };
  }

  /**
   * Returns the wait for this server to apply its own append, at least 30 s. The record is
   * already stored in the log, so a short read timeout would report a stored document as failed.
   */
  private ownWriteTimeoutMs(): number {
    return Math.max(this.options.consistencyTimeoutMs ?? 0, 30_000);
  }

  private async retrieve(
    query: string,
    options: { k: number; minSeq?: number; signal: AbortSignal },
  ): Promise<IndexHit[]> {
    if (options.minSeq !== undefined) {
      await this.waiter.waitFor(options.minSeq, {
        timeoutMs: this.options.consistencyTimeoutMs ?? 5000,
        signal: options.signal,
      });
    }
    const [vector] = await this.options.embedder.embed([query], { signal: options.signal });
    return this.options.index.search(vector!, options.k);
  }

  private async recordTurns(
    conversationId: string,
    question: string,
    answer: string,
  ): Promise<void> {
    const at = Date.now();
    try {
      await this.append({
        type: 'conversation.turn',
        conversationId,
        role: 'user',
        text: question,
        at,
      });
      await this.append({
        type: 'conversation.turn',
        conversationId,
        role: 'assistant',
        text: answer,
        at,
      });
    } catch (error) {
      // The answer was delivered; losing its history only weakens follow-up questions.
      this.log.warn({ err: error, conversationId }, 'could not record conversation turns');
    }
  }

  /** Embeds texts in batches, several in flight so every embedder worker stays busy. */
  private async embedAll(
    texts: string[],
    signal: AbortSignal,
    onDone: (done: number) => void,
  ): Promise<Float32Array> {
    const { dimension } = this.options.embedder;
    const batchSize = this.options.embedBatchSize ?? 32;
    const out = new Float32Array(texts.length * dimension);
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < texts.length) {
        const start = next;
        next += batchSize;
        const batch = texts.slice(start, start + batchSize);
        const started = performance.now();
        const vectors = await this.options.embedder.embed(batch, { signal });
        this.options.metrics.embeddingBatchSeconds.observe((performance.now() - started) / 1000);
        vectors.forEach((vector, i) => out.set(vector, (start + i) * dimension));
        done += batch.length;
        onDone(done);
      }
    };
    await Promise.all(Array.from({ length: this.options.embedConcurrency ?? 2 }, worker));
    return out;
  }

  /** Appends a record and feeds the outcome to the log's reachability. */
  private async append(record: LogRecord): Promise<number> {
    try {
      const seq = await this.options.log.append(record);
      this.replication.logReachable();
      return seq;
    } catch (error) {
      if (error instanceof LogUnavailableError) this.replication.logUnreachable(error);
      throw error;
    }
  }

  private async followLog(): Promise<void> {
    const from = this.options.index.lastAppliedSeq + 1;
    this.log.info({ fromSeq: from }, 'applying the log');
    for await (const entry of this.options.log.read(from, { signal: this.applying.signal })) {
      await this.applyEntry(entry);
    }
  }

  // The index applies conversation turns too, so its snapshots hold the history up to the same
  // seq as the documents.
  private async applyEntry(entry: LogEntry): Promise<void> {
    await this.options.index.apply(entry);
    this.replication.applied(entry.seq);
    this.waiter.advance(entry.seq);
  }

  private duplicateOutcome(document: DocumentInfo): IngestOutcome {
    this.options.metrics.ingests.inc({ outcome: 'duplicate' });
    return {
      documentId: document.id,
      pages: document.pageCount,
      chunks: document.chunkCount,
      seq: this.waiter.value,
      duplicate: true,
    };
  }

  private async timed<T>(stage: string, body: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await body();
    } catch (error) {
      this.options.metrics.ingests.inc({ outcome: 'failed' });
      throw error;
    } finally {
      this.options.metrics.ingestStageSeconds.observe(
        { stage },
        (performance.now() - started) / 1000,
      );
    }
  }
}

function toHit(hit: IndexHit): Hit {
  return {
    score: hit.score,
    documentId: hit.chunk.documentId,
    documentName: hit.documentName,
    chunkId: hit.chunk.id,
    pageStart: hit.chunk.pageStart,
    pageEnd: hit.chunk.pageEnd,
    text: hit.chunk.text,
  };
}

function toRetrievedChunk(hit: IndexHit): RetrievedChunk {
  const { chunk } = hit;
  return {
    chunkId: chunk.id,
    documentId: chunk.documentId,
    documentName: hit.documentName,
    text: chunk.text,
    pageStart: chunk.pageStart,
    pageEnd: chunk.pageEnd,
    charStart: chunk.charStart,
    charEnd: chunk.charEnd,
    score: hit.score,
  };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
