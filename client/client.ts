import { AsyncQueue } from './async-queue.js';
import { StreamClusterClientError } from './errors.js';
import { requireMediaType, type DocumentMediaType } from './media-type.js';
import { sha256Hex } from './sha256.js';
import { bearerTokenProblem } from './token.js';
import type {
  AnswerEvent,
  ClientState,
  Hit,
  IngestResult,
  IngestStage,
  WebSocketFactory,
  WebSocketLike,
} from './types.js';

const SUBPROTOCOL = 'streamcluster.v1';

/** Close codes after which the client reconnects: going away, abnormal, internal, restart, later. */
const RECONNECT_CODES = new Set([1001, 1005, 1006, 1011, 1012, 1013]);

/** Options of {@link StreamClusterClient}. */
export interface ClientOptions {
  /** One URL or several (for example one balancer per zone); the first healthy one is preferred. */
  urls: string | string[];
  /** Bearer token, sent as a `bearer.<token>` subprotocol so browsers can send it too. */
  token?: string;
  /** Creates sockets; default the platform's `WebSocket`, else the `ws` package. */
  webSocket?: WebSocketFactory;
  /** Reconnect policy, or false to fail operations when the connection drops. */
  reconnect?: ReconnectOptions | false;
  /** Operations that may wait while disconnected; more fail fast with QUEUE_FULL. Default 100. */
  maxQueuedOperations?: number;
  /** Maximum time an operation may go without an event before it fails; 0 disables it. Default 120000 ms. */
  operationTimeoutMs?: number;
  /** Bytes of document data per binary frame. Default 256 KiB. */
  uploadFrameBytes?: number;
  /** How often a client on a fallback URL checks whether the preferred one is back. Default 30000 ms. */
  failbackIntervalMs?: number;
}

/** Backoff between reconnect attempts: exponential with full jitter, capped. */
export interface ReconnectOptions {
  /** First delay. Default 250 ms. */
  initialDelayMs?: number;
  /** Largest delay. Default 10000 ms. */
  maxDelayMs?: number;
  /** Attempts before giving up with RECONNECT_FAILED. Default 10. */
  maxAttempts?: number;
}

interface PendingOperation {
  op: string;
  kind: 'ingest' | 'search' | 'ask' | 'delete' | 'list';
  /** The message that starts the operation; resent after a reconnect. */
  message: Record<string, unknown>;
  /** Highest event offset seen, so a resumed answer repeats nothing. */
  lastOffset: number;
  /** Offset of the first event of the current run; ingests and searches restart their numbering. */
  sent: boolean;
  upload?: Uint8Array;
  onEvent: (event: Record<string, unknown>) => void;
  onError: (error: StreamClusterClientError) => void;
  cleanup: () => void;
}

/** Counters an application can show or export. */
export interface ClientCounters {
  reconnects: number;
  resumedOperations: number;
}

/**
 * A StreamCluster client: many concurrent operations over one WebSocket, reconnecting after
 * closes that invite it and resuming answers from the last event offset it saw. Works in Node.js
 * and browsers. Emits `state` events (`event.detail` is the new {@link ClientState}).
 */
export class StreamClusterClient extends EventTarget {
  readonly counters: ClientCounters = { reconnects: 0, resumedOperations: 0 };
  private readonly urls: string[];
  private readonly ops = new Map<string, PendingOperation>();
  private socket?: WebSocketLike;
  private urlIndex = 0;
  private currentState: ClientState = 'idle';
  private nextOp = 1;
  private readonly clientId = randomId().slice(0, 8);
  private connecting?: Promise<void>;
  private failbackTimer?: ReturnType<typeof setInterval>;
  private serverId?: string;

  constructor(private readonly options: ClientOptions) {
    super();
    this.urls = Array.isArray(options.urls) ? [...options.urls] : [options.urls];
    if (this.urls.length === 0) throw new RangeError('urls must hold at least one WebSocket URL');
    const tokenProblem = options.token ? bearerTokenProblem(options.token) : undefined;
    if (tokenProblem) throw new RangeError(`token ${tokenProblem}`);
  }

  get state(): ClientState {
    return this.currentState;
  }

  /** The URL of the open connection, if any. */
  get url(): string | undefined {
    return this.socket ? this.urls[this.urlIndex] : undefined;
  }

