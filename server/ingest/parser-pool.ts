import { Worker, type WorkerOptions } from 'node:worker_threads';
import { extname } from 'node:path';
import type { Logger } from '../core/logger.js';
import { silentLogger } from '../core/logger.js';
import { ValidationError } from '../core/errors.js';
import { BusyClock, type WorkerBusyTime } from '../core/busy-time.js';
import type { DocumentType, ParsedPage } from './types.js';
import { DocumentTooLargeError, ParserFailedError, ParseTimeoutError } from './errors.js';
import { PDFJS_MODULES } from './pdf-extract.js';
import {
  deserializeError,
  type ParseJob,
  type ParseWorkerMessage,
} from './parse-worker-protocol.js';

/** Options of {@link ParserPool}; defaults in {@link PARSER_POOL_DEFAULTS}. */
export interface ParserPoolOptions {
  /** Worker threads, each parsing one document at a time. */
  workers?: number;
  /** V8 heap limit of each worker in megabytes; a document needing more fails as too large. */
  memoryLimitMb?: number;
  logger?: Logger;
}

/** Defaults of {@link ParserPoolOptions}: one worker with a 512 MB heap. */
export const PARSER_POOL_DEFAULTS = { workers: 1, memoryLimitMb: 512 } as const;

/** Per-document options of {@link ParserPool.parse}. */
export interface PoolParseOptions {
  type: DocumentType;
  password?: string;
  maxPages: number;
  minCharsPerPage: number;
  /** Deadline from the moment a worker takes the document; the worker is killed after it. */
  timeoutMs: number;
  onPage?: (done: number, total: number) => void;
}

interface Task {
  id: number;
  data: Uint8Array;
  options: PoolParseOptions;
  resolve: (pages: ParsedPage[]) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker | undefined;
  task: Task | undefined;
  timer: NodeJS.Timeout | undefined;
}

/** Lists what is wrong with parser pool options, one sentence per problem. */
export function parserPoolOptionProblems(workers: number, memoryLimitMb: number): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(workers) || workers < 1) {
    problems.push(`workers must be a positive integer, got ${workers}`);
  }
  if (!Number.isFinite(memoryLimitMb) || memoryLimitMb < 16) {
    problems.push(`memoryLimitMb must be a number of at least 16, got ${memoryLimitMb}`);
  }
  return problems;
}

const sourceExtension = extname(import.meta.url);
const workerUrl = new URL(`./parse-worker${sourceExtension}`, import.meta.url);

/**
 * Starts the worker script. Compiled, it is plain JavaScript. Run from TypeScript source (tests,
 * development), the worker must register tsx itself, because on Node 20 a worker thread does
 * not inherit the parent's module hooks. pdf.js is imported before tsx is registered, because
 * passing its 2 MB of JavaScript through tsx's transform made a worker's start several times
 * slower (about 12 s against 3 s on a loaded 2-core machine).
 */
