import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

import { silentLogger, type Logger } from '../core/logger.js';
import { ChangeNotifier } from './change-notifier.js';
import { decodeRecord, encodeRecord } from './codec.js';
import { LogCorruptError, LogUnavailableError } from './errors.js';
import { followFrames } from './file-log-reader.js';
import { FileLock } from './file-lock.js';
import { encodeFrame, listSegments, readFrame, segmentPath, type SegmentFile } from './segment.js';
import type { DocumentLog, LogEntry, LogRecord } from './types.js';

/** Options for {@link FileLog.open}. */
export interface FileLogOptions {
  /** Directory of the log; created when missing. Every process sharing the log names the same one. */
  directory: string;
  /** A segment that reached this size is closed and a new one started; default 64 MiB. */
  segmentSizeBytes?: number;
  /** Maximum wait of a following reader between checks for new records; default 250 ms. */
  pollIntervalMs?: number;
  /** How long an append waits for another process holding the append lock; default 10 000 ms. */
  lockTimeoutMs?: number;
  logger?: Logger;
}

/** The segment appends go to, as far as this process has read it. */
interface Tail {
  segment: SegmentFile;
  file: FileHandle;
  /** Byte length of the complete frames; anything past it is another process's or torn. */
  size: number;
  lastSeq: number;
}

interface PendingAppend {
  payload: Uint8Array;
  resolve: (seq: number) => void;
  reject: (error: unknown) => void;
}

const DEFAULT_SEGMENT_SIZE_BYTES = 64 * 1024 * 1024;

/**
 * The embedded log for one machine: append-only segment files in a directory, each record framed
 * with its length, sequence and CRC-32. Several processes may append to the same directory: an
 * append takes a lock file, reads what others appended, writes its records, fsyncs and unlocks.
 * Appends waiting in one process are written together under one lock and one fsync.
 */
export class FileLog implements DocumentLog {
  readonly directory: string;
  readonly #segmentSizeBytes: number;
  readonly #lock: FileLock;
  readonly #notifier: ChangeNotifier;
  readonly #logger: Logger;
  readonly #closing = new AbortController();
  #tail: Tail | undefined;
  /** How far `lastSeq` has read the newest segment. */
  #observed: { baseSeq: number; size: number; lastSeq: number } | undefined;
  #pending: PendingAppend[] = [];
  #draining: Promise<void> | undefined;