  /** The id the connected server reported in its welcome. */
  get connectedServerId(): string | undefined {
    return this.serverId;
  }

  /** Opens the connection; operations started before it resolves wait in the queue. */
  connect(): Promise<void> {
    if (this.currentState === 'open') return Promise.resolve();
    if (this.currentState === 'closed') {
      return Promise.reject(
        new StreamClusterClientError('CLOSED', 'client is closed; create a new one'),
      );
    }
    this.connecting ??= this.establish(false).finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  /** Closes the connection and fails every operation still in flight. */
  close(): void {
    this.setState('closed');
    clearInterval(this.failbackTimer);
    this.socket?.close(1000, 'client closed');
    this.socket = undefined;
    this.failAll(new StreamClusterClientError('CLOSED', 'client was closed'));
  }

  /**
   * Uploads a document and resolves once it is indexed. Re-sending the same bytes is idempotent
   * (the document id is their SHA-256), which is what makes retrying after a reconnect safe.
   * `document` may be bytes, an ArrayBuffer, or a Blob such as a browser's `File`. Without
   * `mediaType` the type is detected from the bytes and the name, and binary data that is not a
   * PDF fails with `UNSUPPORTED_DOCUMENT` before anything is sent.
   */
  async ingest(
    document: Uint8Array | ArrayBuffer | Blob,
    options: {
      name: string;
      mediaType?: DocumentMediaType;
      password?: string;
      signal?: AbortSignal;
      timeoutMs?: number;
      onProgress?: (stage: IngestStage, done: number, total: number) => void;
    },
  ): Promise<IngestResult> {
    const data = await toBytes(document);
    const mediaType = options.mediaType ?? requireMediaType(data, options.name);
    const sha256 = await sha256Hex(data);
    const progress = new ProgressHighWater();
    return new Promise((resolve, reject) => {
      const message: Record<string, unknown> = {
        type: 'ingest',
        name: options.name,
        mediaType,
        size: data.length,
        sha256,
      };
      if (options.password !== undefined) message.password = options.password;
      this.start(
        'ingest',
        message,
        options,
        reject,
        (event, op) => {
          if (event.type === 'ingest.accepted' && event.duplicate === false) void this.upload(op);
          else if (event.type === 'ingest.progress') {
            const stage = event.stage as IngestStage;
            if (progress.advances(stage, event.done as number))
              options.onProgress?.(stage, event.done as number, event.total as number);
          } else if (event.type === 'ingest.done') {
            this.finish(op.op);
            resolve(event as unknown as IngestResult);
          }
        },
        data,
      );
    });
  }

  /** Returns the top-k chunks for a query. `minSeq` asks the server to reflect that log entry. */
  search(
    query: string,
    options: { k?: number; minSeq?: number; signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<{ hits: Hit[]; seq: number }> {
    return new Promise((resolve, reject) => {
      const message = { type: 'search', query, k: options.k, minSeq: options.minSeq };
      this.start('search', message, options, reject, (event, op) => {
        if (event.type !== 'search.result') return;
        this.finish(op.op);
        resolve({ hits: event.hits as Hit[], seq: event.seq as number });
      });
    });
  }

  /**
   * Asks a question and yields the answer's events as they arrive. Breaking out of the loop or
   * aborting the signal cancels the answer on the server.
   */
  ask(
    question: string,
    options: {
      conversationId?: string;
      k?: number;
      minSeq?: number;
      signal?: AbortSignal;
      timeoutMs?: number;
    } = {},
  ): AsyncIterable<AnswerEvent> {
    const queue = new AsyncQueue<AnswerEvent>();
    // The client picks the conversation id so it can resume the answer on any server.
    const conversationId = options.conversationId ?? randomId();
    const message = { type: 'ask', question, conversationId, k: options.k, minSeq: options.minSeq };
    let opId: string | undefined;
    try {
      opId = this.start(
        'ask',
        message,
        options,
        (error) => queue.fail(error),
        (event, op) => {
          if (event.type === 'cancelled') {
            this.finish(op.op);
            queue.fail(new StreamClusterClientError('CANCELLED', 'answer was cancelled'));
            return;
          }
          queue.push(event as unknown as AnswerEvent);
          if (event.type === 'answer.done') {
            this.finish(op.op);
            queue.end();
          }
        },
      );
    } catch (error) {
      queue.fail(error);
    }
    return {
      [Symbol.asyncIterator]: () => {
        const iterator = queue[Symbol.asyncIterator]();
        return {
          next: () => iterator.next(),
          return: () => {
            if (opId !== undefined && this.ops.has(opId)) {
              this.cancel(opId);
              this.finish(opId);
            }
            return iterator.return!();
          },
        };
      },
    };
  }

  /** Removes a document from search on every server. */
  deleteDocument(
    documentId: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<{ seq: number; found: boolean }> {
    return new Promise((resolve, reject) => {
      this.start('delete', { type: 'delete', documentId }, options, reject, (event, op) => {
        if (event.type !== 'delete.done') return;
        this.finish(op.op);
        resolve({ seq: event.seq as number, found: event.found as boolean });
      });
    });
  }

  /** Lists the documents of the connected server's index. */
  listDocuments(options: { signal?: AbortSignal } = {}): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      this.start('list', { type: 'list' }, options, reject, (event, op) => {
        if (event.type !== 'list.result') return;
        this.finish(op.op);
        resolve(event.documents as unknown[]);
      });
    });
  }

  private start(
    kind: PendingOperation['kind'],
    message: Record<string, unknown>,
    options: { signal?: AbortSignal; timeoutMs?: number },
    fail: (error: StreamClusterClientError) => void,
    handle: (event: Record<string, unknown>, op: PendingOperation) => void,
    upload?: Uint8Array,
  ): string {
    if (this.currentState === 'closed')
      throw new StreamClusterClientError('CLOSED', 'client is closed');
    if (
      this.currentState !== 'open' &&
      this.ops.size >= (this.options.maxQueuedOperations ?? 100)
    ) {
      throw new StreamClusterClientError(
        'QUEUE_FULL',
        `${this.ops.size} operations are already waiting for a connection; retry when the client is open`,
        { retryable: true },
      );
    }
    options.signal?.throwIfAborted();
    // A random prefix keeps op ids of separate clients apart in the server's answer journal.
    const op = `${kind}-${this.clientId}-${this.nextOp++}`;
    const timeoutMs = options.timeoutMs ?? this.options.operationTimeoutMs ?? 120_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // The timeout bounds the silence between events, not the whole operation: a large document
    // keeps reporting progress for as long as its ingest takes.
    const armTimer = () => {
      clearTimeout(timer);
      if (timeoutMs <= 0) return;
      timer = setTimeout(() => {
        this.cancel(op);
        pending.onError(
          new StreamClusterClientError('TIMEOUT', `${kind} received no event for ${timeoutMs} ms`, {
            retryable: true,
          }),
        );
      }, timeoutMs);
    };
    armTimer();
    const onAbort = () => {
      this.cancel(op);
      pending.onError(new StreamClusterClientError('CANCELLED', `${kind} was cancelled`));
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const pending: PendingOperation = {
      op,
      kind,
      message: { ...message, op },
      lastOffset: 0,
      sent: false,
      upload,
      onEvent: (event) => {
        armTimer();
        handle(event, pending);
      },
      onError: (error) => {
        this.finish(op);
        fail(error);
      },
      cleanup: () => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
      },
    };
    this.ops.set(op, pending);
    if (this.currentState === 'open') this.sendStart(pending);
    else void this.connect().catch(() => {});
    return op;
  }

  private finish(op: string): void {
    const pending = this.ops.get(op);
    if (!pending) return;
    this.ops.delete(op);
    pending.cleanup();
  }

  private cancel(op: string): void {
    if (this.currentState === 'open' && this.ops.get(op)?.sent) this.send({ type: 'cancel', op });
  }

  private sendStart(pending: PendingOperation): void {
    const message = { ...pending.message };
    if (pending.kind === 'ask' && pending.lastOffset > 0) {
      message.resumeAfter = pending.lastOffset;
      this.counters.resumedOperations++;
    } else {
      // Only answers continue their numbering on a new connection; other operations restart.
      pending.lastOffset = 0;
    }
    pending.sent = true;
    this.send(message);
  }

  private send(message: Record<string, unknown>): void {
    this.socket?.send(JSON.stringify(message));
  }

  private async upload(pending: PendingOperation): Promise<void> {
    const data = pending.upload!;
    const socket = this.socket;
    const frameBytes = this.options.uploadFrameBytes ?? 256 * 1024;
    const header = new TextEncoder().encode(pending.op);
    for (let offset = 0; offset < data.length; offset += frameBytes) {
      // Waits for the socket's buffer instead of queuing the whole document in memory twice.
      while (
        socket === this.socket &&
        socket &&
        (socket as unknown as { bufferedAmount: number }).bufferedAmount > 4 * frameBytes
      ) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      if (socket !== this.socket || !this.ops.has(pending.op)) return;
      const part = data.subarray(offset, Math.min(data.length, offset + frameBytes));
      const frame = new Uint8Array(1 + header.length + part.length);
      frame[0] = header.length;
      frame.set(header, 1);
      frame.set(part, 1 + header.length);
      socket!.send(frame);
    }
  }

  private async establish(reconnecting: boolean): Promise<void> {
    const policy = this.options.reconnect === false ? undefined : (this.options.reconnect ?? {});
    const maxAttempts = policy ? (policy.maxAttempts ?? 10) : 1;
    let lastError: unknown;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      if (this.currentState === 'closed')
        throw new StreamClusterClientError('CLOSED', 'client was closed');
      if (attempt > 0) await sleep(backoffMs(attempt, policy ?? {}));
      this.setState(reconnecting || attempt > 0 ? 'reconnecting' : 'connecting');
      for (let i = 0; i < this.urls.length; i++) {
        try {
          const socket = await this.open(this.urls[i]!);
          this.urlIndex = i;
          this.adopt(socket);
          return;
        } catch (error) {
          lastError = error;
          if (error instanceof StreamClusterClientError && !error.retryable) {
            this.failAll(error);
            this.setState('closed');
            throw error;
          }
        }
      }
    }
    const error = new StreamClusterClientError(
      'RECONNECT_FAILED',
      `could not connect to ${this.urls.join(', ')} after ${maxAttempts} attempts: ${(lastError as Error)?.message ?? 'unknown error'}`,
      { cause: lastError },
    );
    this.failAll(error);
    this.setState('closed');
    throw error;
  }

