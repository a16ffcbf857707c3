import { randomUUID } from 'node:crypto';
import type { RawData, WebSocket } from 'ws';

import type { Logger } from '../core/logger.js';
import { StreamClusterError } from '../core/errors.js';
import type { DataPlane } from './data-plane.js';
import type { JournalEntry, OperationJournal } from './journal.js';
import type { StreamMetrics } from './metrics.js';
import type { AskMessage, ClientMessage, IngestStartMessage, ServerEvent } from './protocol.js';
import { SendQueue, type SendQueueOptions } from './send-queue.js';
import { parseUploadFrame, Upload } from './upload.js';
import { parseClientMessage, type ValidationLimits } from './validate.js';

/** Limits of one connection; documented with their defaults in StreamServerOptions. */
export interface ConnectionLimits extends ValidationLimits, SendQueueOptions {
  maxIngestsPerConnection: number;
  maxIngestsPerServer: number;
  messagesPerSecond: number;
  messageBurst: number;
  defaultTopK: number;
}

/** State shared by every connection of one server. */
export interface ConnectionContext {
  dataPlane: DataPlane;
  journal: OperationJournal;
  metrics: StreamMetrics;
  logger: Logger;
  limits: ConnectionLimits;
  /** Counts ingests in flight across the server; the connection updates it. */
  load: { inflightIngests: number };
  isDraining: () => boolean;
}

interface Operation {
  kind: 'ingest' | 'search' | 'ask' | 'delete' | 'list';
  controller: AbortController;
  nextOffset: number;
  upload?: Upload;
  /** Detaches a journaled answer from this connection without stopping it. */
  detach?: () => void;
}

/**
 * One client's WebSocket: validates messages, runs operations concurrently, and sends their
 * events through a single backpressured queue. Closing the connection cancels its ingests and
 * searches; answers keep running in the journal so a reconnecting client can resume them.
 */
export class StreamConnection {
  readonly id = randomUUID();
  private readonly ops = new Map<string, Operation>();
  private readonly queue: SendQueue;
  private tokens: number;
  private lastRefill = performance.now();
  private readonly log: Logger;

  constructor(
    private readonly ws: WebSocket,
    private readonly context: ConnectionContext,
  ) {
    this.log = context.logger.child({ connectionId: this.id });
    this.tokens = context.limits.messageBurst;
    this.queue = new SendQueue(ws, context.limits, () => {
      context.metrics.slowConsumerCloses.inc();
      this.log.warn({ backlogBytes: this.queue.backlogBytes }, 'closing slow consumer');
    });
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('close', () => this.onClose());
  }

  /** Sends an event that belongs to no operation, such as the welcome. */
  sendEvent(event: ServerEvent): void {
    this.queue.push(JSON.stringify(event));
  }

  get inflightOperations(): number {
    return this.ops.size;
  }

  get inflightIngests(): number {
    let count = 0;
    for (const op of this.ops.values()) if (op.kind === 'ingest') count++;
    return count;
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
    if (isBinary) {
      this.context.metrics.messages.inc({ type: 'binary' });
      this.onBinary(buffer);
      return;
    }
    if (!this.takeToken()) {
      this.context.metrics.messages.inc({ type: 'rate_limited' });
      this.sendError(
        opOf(buffer),
        'RATE_LIMITED',
        `more than ${this.context.limits.messagesPerSecond} messages per second; slow down`,
        undefined,
        true,
      );
      return;
    }
    const parsed = parseClientMessage(buffer.toString('utf8'), this.context.limits);
    if ('problem' in parsed) {
      this.context.metrics.messages.inc({ type: 'invalid' });
      const { op, code, message, field } = parsed.problem;
      this.sendError(op, code, message, field);
      return;
    }
    this.context.metrics.messages.inc({ type: parsed.message.type });
    this.dispatch(parsed.message);
  }

