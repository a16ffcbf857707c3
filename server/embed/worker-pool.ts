import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { BusyClock, type WorkerBusyTime } from '../core/busy-time.js';

import type { Logger } from '../core/logger.js';
import { EmbedderClosedError, EmbedWorkerError, reviveError } from './errors.js';
import type { SerializedError, WorkerMessage, WorkerRequest } from './worker-protocol.js';

/** Options for {@link WorkerPool.start}. */
export interface WorkerPoolOptions {
  /** Worker entry module; it must call `serveWorker`. */
  workerUrl: URL;
  /** Passed unchanged to every worker, replacements included. */
  workerData: unknown;
  /** Number of worker threads, at least 1. */
  size: number;
  /** Names the pool in logs and errors, such as `embedding`. */
  name: string;
  logger: Logger;
  /**
   * Starts one worker and waits for it before starting the rest, so that a download into a
   * shared cache happens once. Default false.
   */
  startOneFirst?: boolean;
  /** Replacement workers that may fail to start in a row before the pool gives up; default 3. */
  maxRestartFailures?: number;
  /** Time `close()` waits for running requests before terminating their workers; default 30 s. */
  closeTimeoutMs?: number;
}

interface Task<Request, Result> {
  id: number;
  request: Request;
  resolve(result: Result): void;
  reject(error: unknown): void;
  settled: boolean;
  signal?: AbortSignal;
  onAbort?: () => void;
}

interface Slot<Request, Result> {
  worker: Worker;
  /** Kept because `worker.threadId` reads -1 once the thread has exited. */
  threadId: number;
  ready: boolean;
  task?: Task<Request, Result>;
  uncaught?: Error;
  exited: Promise<void>;
}

/**
 * A fixed number of worker threads, each serving one request at a time from a shared FIFO queue.
 * A worker that dies fails its in-flight request with `EMBED_WORKER_CRASHED` and is replaced.
 */
export class WorkerPool<Info, Request, Result> {
  readonly size: number;
  private readonly options: WorkerPoolOptions;
  private readonly logger: Logger;
  private readonly slots = new Set<Slot<Request, Result>>();
  private readonly idle: Slot<Request, Result>[] = [];
  private readonly queue: Task<Request, Result>[] = [];
  private nextId = 0;
  private closed = false;
  private restartFailures = 0;
  private failure?: Error;
  private readonly clock: BusyClock;

  private constructor(options: WorkerPoolOptions) {
    this.options = options;
    this.size = options.size;
    this.logger = options.logger;
    this.clock = new BusyClock(options.name, options.size);
  }

  /** Time the workers have spent on requests, for the server's load report. */
  busyTime(): WorkerBusyTime {
    return this.clock.read();
  }

  /** Workers that have loaded and serve requests; lower than `size` while a replacement starts. */
  get readyWorkers(): number {
    return [...this.slots].filter((slot) => slot.ready).length;
  }

  /** Starts every worker and returns the pool with the first worker's ready info. */
  static async start<Info, Request, Result>(
    options: WorkerPoolOptions,
  ): Promise<{ pool: WorkerPool<Info, Request, Result>; info: Info }> {
    const pool = new WorkerPool<Info, Request, Result>(options);
    try {
      const first = options.startOneFirst ? [await pool.spawn()] : [];
      const rest = await Promise.all(
        Array.from({ length: options.size - first.length }, () => pool.spawn()),
      );
      return { pool, info: [...first, ...rest][0] as Info };
    } catch (error) {
      await pool.close();
      throw error;
    }
  }

  /**
   * Runs `request` on the next free worker. An aborted signal rejects at once with its reason
   * and drops the request from the queue. A request already running finishes in its worker,
   * because onnxruntime cannot stop a session run midway, and its result is discarded.
   */
  run(request: Request, options: { signal?: AbortSignal } = {}): Promise<Result> {
    if (this.closed) return Promise.reject(new EmbedderClosedError(`${this.options.name} pool`));
    if (this.failure && !this.hasReadyWorker()) return Promise.reject(this.failure);
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);