  /** Opens one socket and waits for the server's welcome. */
  private async open(url: string): Promise<WebSocketLike> {
    const factory = this.options.webSocket ?? (await defaultFactory());
    const protocols = [
      SUBPROTOCOL,
      ...(this.options.token ? [`bearer.${this.options.token}`] : []),
    ];
    const socket = factory(url, protocols);
    socket.binaryType = 'arraybuffer';
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (error?: unknown) => {
        if (settled) return;
        settled = true;
        if (error) reject(error);
        else resolve(socket);
      };
      socket.addEventListener('message', (event: { data: unknown }) => {
        if (settled || typeof event.data !== 'string') return;
        const message = JSON.parse(event.data) as Record<string, unknown>;
        if (message.type === 'welcome') {
          this.serverId = message.serverId as string;
          settle();
        }
      });
      socket.addEventListener('error', (event: { message?: string; error?: Error }) => {
        const text = event.message ?? event.error?.message ?? 'connection failed';
        // `ws` reports a rejected upgrade as an error naming the status; 401 will not get better.
        const unauthorized = /\b401\b/.test(text);
        settle(
          new StreamClusterClientError(
            unauthorized ? 'UNAUTHORIZED' : 'CONNECT_FAILED',
            `${url}: ${text}`,
            {
              retryable: !unauthorized,
            },
          ),
        );
      });
      socket.addEventListener('close', (event: { code: number; reason: string }) => {
        settle(
          new StreamClusterClientError(
            'CONNECT_FAILED',
            `${url} closed with ${event.code} before the welcome`,
            { retryable: true },
          ),
        );
      });
    });
  }

  private adopt(socket: WebSocketLike): void {
    if (this.currentState === 'reconnecting') this.counters.reconnects++;
    this.socket = socket;
    this.setState('open');
    socket.addEventListener('message', (event: { data: unknown }) =>
      this.onMessage(socket, event.data),
    );
    socket.addEventListener('close', (event: { code: number; reason: string }) =>
      this.onClose(socket, event.code, event.reason),
    );
    for (const pending of this.ops.values()) this.sendStart(pending);
    this.scheduleFailback();
  }

  private onMessage(socket: WebSocketLike, data: unknown): void {
    if (socket !== this.socket || typeof data !== 'string') return;
    const event = JSON.parse(data) as Record<string, unknown>;
    const op = typeof event.op === 'string' ? this.ops.get(event.op) : undefined;
    if (!op) return;
    const offset = typeof event.offset === 'number' ? event.offset : 0;
    if (offset > 0 && offset <= op.lastOffset) return;
    op.lastOffset = Math.max(op.lastOffset, offset);
    if (event.type === 'error') {
      op.onError(
        new StreamClusterClientError(event.code as string, event.message as string, {
          retryable: event.retryable === true,
        }),
      );
      return;
    }
    op.onEvent(event);
  }

  private onClose(socket: WebSocketLike, code: number, reason: string): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    if (this.currentState === 'closed') return;
    if (this.options.reconnect === false || !RECONNECT_CODES.has(code)) {
      this.setState('closed');
      this.failAll(
        new StreamClusterClientError(
          'CONNECTION_CLOSED',
          `connection closed with ${code}${reason ? `: ${reason}` : ''}`,
        ),
      );
      return;
    }
    for (const pending of this.ops.values()) pending.sent = false;
    this.setState('reconnecting');
    this.connecting ??= this.establish(true)
      .catch(() => {})
      .finally(() => (this.connecting = undefined));
  }

  /** While on a fallback URL, moves back to the preferred one once it accepts connections. */
  private scheduleFailback(): void {
    clearInterval(this.failbackTimer);
    if (this.urlIndex === 0) return;
    this.failbackTimer = setInterval(() => {
      if (this.ops.size > 0 || this.currentState !== 'open') return;
      this.open(this.urls[0]!)
        .then((socket) => {
          if (this.ops.size > 0 || this.currentState !== 'open')
            return socket.close(1000, 'not needed');
          const old = this.socket;
          this.socket = undefined;
          old?.close(1000, 'returning to the preferred server');
          this.urlIndex = 0;
          this.adopt(socket);
        })
        .catch(() => {});
    }, this.options.failbackIntervalMs ?? 30_000);
    (this.failbackTimer as { unref?: () => void }).unref?.();
  }

  private failAll(error: StreamClusterClientError): void {
    for (const pending of [...this.ops.values()]) pending.onError(error);
  }

  private setState(state: ClientState): void {
    if (this.currentState === state) return;
    this.currentState = state;
    this.dispatchEvent(new CustomEvent('state', { detail: state }));
  }
}