  private dispatch(message: ClientMessage): void {
    if (message.type === 'cancel') {
      this.cancel(message.op);
      return;
    }
    if (this.ops.has(message.op)) {
      this.sendError(
        message.op,
        'DUPLICATE_OP',
        `op ${message.op} is still in flight on this connection; use a new op id`,
        'op',
      );
      return;
    }
    switch (message.type) {
      case 'ingest':
        this.startIngest(message);
        break;
      case 'search':
        this.run(message.op, 'search', async (op) => {
          const result = await this.context.dataPlane.search(message.query, {
            k: message.k ?? this.context.limits.defaultTopK,
            minSeq: message.minSeq,
            signal: op.controller.signal,
          });
          this.send(message.op, op, { type: 'search.result', ...result });
        });
        break;
      case 'ask':
        this.startAsk(message);
        break;
      case 'delete':
        this.run(message.op, 'delete', async (op) => {
          const result = await this.context.dataPlane.deleteDocument(message.documentId);
          this.send(message.op, op, {
            type: 'delete.done',
            documentId: message.documentId,
            ...result,
          });
        });
        break;
      case 'list':
        this.run(message.op, 'list', async (op) => {
          this.send(message.op, op, {
            type: 'list.result',
            documents: this.context.dataPlane.listDocuments(),
          });
        });
        break;
    }
  }

  private startIngest(message: IngestStartMessage): void {
    const { limits, load } = this.context;
    if (this.context.isDraining()) {
      this.sendError(
        message.op,
        'DRAINING',
        'server is draining; reconnect and retry on another server',
        undefined,
        true,
      );
      return;
    }
    if (this.inflightIngests >= limits.maxIngestsPerConnection) {
      this.sendError(
        message.op,
        'TOO_MANY_INGESTS',
        `at most ${limits.maxIngestsPerConnection} ingests may run at once on one connection; wait for one to finish`,
        undefined,
        true,
      );
      return;
    }
    if (load.inflightIngests >= limits.maxIngestsPerServer) {
      this.sendError(
        message.op,
        'TOO_MANY_INGESTS',
        `server is running its maximum of ${limits.maxIngestsPerServer} ingests; retry shortly`,
        undefined,
        true,
      );
      return;
    }
    const op = this.register(message.op, 'ingest');
    const existing = this.context.dataPlane.findDocument(message.sha256);
    if (existing) {
      this.send(message.op, op, {
        type: 'ingest.accepted',
        documentId: existing.id,
        duplicate: true,
      });
      this.send(message.op, op, {
        type: 'ingest.done',
        documentId: existing.id,
        pages: existing.pageCount,
        chunks: existing.chunkCount,
        seq: this.context.dataPlane.stats().lastAppliedSeq,
        duplicate: true,
      });
      this.ops.delete(message.op);
      return;
    }
    op.upload = new Upload(message);
    load.inflightIngests++;
    this.send(message.op, op, {
      type: 'ingest.accepted',
      documentId: message.sha256,
      duplicate: false,
    });
  }

  private onBinary(frame: Buffer): void {
    const parsed = parseUploadFrame(frame);
    const op = parsed ? this.ops.get(parsed.op) : undefined;
    if (!parsed || !op?.upload || op.upload.complete) {
      this.sendError(
        parsed?.op,
        'UNEXPECTED_BINARY',
        'binary frame does not belong to an upload in progress; send an ingest message first and prefix each frame with its op id',
        undefined,
      );
      return;
    }
    const upload = op.upload;
    const problem = upload.add(parsed.data);
    if (problem) {
      this.failIngest(parsed.op, op, problem.code, problem.message);
      return;
    }
    const { size } = upload.announced;
    this.send(
      parsed.op,
      op,
      { type: 'ingest.progress', stage: 'upload', done: upload.receivedBytes, total: size },
      'upload',
    );
    if (upload.complete) void this.runIngest(parsed.op, op, upload);
  }