    return new Promise<Result>((resolve, reject) => {
      const task: Task<Request, Result> = {
        id: this.nextId++,
        request,
        resolve,
        reject,
        settled: false,
      };
      if (options.signal) this.watchAbort(task, options.signal);
      this.queue.push(task);
      this.dispatch();
    });
  }

  /** Rejects queued and running requests and terminates every worker. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const error = new EmbedderClosedError(`${this.options.name} pool`);
    for (const task of this.queue.splice(0)) this.settle(task, () => task.reject(error));
    const slots = [...this.slots];
    for (const slot of slots) {
      if (slot.task) this.settle(slot.task, () => slot.task?.reject(error));
      else if (slot.ready) void slot.worker.terminate();
    }
    await this.waitForExit(slots);
  }

  /**
   * Waits for busy and starting workers to finish before they are terminated: terminating a
   * thread inside an onnxruntime-node (1.30) call aborts the whole process. A worker still
   * busy after `closeTimeoutMs` is terminated anyway.
   */
  private async waitForExit(slots: Slot<Request, Result>[]): Promise<void> {
    const timeoutMs = this.options.closeTimeoutMs ?? 30_000;
    const timer = sleep(timeoutMs, 'timeout', { ref: false });
    const outcome = await Promise.race([Promise.all(slots.map((slot) => slot.exited)), timer]);
    if (outcome !== 'timeout') return;
    this.logger.warn(
      { pool: this.options.name, timeoutMs, workers: this.slots.size },
      'workers still busy when the close timeout expired; terminating them',
    );
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  private watchAbort(task: Task<Request, Result>, signal: AbortSignal): void {
    task.signal = signal;
    task.onAbort = () => {
      const queued = this.queue.indexOf(task);
      if (queued >= 0) this.queue.splice(queued, 1);
      this.settle(task, () => task.reject(signal.reason));
    };
    signal.addEventListener('abort', task.onAbort, { once: true });
  }

  private settle(task: Task<Request, Result>, finish: () => void): void {
    if (task.settled) return;
    task.settled = true;
    if (task.onAbort) task.signal?.removeEventListener('abort', task.onAbort);
    finish();
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const slot = this.idle.pop() as Slot<Request, Result>;
      const task = this.queue.shift() as Task<Request, Result>;
      slot.task = task;
      this.clock.start(slot);
      const message: WorkerRequest<Request> = { id: task.id, request: task.request };
      slot.worker.postMessage(message);
    }
  }

  private release(slot: Slot<Request, Result>): void {
    slot.task = undefined;
    this.clock.stop(slot);
    if (this.closed) {
      void slot.worker.terminate();
      return;
    }
    this.idle.push(slot);
    this.dispatch();
  }

  /** Starts one worker; resolves with its ready info, rejects if it fails or exits first. */
  private spawn(): Promise<Info> {
    const worker = createWorker(this.options.workerUrl, this.options.workerData);
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    const slot: Slot<Request, Result> = { worker, threadId: worker.threadId, ready: false, exited };
    this.slots.add(slot);

    return new Promise<Info>((resolve, reject) => {
      worker.on('message', (message: WorkerMessage<Info, Result>) => {
        if (message.type === 'ready') this.handleReady(slot, resolve, message.info);
        else if (message.type === 'failed') this.handleFailed(slot, reject, message.error);
        else this.handleReply(slot, message);
      });
      worker.on('error', (error) => {
        slot.uncaught = error;
      });
      worker.on('exit', (code) => this.handleExit(slot, code, reject));
    });
  }

  private handleReady(slot: Slot<Request, Result>, resolve: (info: Info) => void, info: Info) {
    slot.ready = true;
    this.restartFailures = 0;
    resolve(info);
    this.release(slot);
  }

  private handleFailed(
    slot: Slot<Request, Result>,
    reject: (e: Error) => void,
    error: SerializedError,
  ) {
    reject(reviveError(error));
    void slot.worker.terminate();
  }

  private handleReply(
    slot: Slot<Request, Result>,
    message: Extract<WorkerMessage<Info, Result>, { type: 'result' | 'error' }>,
  ): void {
    const task = slot.task;
    if (task && task.id === message.id) {
      if (message.type === 'result') this.settle(task, () => task.resolve(message.result));
      else this.settle(task, () => task.reject(reviveError(message.error)));
    }
    this.release(slot);
  }

  private handleExit(slot: Slot<Request, Result>, code: number, rejectStart: (e: Error) => void) {
    this.slots.delete(slot);
    this.clock.stop(slot);
    const idleIndex = this.idle.indexOf(slot);
    if (idleIndex >= 0) this.idle.splice(idleIndex, 1);
    if (this.closed) return;

    const detail = slot.uncaught ? `: ${slot.uncaught.message}` : '';
    const error = new EmbedWorkerError(
      'EMBED_WORKER_CRASHED',
      `${this.options.name} worker ${slot.threadId} exited with code ${code}${detail}`,
      { cause: slot.uncaught },
    );
    rejectStart(error);
    if (!slot.ready) return;

    const task = slot.task;
    this.logger.error(
      { err: error, threadId: slot.threadId, exitCode: code, requestId: task?.id },
      'worker exited; failing its request and starting a replacement',
    );
    if (task) this.settle(task, () => task.reject(error));
    this.replace();
  }

  private replace(): void {
    this.spawn().catch((error: unknown) => {
      this.restartFailures++;
      this.logger.error(
        { err: error, pool: this.options.name, restartFailures: this.restartFailures },
        'replacement worker failed to start',
      );
      if (this.restartFailures < (this.options.maxRestartFailures ?? 3)) return this.replace();
      this.giveUp(error);
    });
  }

  /** Fails every queued and later request once replacements keep failing. */
  private giveUp(error: unknown): void {
    this.failure = error instanceof Error ? error : new Error(String(error));
    if (this.hasReadyWorker()) return;
    for (const task of this.queue.splice(0)) this.settle(task, () => task.reject(this.failure));
  }

  private hasReadyWorker(): boolean {
    return this.readyWorkers > 0;
  }
}

/**
 * Starts a worker on `url`. A TypeScript entry (tests run the sources through tsx) gets a small
 * bootstrap that registers tsx's loader first, because Node 20 does not apply the parent's
 * `--import tsx` hooks to a worker's entry module.
 */
function createWorker(url: URL, workerData: unknown): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, { workerData });
  const bootstrap =
    `import('tsx/esm/api').then(({ register }) => { register(); ` +
    `return import(${JSON.stringify(url.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}