const INGEST_STAGES: IngestStage[] = ['upload', 'parse', 'chunk', 'embed', 'index'];

/**
 * The furthest progress an ingest has reported. After a reconnect the server starts the ingest
 * over, so its progress would go back to the start of the upload. The client passes on only
 * progress beyond what the application has already received.
 */
class ProgressHighWater {
  private stage = -1;
  private done = -1;

  advances(stage: IngestStage, done: number): boolean {
    const index = INGEST_STAGES.indexOf(stage);
    // A stage this client does not know is passed on, since its order is unknown.
    if (index === -1) return true;
    if (index < this.stage || (index === this.stage && done <= this.done)) return false;
    this.stage = index;
    this.done = done;
    return true;
  }
}

function backoffMs(attempt: number, policy: ReconnectOptions): number {
  const initial = policy.initialDelayMs ?? 250;
  const cap = policy.maxDelayMs ?? 10_000;
  return Math.random() * Math.min(cap, initial * 2 ** (attempt - 1));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Returns a random UUID. Browsers expose `crypto.randomUUID` only in secure contexts (HTTPS or
 * loopback), so a page served over plain HTTP builds a version 4 UUID from `getRandomValues`.
 */
function randomId(): string {
  if (typeof globalThis.crypto.randomUUID === 'function') return globalThis.crypto.randomUUID();
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

async function toBytes(document: Uint8Array | ArrayBuffer | Blob): Promise<Uint8Array> {
  if (document instanceof Uint8Array) return document;
  if (document instanceof ArrayBuffer) return new Uint8Array(document);
  return new Uint8Array(await document.arrayBuffer());
}

async function defaultFactory(): Promise<WebSocketFactory> {
  const native = (
    globalThis as { WebSocket?: new (url: string, protocols: string[]) => WebSocketLike }
  ).WebSocket;
  if (native) return (url, protocols) => new native(url, protocols);
  const { WebSocket } = await import('ws');
  return (url, protocols) => new WebSocket(url, protocols) as unknown as WebSocketLike;
}
