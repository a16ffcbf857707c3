import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type PubAck,
} from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';

import { ValidationError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { decodeRecord, encodeRecord } from './codec.js';
import { LogUnavailableError } from './errors.js';
import { checkNatsLogOptions, describeNatsServers } from './nats-validation.js';
import {
  PartAssembler,
  parsePartHeaders,
  partHeaders,
  splitPayload,
  type PartInfo,
} from './nats-parts.js';
import type { DocumentLog, LogEntry, LogRecord } from './types.js';

/** Options for {@link NatsLog.connect}. */
export interface NatsLogOptions {
  /** NATS server URLs, such as `nats://nats-0.nats:4222`; any one reachable server suffices. */
  servers: string | string[];
  /** JetStream stream holding the log; default `STREAMCLUSTER_LOG`. */
  stream?: string;
  /** Subject the records are published on; default `streamcluster.log`. */
  subject?: string;
  /** Copies JetStream keeps of every record when it creates the stream; default 1. */
  replicas?: number;
  /**
   * Bound on one append, retries and waiting for a stream leader included; default 15 000 ms.
   * When a stream leader dies, nats-server's Raft waits a random 4 to 9 s (server/raft.go)
   * before electing another; 7.5 s was measured with 2.9.10. An ingest should ride that out.
   */
  appendTimeoutMs?: number;
  /**
   * Bound on one publish attempt of an append. A request that reached a node which died, or a
   * stream leader that lost office, gets no reply, so it is retried after this; default 1500 ms.
   */
  attemptTimeoutMs?: number;
  /** Bound on the first connection; default 2000 ms. */
  connectTimeoutMs?: number;
  /** An append made while disconnected waits this long for a reconnect; default 2000 ms. */
  reconnectGraceMs?: number;
  /**
   * Largest part a record is cut into. Default: the server's max_payload less 64 KiB for
   * headers, at most 8 MiB.
   */
  maxPartBytes?: number;
  /**
   * A multi-part record whose appender published nothing for this long counts as abandoned,
   * and the next append takes its place; default 10 000 ms.
   */
  abandonedRecordTimeoutMs?: number;
  /** Connection name shown by the NATS server's monitoring. */
  name?: string;
  logger?: Logger;
}

/** The newest message of the stream, as an appender reads it. */
interface StreamTail {
  streamSeq: number;
  /** Last part written; a complete record when `part === parts`. */
  info: PartInfo | undefined;
}

/**
 * JetStream error codes that no retry can fix: the subject overlaps another stream's (10065), or
 * a stream of that name exists with another configuration (10058). Anything else, such as no
 * peers for placement while a node restarts, is reported as the log being unavailable.
 */
const CONFLICT_CODES = new Set([10058, 10065]);
const HEADER_ALLOWANCE_BYTES = 64 * 1024;
/** Parts a reader asks NATS for at a time. */
const READ_BATCH = 16;
const MAX_DEFAULT_PART_BYTES = 8 * 1024 * 1024;
const RETRY_DELAY_MS = 100;
const TAIL_POLL_MS = 50;

/**
 * The document log on NATS JetStream: one stream with file storage and replicas. Appends are
 * published with the expected last stream sequence, so concurrent appenders on several servers
 * never interleave, and with a message id, so a retry after a lost acknowledgement is dropped as
 * a duplicate by JetStream. Records larger than max_payload are split into parts.
 */
export class NatsLog implements DocumentLog {
  readonly connection: NatsConnection;
  readonly stream: string;
  readonly subject: string;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #options: Required<Omit<NatsLogOptions, 'logger' | 'name' | 'maxPartBytes'>>;
  readonly #partBytes: number;
  readonly #logger: Logger;
  readonly #closing = new AbortController();
  #connected = true;
  #queue: Promise<unknown> = Promise.resolve();
  #tail: StreamTail | undefined;
  readonly #ownRecordIds = new Set<string>();

  private constructor(nc: NatsConnection, jsm: JetStreamManager, options: NatsLogOptions) {
    this.connection = nc;
    this.#jsm = jsm;
    this.#js = jetstream(nc);
    this.#logger = options.logger ?? silentLogger;
    this.#options = {
      servers: options.servers,
      stream: options.stream ?? 'STREAMCLUSTER_LOG',
      subject: options.subject ?? 'streamcluster.log',
      replicas: options.replicas ?? 1,
      appendTimeoutMs: options.appendTimeoutMs ?? 15_000,
      attemptTimeoutMs: options.attemptTimeoutMs ?? 1500,
      connectTimeoutMs: options.connectTimeoutMs ?? 2000,
      reconnectGraceMs: options.reconnectGraceMs ?? 2000,
      abandonedRecordTimeoutMs: options.abandonedRecordTimeoutMs ?? 10_000,
    };
    this.stream = this.#options.stream;
    this.subject = this.#options.subject;
    const serverMax = nc.info?.max_payload ?? 1024 * 1024;
    const defaultPartBytes = Math.min(serverMax - HEADER_ALLOWANCE_BYTES, MAX_DEFAULT_PART_BYTES);
    this.#partBytes = options.maxPartBytes ?? defaultPartBytes;
    void this.#trackConnection();
  }

  /**
   * Connects to NATS and creates the stream when it does not exist. Throws LogUnavailableError
   * when no server accepts a connection within `connectTimeoutMs` or JetStream does not respond,
   * and ValidationError for options no retry can fix: an invalid server URL, stream name or
   * subject, or a stream that conflicts with an existing one.
   */
  static async connect(options: NatsLogOptions): Promise<NatsLog> {
    checkNatsLogOptions(options);
    const timeoutMs = options.connectTimeoutMs ?? 2000;
    const servers = describeNatsServers(options.servers);
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: options.servers,
        name: options.name,
        timeout: timeoutMs,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
      });
    } catch (error) {
      throw unavailable(`cannot connect to NATS at ${servers}`, error);
    }
    try {
      const jsm = await jetstreamManager(nc, { timeout: timeoutMs });
      const log = new NatsLog(nc, jsm, options);
      await log.#ensureStream();
      return log;
    } catch (error) {
      await nc.close();
      if (error instanceof LogUnavailableError || error instanceof ValidationError) throw error;
      throw unavailable(`JetStream at ${servers} is not ready`, error);
    }
  }

  /** Appends a record; resolves with its sequence once JetStream stored it on its replicas. */
  append(record: LogRecord): Promise<number> {
    const payload = encodeRecord(record);
    const result = this.#queue.then(() => this.#appendPayload(payload));
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /**
   * Yields every record from `fromSeq` on, then follows new ones. Survives NATS outages: the
   * reader waits and resumes where it stopped.
   */
  async *read(fromSeq: number, options: { signal?: AbortSignal } = {}): AsyncIterable<LogEntry> {
    const signals = [this.#closing.signal, ...(options.signal ? [options.signal] : [])];
    const signal = AbortSignal.any(signals);
    let nextSeq = Math.max(1, fromSeq);
    while (!signal.aborted) {
      try {
        for await (const entry of this.#readOnce(nextSeq, signal)) {
          nextSeq = entry.seq + 1;
          yield entry;
        }
      } catch (error) {
        if (signal.aborted) break;
        this.#logger.warn(
          { err: error, stream: this.stream, nextSeq },
          'log read failed; retrying',
        );
        await sleep(1000, undefined, { signal }).catch(() => undefined);
      }
    }
  }

  /** Sequence of the newest complete record, 0 for an empty log. */
  async lastSeq(): Promise<number> {
    const tail = await this.#readTail().catch((error: unknown) => {
      const servers = describeNatsServers(this.#options.servers);
      throw unavailable(
        `reading the head of NATS stream ${this.stream} at ${servers} failed`,
        error,
      );
    });
    if (!tail.info) return 0;
    return tail.info.part === tail.info.parts ? tail.info.seq : tail.info.seq - 1;
  }

  /** Ends every reader and closes the connection after pending appends. */
  async close(): Promise<void> {
    this.#closing.abort();
    await this.#queue;
    await this.connection.close();
  }

  async #ensureStream(): Promise<void> {
    const { stream, subject, replicas } = this.#options;
    try {
      const info = await this.#jsm.streams.info(stream);
      if (info.config.num_replicas !== replicas) {
        this.#logger.warn(
          { stream, replicas: info.config.num_replicas, requested: replicas },
          'stream exists with another replica count; keeping it',
        );
      }
      return;
    } catch (error) {
      if (!(
        error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound
      )) {
        throw error;
      }
    }
    await this.#addStream().catch((error: unknown) => {
      if (!(error instanceof JetStreamApiError && CONFLICT_CODES.has(error.code))) throw error;
      throw new ValidationError([
        `stream ${stream} with subject ${subject} cannot be created: ${error.message}; choose ` +
          'another stream name or subject, or remove the conflicting stream',
      ]);
    });
    this.#logger.info({ stream, subject, replicas }, 'created the log stream');
  }

  async #addStream(): Promise<void> {
    const { stream, subject, replicas } = this.#options;
    await this.#jsm.streams.add({
      name: stream,
      subjects: [subject],
      storage: StorageType.File,
      num_replicas: replicas,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.New,
      max_msgs: -1,
      max_bytes: -1,
      max_age: 0,
      allow_direct: true,
    });
  }

  async #trackConnection(): Promise<void> {
    for await (const status of this.connection.status()) {
      if (status.type === 'disconnect') this.#connected = false;
      if (status.type === 'reconnect') this.#connected = true;
      if (status.type === 'disconnect' || status.type === 'reconnect') {
        this.#logger.info({ server: status.server, event: status.type }, 'NATS connection changed');
      }
    }
  }

  async #appendPayload(payload: Uint8Array): Promise<number> {
    if (this.#closing.signal.aborted) throw unavailable(`NATS log ${this.stream} is closed`);
    const deadline = Date.now() + this.#options.appendTimeoutMs;
    const parts = splitPayload(payload, this.#partBytes);
    for (;;) {
      const tail = await this.#tailForAppend(deadline);
      const complete = !tail.info || tail.info.part === tail.info.parts;
      const seq = complete ? (tail.info?.seq ?? 0) + 1 : tail.info!.seq;
      try {
        this.#tail = await this.#publishRecord(parts, seq, tail.streamSeq, deadline);
        return seq;
      } catch (error) {
        this.#tail = undefined;
        if (!isWrongLastSequence(error)) throw error;
        this.#logger.debug({ stream: this.stream, seq }, 'another appender went first; retrying');
      }
    }
  }

  /** Publishes the parts of one record after stream sequence `afterStreamSeq`. */
  async #publishRecord(
    parts: Uint8Array[],
    seq: number,
    afterStreamSeq: number,
    deadline: number,
  ): Promise<StreamTail> {
    const recordId = randomUUID();
    this.#ownRecordIds.add(recordId);
    let streamSeq = afterStreamSeq;
    let info: PartInfo | undefined;
    for (const [i, data] of parts.entries()) {
      info = { seq, recordId, part: i + 1, parts: parts.length };
      streamSeq = (await this.#publishPart(data, info, streamSeq, deadline)).seq;
    }
    this.#ownRecordIds.delete(recordId);
    return { streamSeq, info };
  }

  /**
   * Publishes one part, retrying transient failures with the same message id and expectation
   * until the deadline, so a part stored by an attempt whose acknowledgement was lost is not
   * stored twice.
   */
  async #publishPart(
    data: Uint8Array,
    info: PartInfo,
    afterStreamSeq: number,
    deadline: number,
  ): Promise<PubAck> {
    for (;;) {
      await this.#waitForConnection(deadline);
      try {
        return await this.#js.publish(this.subject, data, {
          msgID: `${info.recordId}.${info.part}`,
          expect: { lastSubjectSequence: afterStreamSeq },
          headers: partHeaders(info),
          timeout: Math.max(1, Math.min(deadline - Date.now(), this.#options.attemptTimeoutMs)),
        });
      } catch (error) {
        if (isWrongLastSequence(error)) throw error;
        if (Date.now() + RETRY_DELAY_MS >= deadline) {
          throw unavailable(`append to NATS stream ${this.stream} failed`, error);
        }
        this.#logger.debug({ err: error, stream: this.stream, seq: info.seq }, 'publish retry');
        await sleep(RETRY_DELAY_MS);
      }
    }
  }

  async #waitForConnection(deadline: number): Promise<void> {
    const graceEnd = Math.min(deadline, Date.now() + this.#options.reconnectGraceMs);
    while (!this.#connected) {
      if (this.connection.isClosed() || Date.now() >= graceEnd) {
        throw unavailable(
          `no NATS server of ${describeNatsServers(this.#options.servers)} is reachable`,
        );
      }
      await sleep(TAIL_POLL_MS);
    }
  }

  /**
   * The tail to append after. An unfinished record of another appender is waited for until it
   * completes or makes no progress for `abandonedRecordTimeoutMs`; then its sequence is reused.
   */
  async #tailForAppend(deadline: number): Promise<StreamTail> {
    if (this.#tail) return this.#tail;
    let observed: StreamTail | undefined;
    let observedAt = Date.now();
    for (;;) {
      await this.#waitForConnection(deadline);
      const tail = await this.#readTail().catch((error: unknown) => {
        throw unavailable(`reading the tail of NATS stream ${this.stream} failed`, error);
      });
      const info = tail.info;
      if (!info || info.part === info.parts || this.#ownRecordIds.has(info.recordId)) return tail;
      if (observed?.streamSeq !== tail.streamSeq) [observed, observedAt] = [tail, Date.now()];
      if (Date.now() - observedAt >= this.#options.abandonedRecordTimeoutMs) {
        this.#logger.warn(
          { stream: this.stream, seq: info.seq },
          'taking over an abandoned record',
        );
        return tail;
      }
      if (Date.now() >= deadline) {
        throw unavailable(
          `record ${info.seq} in NATS stream ${this.stream} is still being written`,
        );
      }
      await sleep(TAIL_POLL_MS);
    }
  }

  async #readTail(): Promise<StreamTail> {
    const message = await this.#jsm.streams.getMessage(this.stream, {
      last_by_subj: this.subject,
    });
    if (!message) return { streamSeq: 0, info: undefined };
    return { streamSeq: message.seq, info: parsePartHeaders(message.header) };
  }

  /** One ordered consumer from the first part of record `fromSeq` on. */
  async *#readOnce(fromSeq: number, signal: AbortSignal): AsyncGenerator<LogEntry> {
    const startStreamSeq = await this.#findStreamSeq(fromSeq);
    const consumer = await this.#js.consumers.get(this.stream, {
      filter_subjects: this.subject,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: startStreamSeq,
    });
    // A message budget, not a byte budget. nats.js 3.4 tops a byte budget up with pulls as small
    // as the bytes just consumed. After many small records, a large part then exceeds every open
    // pull, and the reader stalls until two idle heartbeats (30 s) are missed. With a message
    // budget, at most READ_BATCH parts are buffered, each under the server's max_payload.
    const messages = await consumer.consume({ max_messages: READ_BATCH });
    const stop = (): void => void messages.stop();
    signal.addEventListener('abort', stop, { once: true });
    try {
      const assembler = new PartAssembler();
      for await (const message of messages) {
        const info = parsePartHeaders(message.headers);
        const record = info && assembler.add(info, message.data, message.seq);
        if (!record || record.seq < fromSeq) continue;
        const where = `NATS stream ${this.stream} sequence ${record.firstStreamSeq}`;
        yield { seq: record.seq, record: decodeRecord(record.payload, where) };
      }
    } finally {
      signal.removeEventListener('abort', stop);
      messages.stop();
    }
  }

  /**
   * The stream sequence where record `fromSeq` starts: a binary search over the sequence
   * headers, which never decrease along the stream.
   */
  async #findStreamSeq(fromSeq: number): Promise<number> {
    const tail = await this.#readTail();
    let [low, high] = [1, tail.streamSeq + 1];
    if (fromSeq <= 1 || !tail.info) return 1;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      const message = await this.#jsm.streams.getMessage(this.stream, { seq: middle });
      const seq = parsePartHeaders(message?.header)?.seq ?? 0;
      if (seq >= fromSeq) high = middle;
      else low = middle + 1;
    }
    return low;
  }
}

function isWrongLastSequence(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamWrongLastSequence
  );
}

function unavailable(what: string, cause?: unknown): LogUnavailableError {
  const reason = cause instanceof Error ? `: ${cause.message}` : '';
  return new LogUnavailableError(
    `${what}${reason}; check that the NATS servers are running and reachable, then retry`,
    { cause },
  );
}