  private async runIngest(opId: string, op: Operation, upload: Upload): Promise<void> {
    const bytes = upload.finish();
    if (!Buffer.isBuffer(bytes)) {
      this.failIngest(opId, op, bytes.code, bytes.message);
      return;
    }
    const { name, sha256, password } = upload.announced;
    try {
      const outcome = await this.context.dataPlane.ingest(
        { name, type: upload.type, bytes, sha256, password },
        {
          signal: op.controller.signal,
          onProgress: (stage, done, total) =>
            this.send(opId, op, { type: 'ingest.progress', stage, done, total }, stage),
        },
      );
      this.send(opId, op, { type: 'ingest.done', ...outcome });
    } catch (error) {
      this.logIngestFailure(opId, op, error, { name, documentId: sha256 });
      this.sendOperationError(opId, op, error);
    } finally {
      this.finishIngest(opId);
    }
  }

  private failIngest(opId: string, op: Operation, code: string, message: string): void {
    this.send(opId, op, { type: 'error', code, message });
    op.upload = undefined;
    this.finishIngest(opId);
  }

  private finishIngest(opId: string): void {
    if (this.ops.delete(opId)) this.context.load.inflightIngests--;
  }

  private startAsk(message: AskMessage): void {
    const conversationId = message.conversationId ?? randomUUID();
    const journal = this.context.journal;
    const resumeAfter = message.resumeAfter ?? 0;
    // Only an explicit resume attaches to a journaled answer; the same op id asked again without
    // resumeAfter is a new question.
    let entry =
      message.conversationId && message.resumeAfter !== undefined
        ? journal.get(conversationId, message.op)
        : undefined;
    const resumed = entry !== undefined;
    if (!entry) {
      entry = journal.create(conversationId, message.op);
      void this.generate(message, conversationId, entry);
    }
    const op = this.register(message.op, 'ask', entry.controller);
    this.context.metrics.asks.inc({ resumed: String(resumed) });
    op.detach = entry.subscribe(resumeAfter, (item) => {
      if (item === 'end') {
        this.ops.delete(message.op);
        return;
      }
      this.queue.push(JSON.stringify({ ...item.event, op: message.op, offset: item.offset }));
    });
  }

  /** Runs an answer into the journal; the journal, not the connection, owns its lifetime. */
  private async generate(
    message: AskMessage,
    conversationId: string,
    entry: JournalEntry,
  ): Promise<void> {
    // A server that never saw a resumed answer generates it again and skips the events the client
    // already has. This is exact because the extractive generator is deterministic for one index.
    const skip = message.resumeAfter ?? 0;
    let produced = 0;
    const append = (event: ServerEvent) => {
      produced++;
      if (produced > skip) entry.append(event);
      else entry.events.push({ offset: produced, event });
    };
    try {
      const stream = this.context.dataPlane.ask({
        question: message.question,
        conversationId,
        k: message.k ?? this.context.limits.defaultTopK,
        minSeq: message.minSeq,
        signal: entry.controller.signal,
      });
      for await (const event of stream) {
        if (event.type === 'answer.retrieved' || event.type === 'answer.done')
          append({ ...event, conversationId });
        else append(event);
      }
    } catch (error) {
      const { code, message: text, retryable } = describeError(error, entry.controller.signal);
      if (code !== 'INTERNAL') this.log.debug({ code, op: message.op }, 'answer failed');
      else this.log.error({ err: error, op: message.op, conversationId }, 'answer failed');
      append(
        code === 'CANCELLED'
          ? { type: 'cancelled' }
          : { type: 'error', code, message: text, retryable },
      );
    } finally {
      entry.finish();
    }
  }

  private run(opId: string, kind: Operation['kind'], body: (op: Operation) => Promise<void>): void {
    const op = this.register(opId, kind);
    body(op)
      .catch((error: unknown) => this.sendOperationError(opId, op, error))
      .finally(() => this.ops.delete(opId));
  }

  private register(
    opId: string,
    kind: Operation['kind'],
    controller = new AbortController(),
  ): Operation {
    const op: Operation = { kind, controller, nextOffset: 1 };
    this.ops.set(opId, op);
    return op;
  }

