import { watch, type FSWatcher } from 'node:fs';

import { silentLogger, type Logger } from '../core/logger.js';

/** Options for {@link ChangeNotifier}. */
export interface ChangeNotifierOptions {
  /** Maximum wait between checks when no change event arrives; default 250 ms. */
  pollIntervalMs?: number;
  logger?: Logger;
}

/**
 * Wakes readers that wait for a directory to change. fs.watch (inotify on Linux) makes wake-ups
 * prompt; the poll interval bounds the wait where events are missed or unsupported (network
 * file systems, exhausted inotify watches).
 */
export class ChangeNotifier {
  readonly #pollIntervalMs: number;
  readonly #waiters = new Set<() => void>();
  #watcher: FSWatcher | undefined;

  constructor(directory: string, options: ChangeNotifierOptions = {}) {
    this.#pollIntervalMs = options.pollIntervalMs ?? 250;
    const logger = options.logger ?? silentLogger;
    try {
      this.#watcher = watch(directory, { persistent: false }, () => this.notify());
      this.#watcher.on('error', (error) => {
        logger.warn({ err: error, directory }, 'directory watch failed; polling only');
        this.#watcher?.close();
        this.#watcher = undefined;
      });
    } catch (error) {
      logger.warn({ err: error, directory }, 'directory watch unavailable; polling only');
    }
  }

  /** Resolves at the next change, after the poll interval, or when `signal` aborts. */
  wait(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.#pollIntervalMs);
      signal?.addEventListener('abort', done, { once: true });
      this.#waiters.add(done);
    });
  }

  /** Wakes every waiter, for changes this process made itself. */
  notify(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
    this.notify();
  }
}