function startWorker(options: WorkerOptions): Worker {
  if (sourceExtension !== '.ts') return new Worker(workerUrl, options);
  const [pdfjsWorker, pdfjs, tsx] = [...PDFJS_MODULES, 'tsx/esm/api'].map((specifier) =>
    JSON.stringify(import.meta.resolve(specifier)),
  );
  const bootstrap = `(async () => {
    globalThis.pdfjsWorker = await import(${pdfjsWorker});
    await import(${pdfjs});
    (await import(${tsx})).register();
    await import(${JSON.stringify(workerUrl.href)});
  })();`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/**
 * Parses documents in worker threads that stay warm between documents. A worker that passes its
 * deadline, exceeds its heap limit or crashes is terminated and replaced for the next document,
 * so a file that keeps pdf.js busy in synchronous code costs one worker, never the event loop.
 */
export class ParserPool {
  private readonly memoryLimitMb: number;
  private readonly logger: Logger;
  private readonly slots: Slot[];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;
  private readonly clock: BusyClock;

  constructor(options: ParserPoolOptions = {}) {
    this.memoryLimitMb = options.memoryLimitMb ?? PARSER_POOL_DEFAULTS.memoryLimitMb;
    this.logger = options.logger ?? silentLogger;
    const workers = options.workers ?? PARSER_POOL_DEFAULTS.workers;
    const problems = parserPoolOptionProblems(workers, this.memoryLimitMb);
    if (problems.length > 0) throw new ValidationError(problems);
    this.clock = new BusyClock('parsing', workers);
    this.slots = Array.from({ length: workers }, () => ({
      worker: undefined,
      task: undefined,
      timer: undefined,
    }));
  }

  /** Time the workers have spent on documents, for the server's load report. */
  busyTime(): WorkerBusyTime {
    return this.clock.read();
  }

  /** Parses one document; the bytes are copied, so the caller keeps its buffer. */
  parse(data: Uint8Array, options: PoolParseOptions): Promise<ParsedPage[]> {
    if (this.closed) return Promise.reject(new ParserFailedError('the parser is closed'));
    return new Promise((resolve, reject) => {
      // A copy with its own ArrayBuffer, transferred to the worker: Buffer.slice() would share
      // memory, and transferring that would detach the caller's buffer (or Node's buffer pool).
      const copy = new Uint8Array(data);
      this.queue.push({ id: this.nextId++, data: copy, options, resolve, reject });
      this.dispatch();
    });
  }

  /** Terminates every worker; queued and running documents fail with {@link ParserFailedError}. */
  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) {
      task.reject(new ParserFailedError('the parser was closed'));
    }
    const exits = this.slots.map((slot) => {
      const exit = this.retire(slot);
      this.finish(slot, undefined, new ParserFailedError('the parser was closed'));
      return exit;
    });
    await Promise.all(exits);
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.task !== undefined) continue;
      const task = this.queue.shift();
      if (task === undefined) return;
      this.start(slot, task);
    }
  }

  private start(slot: Slot, task: Task): void {
    const worker = slot.worker ?? this.spawn(slot);
    slot.task = task;
    this.clock.start(slot);
    slot.timer = setTimeout(() => this.handleTimeout(slot, task), task.options.timeoutMs);
    const { type, password, maxPages, minCharsPerPage } = task.options;
    const job: ParseJob = {
      id: task.id,
      type,
      data: task.data,
      password,
      maxPages,
      minCharsPerPage,
    };
    worker.ref();
    worker.postMessage(job, [task.data.buffer as ArrayBuffer]);
  }

  private spawn(slot: Slot): Worker {
    const worker = startWorker({
      resourceLimits: { maxOldGenerationSizeMb: this.memoryLimitMb },
    });
    worker.on('message', (message: ParseWorkerMessage) => this.handleMessage(slot, message));
    worker.on('error', (error) => this.handleCrash(slot, worker, error));
    worker.on('exit', (code) => this.handleExit(slot, worker, code));
    slot.worker = worker;
    return worker;
  }

  private handleMessage(slot: Slot, message: ParseWorkerMessage): void {
    const task = slot.task;
    if (task === undefined || message.id !== task.id) return;
    if (message.kind === 'page') {
      task.options.onPage?.(message.done, message.total);
    } else if (message.kind === 'pages') {
      this.finish(slot, message.pages);
    } else {
      this.finish(slot, undefined, deserializeError(message.error));
    }
  }

  private handleTimeout(slot: Slot, task: Task): void {
    if (slot.task !== task) return;
    this.logger.warn(
      { taskId: task.id, timeoutMs: task.options.timeoutMs },
      'parse timed out; terminating its worker',
    );
    // Retire before finishing, so the next document gets a fresh worker, not this one.
    void this.retire(slot);
    this.finish(slot, undefined, new ParseTimeoutError(task.options.timeoutMs));
  }

  private handleCrash(slot: Slot, worker: Worker, error: Error & { code?: string }): void {
    if (slot.worker !== worker) return;
    const failure =
      error.code === 'ERR_WORKER_OUT_OF_MEMORY'
        ? new DocumentTooLargeError('memory', this.memoryLimitMb, undefined, { cause: error })
        : new ParserFailedError(`parse worker crashed (${error.message})`, { cause: error });
    this.logger.warn({ err: error, taskId: slot.task?.id }, 'parse worker failed; replacing it');
    slot.worker = undefined;
    this.finish(slot, undefined, failure);
  }

  private handleExit(slot: Slot, worker: Worker, code: number): void {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    this.finish(slot, undefined, new ParserFailedError(`parse worker exited with code ${code}`));
  }

  /** Settles the slot's task, if any, and hands the slot the next queued document. */
  private finish(slot: Slot, pages: ParsedPage[] | undefined, error?: Error): void {
    const task = slot.task;
    clearTimeout(slot.timer);
    this.clock.stop(slot);
    slot.task = undefined;
    slot.timer = undefined;
    slot.worker?.unref();
    if (task !== undefined) {
      if (error !== undefined || pages === undefined)
        task.reject(error ?? new ParserFailedError('no result'));
      else task.resolve(pages);
    }
    if (!this.closed) this.dispatch();
  }

  private async retire(slot: Slot): Promise<void> {
    const worker = slot.worker;
    slot.worker = undefined;
    if (worker !== undefined) await worker.terminate();
  }
}
