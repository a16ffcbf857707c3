import { SequenceNotAppliedError } from './errors.js';

interface Waiter {
  seq: number;
  resolve: () => void;
}

/**
 * The sequence of the newest log entry a server has applied to its index, with waiting for a
 * given one: the read-your-writes check of a search or ask that carries the sequence its ingest
 * completed with.
 */
export class AppliedSequence {
  #value: number;
  #waiters: Waiter[] = [];

  /** `initial` is the sequence a loaded snapshot covers; default 0. */
  constructor(initial = 0) {
    this.#value = initial;
  }

  get value(): number {
    return this.#value;
  }

  /** Records that every entry up to `seq` is applied, and wakes the reads waiting for them. */
  advance(seq: number): void {
    if (seq <= this.#value) return;
    this.#value = seq;
    const ready = this.#waiters.filter((waiter) => waiter.seq <= seq);
    this.#waiters = this.#waiters.filter((waiter) => waiter.seq > seq);
    for (const waiter of ready) waiter.resolve();
  }

  /**
   * Resolves once `seq` is applied. Rejects with SequenceNotAppliedError (code SEQ_NOT_APPLIED)
   * after `timeoutMs`, or with the signal's reason when it aborts first.
   */
  waitFor(seq: number, options: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    if (seq <= this.#value) return Promise.resolve();
    const { timeoutMs, signal } = options;
    return new Promise((resolve, reject) => {
      const finish = (error?: unknown): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#waiters = this.#waiters.filter((candidate) => candidate !== waiter);
        if (error) reject(error);
        else resolve();
      };
      const onAbort = (): void => finish(signal?.reason);
      const waiter: Waiter = { seq, resolve: () => finish() };
      const timer = setTimeout(
        () => finish(new SequenceNotAppliedError(seq, this.#value, timeoutMs)),
        timeoutMs,
      );
      if (signal?.aborted) return finish(signal.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }
}