  private constructor(options: FileLogOptions) {
    this.directory = options.directory;
    this.#segmentSizeBytes = options.segmentSizeBytes ?? DEFAULT_SEGMENT_SIZE_BYTES;
    this.#logger = options.logger ?? silentLogger;
    this.#lock = new FileLock(join(options.directory, 'append.lock'), {
      timeoutMs: options.lockTimeoutMs,
      logger: this.#logger,
    });
    this.#notifier = new ChangeNotifier(options.directory, {
      pollIntervalMs: options.pollIntervalMs,
      logger: this.#logger,
    });
  }

  /**
   * Opens the log in `options.directory`, creating it when missing. A torn record at the end
   * (a writer killed mid-append) is truncated; damage anywhere else in the newest segment throws
   * LogCorruptError.
   */
  static async open(options: FileLogOptions): Promise<FileLog> {
    await mkdir(options.directory, { recursive: true });
    const log = new FileLog(options);
    try {
      await log.#locked(async () => {
        await log.#syncTail();
        await log.#lock.removeOrphanDrafts();
      });
    } catch (error) {
      await log.close();
      throw error;
    }
    log.#logger.info({ directory: log.directory, lastSeq: log.#tail?.lastSeq }, 'file log opened');
    return log;
  }

  /** Appends a record; resolves with its sequence once the record is fsynced. */
  append(record: LogRecord): Promise<number> {
    if (this.#closing.signal.aborted) return Promise.reject(closedError(this.directory));
    const payload = encodeRecord(record);
    return new Promise((resolve, reject) => {
      this.#pending.push({ payload, resolve, reject });
      this.#draining ??= this.#drain();
    });
  }

  /** Yields every entry from `fromSeq` on, then follows appends of any process. */
  async *read(fromSeq: number, options: { signal?: AbortSignal } = {}): AsyncIterable<LogEntry> {
    const signals = [this.#closing.signal, ...(options.signal ? [options.signal] : [])];
    const frames = followFrames(this.directory, fromSeq, this.#notifier, AbortSignal.any(signals));
    for await (const frame of frames) {
      yield { seq: frame.seq, record: decodeRecord(frame.payload, frame.where) };
    }
  }

  /** Sequence of the newest complete record, including records other processes appended. */
  async lastSeq(): Promise<number> {
    const newest = (await listSegments(this.directory)).at(-1);
    if (!newest) return 0;
    const file = await open(newest.path, 'r');
    try {
      // Resume from the furthest point already known, so repeated calls read only new frames.
      const known = [
        this.#observed,
        this.#tail && { ...this.#tail, baseSeq: this.#tail.segment.baseSeq },
      ]
        .filter((cursor) => cursor?.baseSeq === newest.baseSeq)
        .sort((a, b) => b!.size - a!.size)[0];
      const scan = await scanFrames(file, known?.size ?? 0, known?.lastSeq ?? newest.baseSeq - 1);
      this.#observed = { baseSeq: newest.baseSeq, size: scan.size, lastSeq: scan.lastSeq };
      return scan.lastSeq;
    } finally {
      await file.close();
    }
  }

  /** Finishes queued appends, ends every reader and releases the files. */
  async close(): Promise<void> {
    this.#closing.abort();
    await this.#draining;
    this.#notifier.close();
    await this.#tail?.file.close();
    this.#tail = undefined;
  }

  /**
   * Writes queued appends batch by batch. `#draining` is cleared in the same synchronous step as
   * the final empty-queue check, so an append queued by a caller resumed from the last batch
   * starts a new drain instead of waiting on one that has already finished.
   */
  async #drain(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending;
      this.#pending = [];
      try {
        const firstSeq = await this.#locked(() => this.#writeBatch(batch.map((p) => p.payload)));
        batch.forEach((append, i) => append.resolve(firstSeq + i));
        this.#notifier.notify();
      } catch (error) {
        this.#logger.error({ err: error, records: batch.length }, 'file log append failed');
        for (const append of batch) append.reject(error);
      }
    }
    this.#draining = undefined;
  }

  async #locked<T>(work: () => Promise<T>): Promise<T> {
    await this.#lock.acquire();
    try {
      return await work();
    } finally {
      await this.#lock.release();
    }
  }

  /** Writes frames for `payloads` after the current tail and returns the first one's sequence. */
  async #writeBatch(payloads: Uint8Array[]): Promise<number> {
    const tail = await this.#syncTail();
    const firstSeq = tail.lastSeq + 1;
    let frames: Buffer[] = [];
    let bytes = 0;
    for (const [i, payload] of payloads.entries()) {
      const frame = encodeFrame(firstSeq + i, payload);
      if (tail.size + bytes > 0 && tail.size + bytes + frame.length > this.#segmentSizeBytes) {
        await this.#writeFrames(frames, bytes);
        await this.#rollOver(firstSeq + i);
        [frames, bytes] = [[], 0];
      }
      frames.push(frame);
      bytes += frame.length;
    }
    await this.#writeFrames(frames, bytes);
    return firstSeq;
  }

  async #writeFrames(frames: Buffer[], bytes: number): Promise<void> {
    const tail = this.#tail!;
    try {
      await tail.file.writev(frames);
      await tail.file.datasync();
    } catch (error) {
      // Cut any partial frame now, so the failed records cannot appear later.
      await tail.file.truncate(tail.size).catch(() => undefined);
      throw error;
    }
    tail.size += bytes;
    tail.lastSeq += frames.length;
  }

  async #rollOver(baseSeq: number): Promise<void> {
    const segment = { baseSeq, path: segmentPath(this.directory, baseSeq) };
    const file = await open(segment.path, 'a+');
    await fsyncDirectory(this.directory);
    await this.#tail?.file.close();
    this.#tail = { segment, file, size: 0, lastSeq: baseSeq - 1 };
    this.#logger.info({ segment: segment.path }, 'file log started a new segment');
  }

  /**
   * Brings the tail up to date with what other processes appended and truncates a torn record
   * at its end. Runs only under the append lock, so no other process writes the bytes it inspects.
   */
  async #syncTail(): Promise<Tail> {
    const newest = (await listSegments(this.directory)).at(-1);
    if (!newest) await this.#rollOver(1);
    else if (newest.baseSeq !== this.#tail?.segment.baseSeq) await this.#adopt(newest);
    const tail = this.#tail!;

    const scan = await scanFrames(tail.file, tail.size, tail.lastSeq, tail.segment.path);
    if (scan.tornBytes > 0) {
      this.#logger.warn(
        { segment: tail.segment.path, offset: scan.size, bytes: scan.tornBytes },
        'truncated a torn record left by an interrupted append',
      );
      await tail.file.truncate(scan.size);
      await tail.file.datasync();
    }
    tail.size = scan.size;
    tail.lastSeq = scan.lastSeq;
    return tail;
  }

  async #adopt(segment: SegmentFile): Promise<void> {
    await this.#tail?.file.close();
    const file = await open(segment.path, 'a+');
    this.#tail = { segment, file, size: 0, lastSeq: segment.baseSeq - 1 };
  }
}

interface ScanResult {
  /** Offset after the last complete frame. */
  size: number;
  lastSeq: number;
  /** Bytes after `size` that belong to no complete frame and run to the end of the file. */
  tornBytes: number;
}

/**
 * Reads the frames from `offset` to the end of a segment. Throws LogCorruptError for a damaged
 * frame that more data follows; a damaged or partial frame at the very end is reported as torn.
 */
async function scanFrames(
  file: FileHandle,
  offset: number,
  lastSeq: number,
  path = 'segment',
): Promise<ScanResult> {
  const fileSize = (await file.stat()).size;
  for (;;) {
    const frame = await readFrame(file, offset, fileSize);
    const where = `${path} at byte ${offset}`;
    if (frame.kind === 'frame' && frame.seq !== lastSeq + 1) {
      throw new LogCorruptError(
        `${where} holds sequence ${frame.seq} where ${lastSeq + 1} was expected; restore the ` +
          'log directory from a backup',
      );
    }
    if (frame.kind === 'frame') {
      [offset, lastSeq] = [frame.end, frame.seq];
      continue;
    }
    if (frame.kind === 'invalid' && frame.end < fileSize && !(await isZeroFrom(file, offset))) {
      throw new LogCorruptError(
        `${where}: record ${lastSeq + 1} is damaged (${frame.problem}) and more records follow; ` +
          'restore the segment from a backup or rebuild the log from a replica',
      );
    }
    return { size: offset, lastSeq, tornBytes: fileSize - offset };
  }
}

/** Whether a file holds only zero bytes from `offset` on, as a crash can leave past its data. */
async function isZeroFrom(file: FileHandle, offset: number): Promise<boolean> {
  const buffer = Buffer.alloc(64 * 1024);
  for (let position = offset; ; position += buffer.length) {
    const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) return true;
    if (buffer.subarray(0, bytesRead).some((byte) => byte !== 0)) return false;
  }
}

async function fsyncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function closedError(directory: string): LogUnavailableError {
  return new LogUnavailableError(`file log ${directory} is closed; open it again to append`);
}