  private cancel(opId: string): void {
    const op = this.ops.get(opId);
    if (!op) {
      this.sendError(opId, 'UNKNOWN_OP', `op ${opId} is not in flight on this connection`, 'op');
      return;
    }
    op.controller.abort();
    if (op.upload && !op.upload.complete) {
      this.send(opId, op, { type: 'cancelled' });
      this.finishIngest(opId);
    }
  }

  private send(opId: string, op: Operation, event: ServerEvent, coalesceStage?: string): void {
    const offset = op.nextOffset++;
    const key = coalesceStage === undefined ? undefined : `${opId}\u0000${coalesceStage}`;
    this.queue.push(JSON.stringify({ ...event, op: opId, offset }), key);
  }

  /**
   * Logs a failed ingest with the document's name and id: at info when the document itself was
   * rejected (a DOCUMENT_ code), at warn when the server could not store it (LOG_UNAVAILABLE).
   */
  private logIngestFailure(
    opId: string,
    op: Operation,
    error: unknown,
    document: { name: string; documentId: string },
  ): void {
    const { code, message } = describeError(error, op.controller.signal);
    // Cancellations are the client's choice, and INTERNAL errors are logged with their stack.
    if (code === 'CANCELLED' || code === 'INTERNAL') return;
    const fields = { op: opId, code, ...document, reason: message };
    if (code.startsWith('DOCUMENT_')) this.log.info(fields, 'document rejected');
    else this.log.warn(fields, 'ingest failed');
  }

  private sendOperationError(opId: string, op: Operation, error: unknown): void {
    const { code, message, retryable } = describeError(error, op.controller.signal);
    if (code === 'INTERNAL') this.log.error({ err: error, op: opId }, 'operation failed');
    else this.log.debug({ code, op: opId }, 'operation failed');
    this.send(
      opId,
      op,
      code === 'CANCELLED' ? { type: 'cancelled' } : { type: 'error', code, message, retryable },
    );
  }

  private sendError(
    opId: string | undefined,
    code: string,
    message: string,
    field?: string,
    retryable?: boolean,
  ): void {
    const event = {
      type: 'error',
      code,
      message,
      ...(field ? { field } : {}),
      ...(retryable ? { retryable } : {}),
    };
    this.queue.push(JSON.stringify(opId === undefined ? event : { ...event, op: opId }));
  }

  private takeToken(): boolean {
    const { messagesPerSecond, messageBurst } = this.context.limits;
    const now = performance.now();
    this.tokens = Math.min(
      messageBurst,
      this.tokens + ((now - this.lastRefill) / 1000) * messagesPerSecond,
    );
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }

  private onClose(): void {
    this.queue.close();
    for (const [opId, op] of this.ops) {
      if (op.detach) {
        op.detach();
        continue;
      }
      op.controller.abort();
      if (op.kind === 'ingest') this.finishIngest(opId);
    }
    this.ops.clear();
  }
}

/** Reads the `op` of a rejected message so its error reaches the right operation. */
function opOf(buffer: Buffer): string | undefined {
  try {
    const op = (JSON.parse(buffer.toString('utf8')) as { op?: unknown }).op;
    return typeof op === 'string' && op.length <= 64 ? op : undefined;
  } catch {
    return undefined;
  }
}

/** Maps a thrown value to a protocol error code, message and whether a retry may succeed. */
function describeError(
  error: unknown,
  signal: AbortSignal,
): { code: string; message: string; retryable?: boolean } {
  if (signal.aborted) return { code: 'CANCELLED', message: 'operation was cancelled' };
  if (error instanceof StreamClusterError) {
    const retryable = (error as { retryable?: boolean }).retryable;
    return { code: error.code, message: error.message, ...(retryable ? { retryable } : {}) };
  }
  return {
    code: 'INTERNAL',
    message: 'internal error; the server logged the details',
    retryable: true,
  };
}
